#!/usr/bin/python3
"""Golden logits of the PyTorch twin (python/sasa_torch) for conv-stem networks, so that the suite checks,
without Python, that sasa and the twin compute the same function where the padding conventions matter:
a 7x7/2 stem convolution, a 3x3/2 max pool and 3x3/2 convolutions on even sides ('same': the extra row
and column at the bottom and right), and attention blocks with absolute positions and 'masked' padding.

Cases (blocks [1, 1, 1, 1], widths x 0.0625 -> 8, 8, 16, 32, input 32 x 32 x 3, 5 classes, batch 2):
  resnet26_small           resnet26: conv stem, 3x3 convolutions (32 -> 16 -> 8 -> 8, 4, 2, 1)
  convstem_absolute_masked sasa_resnet26_convstem, attention k 3, 2 heads, positional 'absolute', 'masked'
Weights: the twin's initialisation (seeded), then every BN weight, bias and statistic random (gammas
non-zero) and the fc bias random; all rounded to float32 and stored by PyTorch name
(test/golden/torch_twin/<name>.safetensors). The network runs in float64, eval mode (running stats).
cases.json: {"generator", "torch", "cases": [{"name", "model", "config" (createModel overrides),
"weights", "inputShape" [B, S, S, C], "x" (NHWC, flat), "logits" (flat [B, classes])}]}, 9 digits.

Run: /usr/bin/python3 tools/gen_torch_twin_golden.py && npx biome format --write test/golden/torch_twin/cases.json
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "python"))
from gen_local_attention_golden import r9  # noqa: E402
from sasa_torch import create_model  # noqa: E402
from sasa_torch.safetensors_io import state_of, write_safetensors  # noqa: E402

GENERATOR = "tools/gen_torch_twin_golden.py"
OUT = os.path.join(HERE, "..", "test", "golden", "torch_twin")
SMALL = {"widthMultiplier": 0.0625, "blocks": [1, 1, 1, 1], "inputSize": 32, "classes": 5}
CASES = [
    ("resnet26_small", "resnet26", SMALL),
    ("convstem_absolute_masked", "sasa_resnet26_convstem",
     {**SMALL, "attention": {"kernelSize": 3, "heads": 2, "positional": "absolute", "padding": "masked"}}),
]
BATCH = 2


def randomise(net, g):
    """BN weights, biases and statistics and the fc bias random; everything rounded to float32."""
    with torch.no_grad():
        for name, t in state_of(net).items():
            shape = t.shape
            if name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(shape, generator=g))
            elif name.endswith("running_mean") or name.endswith("bias"):
                t.copy_(0.2 * (torch.rand(shape, generator=g) - 0.5))
            elif t.ndim == 1:  # BN gammas: non-zero, a few negative
                sign = torch.where(torch.rand(shape, generator=g) < 0.15, -1.0, 1.0)
                t.copy_((0.5 + 0.5 * torch.rand(shape, generator=g)) * sign)
            t.copy_(t.to(torch.float32))


def main():
    torch.set_num_threads(1)
    doc = {"generator": GENERATOR, "torch": torch.__version__, "cases": []}
    for i, (name, model, config) in enumerate(CASES):
        torch.manual_seed(2019 + i)
        g = torch.Generator().manual_seed(611 + i)
        net = create_model(model, config).to(torch.float64).eval()
        randomise(net, g)
        S = config["inputSize"]
        x = (2 * torch.rand(BATCH, S, S, 3, generator=g) - 1).to(torch.float32).to(torch.float64)
        with torch.no_grad():
            logits = net(x.permute(0, 3, 1, 2))
        write_safetensors(os.path.join(OUT, f"{name}.safetensors"), state_of(net), {"generator": GENERATOR})
        doc["cases"].append({"name": name, "model": model, "config": config, "weights": f"{name}.safetensors",
                             "inputShape": [BATCH, S, S, 3], "x": r9(x), "logits": r9(logits)})
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        f.write(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {len(CASES)} cases to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
