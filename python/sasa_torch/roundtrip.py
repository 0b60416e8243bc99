"""The PyTorch half of the sasa -> PyTorch -> sasa round trip (tools/torch_twin_roundtrip.ts drives it).

  /usr/bin/python3 -m sasa_torch.roundtrip DIR      (PYTHONPATH=python)
DIR/cases.json: [{"config": sasa's camelCase ModelConfig}, ...]; per case i, DIR/i.safetensors (the
weights sasa exported) and DIR/i_x.safetensors (tensor 'x', the input [B, S, S, C] as sasa takes it).
Writes DIR/i_logits.safetensors ('logits' [B, classes], float32, eval mode) and DIR/i_torch.safetensors
(the weights as the twin holds them, written by save_safetensors).
"""
import json
import os
import sys

import torch

from .model import build_model
from .safetensors_io import load_safetensors, read_safetensors, save_safetensors, write_safetensors


def run_case(directory, i, config):
    net = build_model(config).eval()
    load_safetensors(net, os.path.join(directory, f"{i}.safetensors"))
    x = read_safetensors(os.path.join(directory, f"{i}_x.safetensors"))[0]["x"]
    with torch.no_grad():
        logits = net(x.permute(0, 3, 1, 2))
    write_safetensors(os.path.join(directory, f"{i}_logits.safetensors"), {"logits": logits})
    save_safetensors(net, os.path.join(directory, f"{i}_torch.safetensors"), {"generator": "sasa_torch.roundtrip"})


def main(argv):
    if len(argv) != 1:
        sys.exit("usage: python3 -m sasa_torch.roundtrip DIR")
    directory = argv[0]
    torch.set_num_threads(1)
    with open(os.path.join(directory, "cases.json")) as f:
        cases = json.load(f)
    for i, case in enumerate(cases):
        run_case(directory, i, case["config"])
    print(f"sasa_torch.roundtrip: {len(cases)} cases", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
