"""Functional ops of the twin, channels-last ([B, H, W, C]) like sasa's ops, vectorised:

local_attention(q, k, v, rel_row, rel_col, ...)   src/ops/local_attention/kernel_ts.ts
    per pixel (i, j) and head n (channels [nD, (n+1)D), D = C/N), window (a, b) = (i+da-h, j+db-h),
    h = K//2, q^ = s*q:  logit[da, db] = q^.k_ab + q^.concat(rel_row[da], rel_col[db])   ('qk+qr';
    'qr' drops q^.k, 'qk' drops the relative term), y_ij = sum softmax(logit) v_ab. Outside the image
    k = v = 0 ('zeros') or the position is left out of the softmax ('masked'). s = D^-0.5 by default,
    1 for 'none', else the number. The relative embedding concat(rel_row, rel_col) [C] is split
    across heads like q.
sinusoidal_2d(H, W, C)                            src/layers/positional_encoding.ts
same_pad_nchw(x, k, s, value)                     TensorFlow's 'same': the extra row and column at
    the bottom and the right.
"""
import math

import torch
import torch.nn.functional as F


def scale_value(scale, channels, heads):
    """The multiplier of q: (C/N)^-0.5 when unset, 1 for 'none', else the number."""
    if scale is None:
        return (channels // heads) ** -0.5
    if scale == "none":
        return 1.0
    return float(scale)


def _windows(t, K):
    """[B, H, W, c] -> [B, H, W, K*K, c]: the K x K window around each pixel (zeros outside),
    offset index (da + h) * K + (db + h)."""
    B, H, W, _ = t.shape
    h = K // 2
    tp = F.pad(t, (0, 0, h, h, h, h))
    return torch.stack([tp[:, da:da + H, db:db + W, :] for da in range(K) for db in range(K)], dim=3)


def local_attention(q, k, v, rel_row, rel_col, kernel_size, heads, scale=None, padding="zeros", logits="qk+qr"):
    """Local self-attention of [B, H, W, C] q, k, v with tables rel_row, rel_col [K, C/2] -> [B, H, W, C]."""
    B, H, W, C = q.shape
    K, N = kernel_size, heads
    D = C // N
    s = scale_value(scale, C, N)
    qs = (q * s).reshape(B, H, W, N, D)
    vw = _windows(v, K).reshape(B, H, W, K * K, N, D)
    logit = torch.zeros(B, H, W, N, K * K, dtype=q.dtype, device=q.device)
    if logits in ("qk+qr", "qk"):
        kw = _windows(k, K).reshape(B, H, W, K * K, N, D)
        logit = logit + torch.einsum("bhwnd,bhwpnd->bhwnp", qs, kw)
    if logits in ("qk+qr", "qr"):
        half = C // 2
        r = torch.cat([rel_row[:, None, :].expand(K, K, half), rel_col[None, :, :].expand(K, K, half)], dim=-1)
        logit = logit + torch.einsum("bhwnd,pnd->bhwnp", qs, r.reshape(K * K, N, D))
    if padding == "masked":
        inside = _windows(torch.ones(1, H, W, 1, dtype=q.dtype, device=q.device), K).reshape(1, H, W, 1, K * K)
        logit = logit.masked_fill(inside == 0, float("-inf"))
    elif padding != "zeros":
        raise ValueError(f"local_attention: padding must be 'zeros' or 'masked', got '{padding}'")
    attn = torch.softmax(logit, dim=-1)
    return torch.einsum("bhwnp,bhwpnd->bhwnd", attn, vw).reshape(B, H, W, C)


def sinusoidal_2d(height, width, channels, dtype=None, device=None):
    """[H, W, C]: channels [sin(i w_t), cos(i w_t), sin(j w_t), cos(j w_t)], w_t = 10000^(-t/m), m = C/4."""
    if channels % 4:
        raise ValueError(f"sinusoidal_2d: channels must be divisible by 4, got {channels}")
    m = channels // 4
    w = torch.tensor([10000 ** (-t / m) for t in range(m)], dtype=torch.float64)
    i = torch.arange(height, dtype=torch.float64)[:, None] * w  # [H, m]
    j = torch.arange(width, dtype=torch.float64)[:, None] * w  # [W, m]
    rows = torch.cat([torch.sin(i), torch.cos(i)], dim=-1)[:, None, :].expand(height, width, 2 * m)
    cols = torch.cat([torch.sin(j), torch.cos(j)], dim=-1)[None, :, :].expand(height, width, 2 * m)
    return torch.cat([rows, cols], dim=-1).to(dtype=dtype or torch.get_default_dtype(), device=device)


def same_padding(size, kernel, stride):
    """(before, after) of TensorFlow's 'same' along one axis: the odd extra goes after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def same_pad_nchw(x, kernel, stride, value=0.0):
    """Pads [B, C, H, W] as TensorFlow's 'same' does for a kernel x kernel window with this stride."""
    top, bottom = same_padding(x.shape[2], kernel, stride)
    left, right = same_padding(x.shape[3], kernel, stride)
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


def avg_pool_same_2x2(x):
    """2 x 2 average pooling with stride 2, 'same' ([B, C, H, W]): an odd side's last window averages
    the pixels it covers (ceil mode; PyTorch divides by the covered count when padding is 0)."""
    return F.avg_pool2d(x, 2, 2, ceil_mode=True)
