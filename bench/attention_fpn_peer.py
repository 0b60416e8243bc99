"""The unfold-based PyTorch peer of `sasa bench detection --fpn attention --train`: torchvision 0.14's
retinanet_resnet50_fpn (random init, its anchors, matcher, losses and transform set to S) with every 3x3 conv
of the FPN and the subnets replaced as in src/models/detection (SASA.md §5), by bench/torch_peer.py's
AttentionConv (pad + unfold local attention, k 7, 8 heads, d_out 256):
  FPN P3-P5:   AttentionConv                      (was the 3x3 layer block)
  P6, P7:      AttentionConv, then 2x2 average pooling   (was a stride-2 3x3 conv)
  subnets:     4 x (AttentionConv + ReLU), AttentionConv, 1x1 conv to A*n   (was 4 x (conv + ReLU), 3x3 conv)
One training step as bench/retinanet_peer.py's (same images and boxes, SGD lr 0.01 momentum 0.9 wd 1e-4);
cpu_ms: the median of the timed steps' process CPU time (all threads). --part backbone times only the ResNet-50
body's forward and backward on the same images (the share both steps have in common).
Unfold materialises k*k copies of keys and values at every level: at batch 2, 512 x 512 the step needs
well over the 23 GB of this machine, so the comparison runs at a size that fits (--size, --batch).

  /usr/bin/python3 bench/attention_fpn_peer.py [--batch 1] [--size 256] [--runs 1] [--warmup 1] [--part backbone]
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
from torchvision.models.detection import retinanet_resnet50_fpn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from retinanet_peer import targets, times_ms  # noqa: E402
from torch_peer import AttentionConv  # noqa: E402

CHANNELS, KERNEL, HEADS = 256, 7, 8


def attention(stride=1):
    layer = AttentionConv(CHANNELS, KERNEL, HEADS)
    return layer if stride == 1 else torch.nn.Sequential(layer, torch.nn.AvgPool2d(2))


def subnet_tower(depth=4):
    layers = []
    for _ in range(depth):
        layers += [attention(), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers, attention())


def attention_retinanet(classes, size):
    model = retinanet_resnet50_fpn(weights=None, weights_backbone=None, num_classes=classes,
                                   min_size=size, max_size=size)
    fpn = model.backbone.fpn
    fpn.layer_blocks = torch.nn.ModuleList(attention() for _ in fpn.layer_blocks)
    fpn.extra_blocks.p6 = attention(stride=2)
    fpn.extra_blocks.p7 = attention(stride=2)
    anchors = model.anchor_generator.num_anchors_per_location()[0]
    cls_head, reg_head = model.head.classification_head, model.head.regression_head
    cls_head.conv = subnet_tower()
    cls_head.cls_logits = torch.nn.Conv2d(CHANNELS, anchors * classes, 1)
    reg_head.conv = subnet_tower()
    reg_head.bbox_reg = torch.nn.Conv2d(CHANNELS, anchors * 4, 1)
    return model


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--classes", type=int, default=91)
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--part", choices=["step", "backbone"], default="step",
                   help="backbone: only the ResNet-50 body's forward and backward (C3-C5 summed), no update")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = attention_retinanet(a.classes, a.size).train()
    images = list(torch.randn(a.batch, 3, a.size, a.size))
    gt = targets(a.batch, a.size, a.classes)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        sum(model(images, gt).values()).backward()
        opt.step()

    def backbone_step():
        opt.zero_grad(set_to_none=True)
        sum(f.sum() for f in model.backbone.body(torch.stack(images)).values()).backward()

    cpu = []

    def timed_step():
        c0 = time.process_time()
        (step if a.part == "step" else backbone_step)()
        cpu.append((time.process_time() - c0) * 1000)

    t = times_ms(timed_step, a.runs, a.warmup)
    cpu = cpu[a.warmup:]
    print(json.dumps({"bench": "detection", "impl": "pytorch-unfold" if a.part == "step" else "pytorch-backbone", "model": "retinanet_resnet50_attnfpn",
                      "batch": a.batch, "size": a.size, "classes": a.classes, "train": True,
                      "median_ms": statistics.median(t), "min_ms": min(t), "cpu_ms": statistics.median(cpu),
                      "runs": a.runs,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "params": sum(p.numel() for p in model.parameters()),
                      "threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
