"""torchvision 0.14's retinanet_resnet50_fpn on the case of `sasa bench detection` (src/bench/detection_case.ts):
random init (BatchNorm2d, every layer trainable), images [B, 3, S, S] seeded normal, the transform set to
S (no resizing), three fixed boxes per image (BENCH_BOXES). --train: one step (losses summed, backward,
SGD lr 0.01 momentum 0.9 weight decay 1e-4); otherwise eval-mode inference, post-processing included.
Prints one JSON object: median_ms, min_ms, peak_rss_mb.

  /usr/bin/python3 bench/retinanet_peer.py [--batch 2] [--size 512] [--classes 91] [--train] [--runs 3]
"""
import argparse
import json
import resource
import statistics
import time

import torch
from torchvision.models.detection import retinanet_resnet50_fpn

BENCH_BOXES = [(0.1, 0.1, 0.4, 0.5), (0.5, 0.2, 0.9, 0.6), (0.3, 0.55, 0.7, 0.95)]


def targets(batch, size, classes):
    boxes = torch.tensor(BENCH_BOXES, dtype=torch.float32) * size
    return [{"boxes": boxes.clone(), "labels": torch.tensor([(i * 7 + j * 13) % classes for j in range(3)])}
            for i in range(batch)]


def times_ms(fn, runs, warmup):
    """Every timed run's milliseconds after `warmup` untimed runs."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--classes", type=int, default=91)
    p.add_argument("--train", action="store_true")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = retinanet_resnet50_fpn(weights=None, weights_backbone=None, num_classes=a.classes,
                                   min_size=a.size, max_size=a.size)
    images = list(torch.randn(a.batch, 3, a.size, a.size))
    if a.train:
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
        gt = targets(a.batch, a.size, a.classes)

        def step():
            opt.zero_grad(set_to_none=True)
            sum(model(images, gt).values()).backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                model(images)
    t = times_ms(step, a.runs, a.warmup)
    print(json.dumps({"bench": "detection", "impl": "torchvision", "model": "retinanet_resnet50_fpn",
                      "batch": a.batch, "size": a.size, "classes": a.classes, "train": a.train,
                      "median_ms": statistics.median(t), "min_ms": min(t), "runs": a.runs,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
