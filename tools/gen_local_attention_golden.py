#!/usr/bin/python3
"""Golden values for sasa's local self-attention op, from an independent PyTorch reference.

What it computes
----------------
For the channels-last op `localAttention2d(q, k, v, relRow, relCol, options)` (docs/SASA.md §1):

  q, k, v: [B, H, W, C]; relRow, relCol: [K, C/2]; K = kernelSize (odd), h = K // 2;
  N heads, D = C / N, head n uses channels [n*D, (n+1)*D) of q, k, v and r.
  r(da, db) = concat(relRow[da + h], relCol[db + h])        (da = a - i, db = b - j in [-h, h])
  s = D**-0.5 (scale=None), 1 (scale='none') or the given number; q is multiplied by s.
  logit(i,j,a,b,n) = s*q_ij[n].k_ab[n] + s*q_ij[n].r(a-i,b-j)[n]      ('qk+qr', default)
                   = s*q_ij[n].r(a-i,b-j)[n]                           ('qr': k unused)
                   = s*q_ij[n].k_ab[n]                                 ('qk': relRow/relCol unused)
  window: all (a, b) with |a-i| <= h, |b-j| <= h.
  padding 'zeros': out-of-image (a, b) have k = v = 0 and still take part in the softmax;
  padding 'masked': out-of-image (a, b) are excluded from the softmax.
  y_ij[n] = sum_ab softmax_ab(logit) * v_ab[n]        -> y: [B, H, W, C]

Backward values are vector-Jacobian products: with a fixed random G of y's shape,
loss = sum(y * G) and dq, dk, dv, dRelRow, dRelCol = d loss / d input (torch.autograd).
Everything is computed in float64; inputs and G are rounded to 9 significant digits before use (so
the stored outputs belong exactly to the stored inputs); outputs are written rounded the same way.

The vectorised reference is the op of the PyTorch twin (python/sasa_torch/ops.py).

Self-checks (run every time, before anything is written): a second, differently written
implementation (per-pixel, per-head scalar loops with explicit bounds tests, manual softmax,
no padding/gather) must agree with the vectorised one to 1e-10 in y and in all gradients on a
subset of the cases, and torch.autograd.gradcheck passes on a few tiny cases.

How to run (Debian's PyTorch; the `python3` on PATH has no torch):
  /usr/bin/python3 tools/gen_local_attention_golden.py > test/golden/local_attention.json
  /usr/bin/python3 tools/gen_local_attention_golden.py test/golden/local_attention.json
Deterministic: rerunning gives an identical file (seeded torch.Generator per case, CPU float64).

JSON layout: {"generator", "torch", "cases": [{"name", "shape": [B,H,W,C], "kernelSize",
"heads", "scale": number | "none" | null (= default D**-0.5), "scaleValue" (the s actually
used), "padding", "logits", "q", "k", "v", "relRow", "relCol", "G", "y", "dq", "dk", "dv",
"dRelRow", "dRelCol"}]}; arrays are flat row-major, null where the input is unused.
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from sasa_torch.ops import local_attention, scale_value  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

GENERATOR = "tools/gen_local_attention_golden.py"


# ---------------------------------------------------------------------------
# Reference 1: the PyTorch twin's op (python/sasa_torch/ops.py: zero-pad, K*K shifted windows,
# per-head einsum), the one reference implementation of the op
# ---------------------------------------------------------------------------
local_attention_ref = local_attention


# ---------------------------------------------------------------------------
# Reference 2: per-pixel scalar loops, bounds tests instead of padding, manual softmax
# ---------------------------------------------------------------------------
def local_attention_loops(q, k, v, rel_row, rel_col, K, N, scale, padding, logits):
    B, H, W, C = q.shape
    h = K // 2
    D = C // N
    half = C // 2
    s = scale_value(scale, C, N)
    out = []
    for b in range(B):
        for i in range(H):
            for j in range(W):
                for n in range(N):
                    chans = range(n * D, (n + 1) * D)
                    terms = []  # (logit, value vector or None for a zero vector)
                    for a in range(i - h, i + h + 1):
                        for bb in range(j - h, j + h + 1):
                            inside = 0 <= a < H and 0 <= bb < W
                            if not inside and padding == "masked":
                                continue
                            lg = torch.zeros(())
                            for c in chans:
                                qc = q[b, i, j, c] * s
                                if logits in ("qk+qr", "qk") and inside:
                                    lg = lg + qc * k[b, a, bb, c]
                                if logits in ("qk+qr", "qr"):
                                    rc = rel_row[a - i + h, c] if c < half else rel_col[bb - j + h, c - half]
                                    lg = lg + qc * rc
                            terms.append((lg, v[b, a, bb, n * D:(n + 1) * D] if inside else None))
                    m = max(float(t[0]) for t in terms)
                    ws = [torch.exp(t[0] - m) for t in terms]
                    z = sum(ws)
                    acc = torch.zeros(D)
                    for w, (_, vv) in zip(ws, terms):
                        if vv is not None:
                            acc = acc + (w / z) * vv
                    out.append(acc)
    return torch.stack(out).reshape(B, H, W, C)


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------
def case(name, B, H, W, C, K, N, scale=None, padding="zeros", logits="qk+qr"):
    assert K % 2 == 1 and K >= 1 and C % N == 0 and C % 2 == 0
    return dict(name=name, shape=[B, H, W, C], kernelSize=K, heads=N, scale=scale,
                padding=padding, logits=logits)


CASES = [
    # every logits variant x padding, K=3, default scale
    case("k3_qkqr_zeros", 1, 4, 5, 8, 3, 2),
    case("k3_qkqr_masked", 1, 4, 5, 8, 3, 2, padding="masked"),
    case("k3_qr_zeros", 1, 4, 5, 8, 3, 2, logits="qr"),
    case("k3_qr_masked", 1, 4, 5, 8, 3, 2, padding="masked", logits="qr"),
    case("k3_qk_zeros", 1, 4, 5, 8, 3, 2, logits="qk"),
    case("k3_qk_masked", 1, 4, 5, 8, 3, 2, padding="masked", logits="qk"),
    # scale: 'none' and a number, across variants
    case("k3_scale_none_qkqr_zeros", 1, 3, 4, 8, 3, 2, scale="none"),
    case("k3_scale_none_qr_masked", 1, 3, 4, 8, 3, 2, scale="none", padding="masked", logits="qr"),
    case("k3_scale_0.3_qkqr_masked", 1, 3, 4, 8, 3, 2, scale=0.3, padding="masked"),
    case("k3_scale_0.3_qk_zeros", 1, 3, 4, 8, 3, 2, scale=0.3, logits="qk"),
    case("k3_scale_0.3_qr_zeros", 1, 3, 4, 4, 3, 1, scale=0.3, logits="qr"),
    # kernel size 1
    case("k1_qkqr_zeros", 1, 3, 3, 4, 1, 1),
    case("k1_qkqr_masked", 1, 3, 3, 4, 1, 2, padding="masked"),
    case("k1_qr_zeros", 1, 2, 3, 4, 1, 2, logits="qr"),
    # kernel sizes 5 and 7, odd image 5x7
    case("k5_5x7_qkqr_zeros", 1, 5, 7, 4, 5, 2),
    case("k5_5x7_qkqr_masked", 1, 5, 7, 4, 5, 2, padding="masked"),
    case("k7_5x7_qkqr_zeros", 1, 5, 7, 4, 7, 1),
    case("k7_5x7_qr_masked", 1, 5, 7, 4, 7, 2, padding="masked", logits="qr"),
    case("k5_5x7_qk_masked", 1, 5, 7, 4, 5, 1, padding="masked", logits="qk"),
    # kernel larger than the image
    case("k5_3x2_qkqr_zeros", 1, 3, 2, 8, 5, 2),
    case("k5_3x2_qkqr_masked", 1, 3, 2, 8, 5, 2, padding="masked"),
    case("k5_3x2_qr_zeros_scale_none", 1, 3, 2, 8, 5, 4, scale="none", logits="qr"),
    case("k7_1x1_qkqr_zeros", 1, 1, 1, 8, 7, 2),
    case("k7_1x1_qkqr_masked", 1, 1, 1, 8, 7, 2, padding="masked"),
    case("k7_1x1_qr_zeros", 1, 1, 1, 4, 7, 1, logits="qr"),
    case("k7_1x1_qk_zeros", 1, 1, 1, 4, 7, 2, logits="qk"),
    # 1x1 image
    case("k1_1x1_qkqr_zeros", 1, 1, 1, 4, 1, 1),
    case("k3_1x1_qkqr_masked", 2, 1, 1, 4, 3, 2, padding="masked"),
    # heads / channel splits
    case("heads1_c12_k3", 1, 3, 3, 12, 3, 1),
    case("heads4_c8_k3_D2", 1, 3, 4, 8, 3, 4),
    case("heads4_c4_k3_D1", 1, 3, 3, 4, 3, 4, padding="masked"),
    case("heads2_c6_k3_D3", 1, 3, 4, 6, 3, 2),
    case("heads3_c12_k3_straddle", 1, 3, 3, 12, 3, 3),
    case("heads3_c12_k5_straddle_qr_masked", 1, 3, 3, 12, 5, 3, padding="masked", logits="qr"),
    # batch 2
    case("b2_k3_qkqr_zeros", 2, 3, 4, 4, 3, 2),
    case("b2_k3_qkqr_masked_scale_0.3", 2, 3, 3, 4, 3, 1, scale=0.3, padding="masked"),
    case("b2_k5_qk_zeros_heads4", 2, 2, 3, 8, 5, 4, logits="qk"),
]

# Cases re-computed by the loop implementation (y and all gradients), and gradchecked.
LOOP_CHECK = ["k3_qkqr_zeros", "k3_qkqr_masked", "k3_qr_zeros", "k3_qk_masked", "k3_scale_0.3_qr_zeros",
              "k1_qkqr_masked", "k5_3x2_qkqr_zeros", "k5_3x2_qkqr_masked", "k7_1x1_qkqr_zeros",
              "k7_1x1_qr_zeros", "k7_1x1_qk_zeros", "heads3_c12_k3_straddle", "k3_1x1_qkqr_masked",
              "heads3_c12_k5_straddle_qr_masked", "b2_k3_qkqr_zeros"]
GRADCHECK = ["k3_1x1_qkqr_masked", "k5_3x2_qkqr_zeros", "k1_qr_zeros"]


def make_inputs(idx, c):
    B, H, W, C = c["shape"]
    K = c["kernelSize"]
    g = torch.Generator().manual_seed(1000 + idx)
    q = torch.randn(B, H, W, C, generator=g) * 0.5
    k = torch.randn(B, H, W, C, generator=g) * 0.5
    v = torch.randn(B, H, W, C, generator=g) * 0.5
    rr = torch.randn(K, C // 2, generator=g) * 0.3
    rc = torch.randn(K, C // 2, generator=g) * 0.3
    G = torch.randn(B, H, W, C, generator=g)
    # round the inputs to what the file stores, so the stored outputs are exact for the stored inputs
    rnd = lambda t: torch.tensor(r9(t)).reshape(t.shape)
    q, k, v, rr, rc, G = map(rnd, (q, k, v, rr, rc, G))
    inp = {"q": q, "k": k, "v": v, "relRow": rr, "relCol": rc}
    if c["logits"] == "qr":
        inp["k"] = None
    if c["logits"] == "qk":
        inp["relRow"] = inp["relCol"] = None
    return inp, G


NAMES = ["q", "k", "v", "relRow", "relCol"]
GRAD_NAMES = {"q": "dq", "k": "dk", "v": "dv", "relRow": "dRelRow", "relCol": "dRelCol"}


def forward_backward(fn, c, inp, G):
    leaves = {n: (t.clone().requires_grad_(True) if t is not None else None) for n, t in inp.items()}
    y = fn(leaves["q"], leaves["k"], leaves["v"], leaves["relRow"], leaves["relCol"],
           c["kernelSize"], c["heads"], c["scale"], c["padding"], c["logits"])
    used = [n for n in NAMES if leaves[n] is not None]
    grads = torch.autograd.grad((y * G).sum(), [leaves[n] for n in used])
    out = {GRAD_NAMES[n]: None for n in NAMES}
    for n, gr in zip(used, grads):
        out[GRAD_NAMES[n]] = gr
    return y.detach(), out


def r9(t):
    if t is None:
        return None
    return [float(f"{x:.9g}") for x in t.reshape(-1).tolist()]


def self_check(results):
    by_name = {c["name"]: (c, inp, G, y, gr) for c, inp, G, y, gr in results}
    for name in LOOP_CHECK:
        c, inp, G, y, gr = by_name[name]
        y2, gr2 = forward_backward(local_attention_loops, c, inp, G)
        err = (y - y2).abs().max().item()
        assert err < 1e-10, (name, "y", err)
        for n, t in gr.items():
            if t is None:
                assert gr2[n] is None
                continue
            err = (t - gr2[n]).abs().max().item()
            assert err < 1e-10, (name, n, err)
    for name in GRADCHECK:
        c, inp, G, y, gr = by_name[name]
        used = [n for n in NAMES if inp[n] is not None]

        def f(*ts, c=c, used=used):
            d = dict(zip(used, ts))
            return local_attention_ref(d["q"], d.get("k"), d["v"], d.get("relRow"), d.get("relCol"),
                                       c["kernelSize"], c["heads"], c["scale"], c["padding"], c["logits"])

        args = tuple(inp[n].clone().requires_grad_(True) for n in used)
        assert torch.autograd.gradcheck(f, args, eps=1e-6, atol=1e-7, rtol=1e-6), name
    # structural checks: softmax rows sum to one => y equals v for K=1 'masked'/'zeros' (single in-image
    # position, weight 1); with 'masked' on a 1x1 image y == v for any K.
    for name in ("k1_qkqr_zeros", "k1_qkqr_masked", "k1_qr_zeros", "k1_1x1_qkqr_zeros", "k7_1x1_qkqr_masked",
                 "k3_1x1_qkqr_masked"):
        c, inp, G, y, gr = by_name[name]
        assert (y - inp["v"]).abs().max().item() < 1e-14, name


def main():
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names)
    results = []
    for idx, c in enumerate(CASES):
        B, H, W, C = c["shape"]
        assert B * H * W * C <= 500, c["name"]
        inp, G = make_inputs(idx, c)
        y, gr = forward_backward(local_attention_ref, c, inp, G)
        results.append((c, inp, G, y, gr))
    self_check(results)

    cases = []
    for c, inp, G, y, gr in results:
        B, H, W, C = c["shape"]
        e = dict(c)
        e["scaleValue"] = float(f"{scale_value(c['scale'], C, c['heads']):.17g}")
        for n in NAMES:
            e[n] = r9(inp[n])
        e["G"] = r9(G)
        e["y"] = r9(y)
        for n in NAMES:
            e[GRAD_NAMES[n]] = r9(gr[GRAD_NAMES[n]])
        cases.append(e)
    doc = {"generator": GENERATOR, "torch": torch.__version__, "cases": cases}
    text = json.dumps(doc, separators=(",", ":")) + "\n"
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as f:
            f.write(text)
        print(f"wrote {sys.argv[1]}: {len(cases)} cases, {len(text)} bytes", file=sys.stderr)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
