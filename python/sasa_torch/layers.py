"""torch.nn layers of the twin; NCHW in and out, PyTorch names and layouts as src/io/torch_names.ts maps them.

ConvSame              src/layers/conv2d.ts: k x k convolution without bias, TensorFlow 'same' padding.
MaxPoolSame           tfjs maxPooling2d 'same': -inf padding, the extra row and column at the bottom/right.
LocalSelfAttention2d  src/layers/local_self_attention.ts: x [B, d_in, H, W] -> [B, filters, H/s, W/s];
    q, k, v = x W^T (query/key/value.weight [filters, d_in], no bias; no key for logits 'qr'), after
    adding sinusoidal_2d for positional 'absolute'; rel_row, rel_col [K, filters/2] for 'relative';
    then 2 x 2 'same' average pooling when stride is 2.
AttentionStem         src/layers/attention_stem.ts: s x s blocks (s = 4), each pixel attends to its
    block (local attention with K = 2s-1, 'masked'); values 'mixture' (value.weight [m, F, d_in],
    v_ab = sum_m p(a,b,m) W_V^m x_ab, p = softmax_m((emb_row[a] + emb_col[b]) . emb_mix[m])), 'plain'
    (value.weight [F, d_in]) or 'conv' (value.weight [F, d_in, 3, 3], 'same'); then bn, pool x pool
    max pooling (pool = s or 1), ReLU.
"""
import torch
from torch import nn
import torch.nn.functional as F

from .ops import avg_pool_same_2x2, local_attention, same_pad_nchw, sinusoidal_2d


class ConvSame(nn.Conv2d):
    """Convolution without bias, padded as TensorFlow's 'same' (torchvision pads symmetrically instead)."""

    def __init__(self, cin, cout, kernel, stride=1):
        super().__init__(cin, cout, kernel, stride, padding=0, bias=False)

    def forward(self, x):
        return super().forward(same_pad_nchw(x, self.kernel_size[0], self.stride[0]))


class MaxPoolSame(nn.Module):
    def __init__(self, kernel, stride):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x):
        return F.max_pool2d(same_pad_nchw(x, self.kernel, self.stride, float("-inf")), self.kernel, self.stride)


def batch_norm(channels, decay, epsilon):
    """sasa's batch norm: moving = decay * moving + (1 - decay) * stat, i.e. PyTorch momentum 1 - decay."""
    return nn.BatchNorm2d(channels, eps=epsilon, momentum=1 - decay)


def _nhwc(x):
    return x.permute(0, 2, 3, 1)


def _nchw(x):
    return x.permute(0, 3, 1, 2)


