#!/usr/bin/python3
"""Per-epoch validation AP50 of the given run folders (metrics.jsonl), side by side, as a Markdown table.

Run: python3 results/shapes-detection/torch_recipe_table.py torch-twin-15epochs torch-recipe-adamw-levelbn-15 ...
(folders relative to this file's folder; a run's column header is its folder name less 'torch-recipe-').
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def ap50_by_epoch(folder):
    with open(os.path.join(HERE, folder, "metrics.jsonl")) as f:
        records = [json.loads(line) for line in f]
    return {r["epoch"] + 1: r["val_ap50"] for r in records if r["type"] == "epoch" and r["val_ap50"] is not None}


def main():
    folders = sys.argv[1:]
    curves = [ap50_by_epoch(f) for f in folders]
    names = [f.replace("torch-recipe-", "") for f in folders]
    print("| epoch (steps) | " + " | ".join(names) + " |")
    print("|---:|" + "---:|" * len(names))
    for epoch in range(1, max(max(c, default=0) for c in curves) + 1):
        cells = [f"{c[epoch]:.3f}" if epoch in c else "" for c in curves]
        print(f"| {epoch} ({epoch * 50}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
