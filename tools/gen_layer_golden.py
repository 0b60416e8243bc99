#!/usr/bin/python3
"""Golden values for sasa's LocalSelfAttention2D layer with fixed weights, from PyTorch (float64).

The layer (src/layers/local_self_attention.ts, docs/SASA.md §1; ops from the PyTorch twin, python/sasa_torch) on x [B, H, W, d_in]:
  x' = x + sinusoidal(i, j)                         (positional 'absolute' only)
  q, k, v = x' Wq, x' Wk, x' Wv                     (dense, no bias; no Wk for logits 'qr')
  y = localAttention2d(q, k, v, relRow, relCol)     (sasa_torch.ops.local_attention)
  y = avgpool2x2(y)                                 (strides 2)
sinusoidal: m = C/4 frequencies w_t = 10000^(-t/m); channels [sin(i w), cos(i w), sin(j w), cos(j w)].
Backward: vector-Jacobian products of loss = sum(y * G) w.r.t. x and every weight.

Run: /usr/bin/python3 tools/gen_layer_golden.py > test/golden/local_self_attention_layer.json
JSON: {"generator", "torch", "cases": [{"name", "config" (the layer's arguments), "inputShape",
"x", "weights" (in the layer's weight order), "G", "y", "dx", "dWeights"}]} (flat row-major).
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "python"))
from gen_local_attention_golden import r9  # noqa: E402
from sasa_torch.ops import avg_pool_same_2x2, local_attention, sinusoidal_2d  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def layer(x, weights, cfg):
    positional = cfg.get("positional", "relative")
    logits = cfg.get("logits", "qk+qr" if positional == "relative" else "qk")
    it = iter(weights)
    wq = next(it)
    wk = next(it) if logits != "qr" else None
    wv = next(it)
    rel_row, rel_col = (next(it), next(it)) if positional == "relative" else (None, None)
    B, H, W, d_in = x.shape
    if positional == "absolute":
        x = x + sinusoidal_2d(H, W, d_in)
    q, v = x @ wq, x @ wv
    k = x @ wk if wk is not None else None
    y = local_attention(q, k, v, rel_row, rel_col, cfg["kernelSize"], cfg["heads"],
                            cfg.get("scale"), cfg.get("padding", "zeros"), logits)
    if cfg.get("strides", 1) == 2:
        y = avg_pool_same_2x2(y.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    return y


def weight_shapes(d_in, cfg):
    f, K = cfg["filters"], cfg["kernelSize"]
    positional = cfg.get("positional", "relative")
    shapes = [[d_in, f]]
    if cfg.get("logits") != "qr":
        shapes.append([d_in, f])
    shapes.append([d_in, f])
    if positional == "relative":
        shapes += [[K, f // 2], [K, f // 2]]
    return shapes


CASES = [
    ("relative_qkqr", [1, 4, 5, 6], {"filters": 8, "heads": 2, "kernelSize": 3}),
    ("relative_qr_masked", [2, 3, 4, 4], {"filters": 8, "heads": 4, "kernelSize": 5, "logits": "qr", "padding": "masked"}),
    ("absolute", [1, 4, 4, 8], {"filters": 4, "heads": 1, "kernelSize": 3, "positional": "absolute"}),
    ("none_scale_none", [1, 3, 5, 4], {"filters": 6, "heads": 3, "kernelSize": 3, "positional": "none", "scale": "none"}),
    ("relative_stride2", [1, 6, 5, 4], {"filters": 8, "heads": 2, "kernelSize": 3, "strides": 2}),
]


def main():
    out = {"generator": "tools/gen_layer_golden.py", "torch": torch.__version__, "cases": []}
    for idx, (name, shape, cfg) in enumerate(CASES):
        g = torch.Generator().manual_seed(1000 + idx)
        rnd = lambda s, sc: torch.tensor(r9(torch.randn(*s, generator=g) * sc)).reshape(s)  # noqa: E731
        x = rnd(shape, 1.0).requires_grad_(True)
        weights = [rnd(s, 0.4).requires_grad_(True) for s in weight_shapes(shape[3], cfg)]
        y = layer(x, weights, cfg)
        G = rnd(list(y.shape), 1.0)
        grads = torch.autograd.grad((y * G).sum(), [x, *weights])
        flat = lambda t: r9(t.detach())  # noqa: E731
        out["cases"].append({
            "name": name, "config": cfg, "inputShape": shape, "x": flat(x),
            "weights": [{"shape": list(w.shape), "values": flat(w)} for w in weights],
            "G": flat(G), "y": flat(y), "outputShape": list(y.shape),
            "dx": flat(grads[0]), "dWeights": [flat(t) for t in grads[1:]],
        })
    text = json.dumps(out, separators=(",", ":"))
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