class LocalSelfAttention2d(nn.Module):
    def __init__(self, cin, filters, kernel_size=7, heads=8, stride=1, positional="relative", logits=None,
                 padding="zeros", scale=None):
        super().__init__()
        if filters % heads:
            raise ValueError(f"LocalSelfAttention2d: filters {filters} must be divisible by heads {heads}")
        self.kernel_size, self.heads, self.stride = kernel_size, heads, stride
        self.positional, self.padding, self.scale = positional, padding, scale
        self.logits = logits or ("qk+qr" if positional == "relative" else "qk")
        self.query = nn.Linear(cin, filters, bias=False)
        self.key = nn.Linear(cin, filters, bias=False) if self.logits != "qr" else None
        self.value = nn.Linear(cin, filters, bias=False)
        if positional == "relative":
            std = (filters // heads) ** -0.5
            self.rel_row = nn.Parameter(torch.randn(kernel_size, filters // 2) * std)
            self.rel_col = nn.Parameter(torch.randn(kernel_size, filters // 2) * std)
        else:
            self.rel_row = self.rel_col = None

    def forward(self, x):
        x = _nhwc(x)
        if self.positional == "absolute":
            x = x + sinusoidal_2d(x.shape[1], x.shape[2], x.shape[3], x.dtype, x.device)
        k = self.key(x) if self.key is not None else None
        y = local_attention(self.query(x), k, self.value(x), self.rel_row, self.rel_col, self.kernel_size,
                            self.heads, self.scale, self.padding, self.logits)
        y = _nchw(y)
        return avg_pool_same_2x2(y) if self.stride == 2 else y


class _Weight(nn.Module):
    """Holds one parameter named 'weight' (the stem's mixture value matrices: value.weight [m, F, d_in])."""

    def __init__(self, shape):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(*shape) * shape[-1] ** -0.5)


class AttentionStem(nn.Module):
    def __init__(self, cin, filters=64, heads=4, block=4, values="mixture", mixtures=4, relative=True, pool=4,
                 decay=0.9, epsilon=1e-5):
        super().__init__()
        self.filters, self.heads, self.block, self.values, self.pool = filters, heads, block, values, pool
        self.query = nn.Linear(cin, filters, bias=False)
        self.key = nn.Linear(cin, filters, bias=False)
        e = max(1, filters // heads)
        if values == "mixture":
            self.value = _Weight([mixtures, filters, cin])
            self.emb_row = nn.Parameter(torch.randn(block, e) * e ** -0.5)
            self.emb_col = nn.Parameter(torch.randn(block, e) * e ** -0.5)
            self.emb_mix = nn.Parameter(torch.randn(mixtures, e) * e ** -0.5)
        elif values == "conv":
            self.value = ConvSame(cin, filters, 3)
        else:
            self.value = nn.Linear(cin, filters, bias=False)
        if relative:
            std = (filters // heads) ** -0.5
            self.rel_row = nn.Parameter(torch.randn(2 * block - 1, filters // 2) * std)
            self.rel_col = nn.Parameter(torch.randn(2 * block - 1, filters // 2) * std)
        else:
            self.rel_row = self.rel_col = None
        self.bn = batch_norm(filters, decay, epsilon)

    def mixture_weights(self):
        """p [s*s, m] = softmax_m((emb_row[a] + emb_col[b]) . emb_mix[m]), position a*s + b."""
        s = self.block
        pos = (self.emb_row[:, None, :] + self.emb_col[None, :, :]).reshape(s * s, -1)
        return torch.softmax(pos @ self.emb_mix.T, dim=-1)

    def _blocks(self, x):
        """[B, H, W, c] -> [B*(H/s)*(W/s), s, s, c]."""
        B, H, W, c = x.shape
        s = self.block
        return x.reshape(B, H // s, s, W // s, s, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, s, s, c)

    def _image(self, y, B, H, W):
        s, c = self.block, y.shape[-1]
        return y.reshape(B, H // s, W // s, s, s, c).permute(0, 1, 3, 2, 4, 5).reshape(B, H, W, c)

    def _values(self, x, xb):
        s = self.block
        if self.values == "mixture":
            w = torch.einsum("pm,moi->poi", self.mixture_weights(), self.value.weight)  # W_V(a, b) [s*s, F, d_in]
            n = xb.shape[0]
            return torch.einsum("npi,poi->npo", xb.reshape(n, s * s, -1), w).reshape(n, s, s, -1)
        if self.values == "conv":
            return self._blocks(_nhwc(self.value(x)))
        return self.value(xb)

    def forward(self, x):
        B, _, H, W = x.shape
        s = self.block
        if H % s or W % s:
            raise ValueError(f"AttentionStem: input height and width [{H},{W}] must be multiples of block {s}")
        xb = self._blocks(_nhwc(x))
        y = local_attention(self.query(xb), self.key(xb), self._values(x, xb), self.rel_row, self.rel_col,
                            2 * s - 1, self.heads, None, "masked",
                            "qk+qr" if self.rel_row is not None else "qk")
        y = self.bn(_nchw(self._image(y, B, H, W)))
        if self.pool > 1:
            y = F.max_pool2d(y, self.pool, self.pool)
        return torch.relu(y)
