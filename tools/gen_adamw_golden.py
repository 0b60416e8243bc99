#!/usr/bin/python3
"""Golden AdamW steps from PyTorch's torch.optim.AdamW (torch 1.13), for sasa's AdamW (src/tasks/training/adamw.ts).

Two tensors as sasa's detection trainer groups them: `kernel` [3, 4] (rank 2: decoupled weight decay λ) and `bias`
[4] (rank 1: no decay), betas (0.9, 0.999), eps 1e-8; four steps with the learning rates `lrs` and the seeded
random gradients `grads` (one [kernel, bias] pair per step, set as .grad before each step).
Output: test/golden/training/adamw.json {"generator", "torch", "weightDecay", "lrs", "initial", "grads", "after"
(the weights after each step)}, float64 values of float32 tensors, 9 significant digits.

Run: /usr/bin/python3 tools/gen_adamw_golden.py && npx biome format --write test/golden/training/adamw.json
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "golden", "training", "adamw.json")
WEIGHT_DECAY = 0.05
LRS = [0.01, 0.02, 0.005, 0.03]


def r9(t):
    return [float(f"{x:.9g}") for x in t.detach().reshape(-1).tolist()]


def main():
    g = torch.Generator().manual_seed(0)
    kernel = torch.randn(3, 4, generator=g).requires_grad_()
    bias = torch.randn(4, generator=g).requires_grad_()
    initial = {"kernel": r9(kernel), "bias": r9(bias)}
    optimizer = torch.optim.AdamW(
        [{"params": [kernel], "weight_decay": WEIGHT_DECAY}, {"params": [bias], "weight_decay": 0.0}],
        lr=LRS[0], betas=(0.9, 0.999), eps=1e-8,
    )
    grads, after = [], []
    for lr in LRS:
        gk = torch.randn(3, 4, generator=g) * 0.1
        gb = torch.randn(4, generator=g)
        kernel.grad, bias.grad = gk.clone(), gb.clone()
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        grads.append({"kernel": r9(gk), "bias": r9(gb)})
        after.append({"kernel": r9(kernel), "bias": r9(bias)})
    out = {"generator": "tools/gen_adamw_golden.py", "torch": torch.__version__, "weightDecay": WEIGHT_DECAY,
           "lrs": LRS, "initial": initial, "grads": grads, "after": after}
    with open(OUT, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
