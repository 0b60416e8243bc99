#!/usr/bin/python3
"""torchvision 0.14 peer of bench/detection_boxes.ts: times the same ops on the inputs that script wrote.

  /usr/bin/python3 bench/detection_boxes_torch.py DIR   (DIR holds gt.f32, anchors{512,800}.f32,
  boxes{n}.f32, scores{n}.f32, classes{n}.i32); prints JSON {"ms": {op: median ms}, "results": {op: list}}.
torch runs single-threaded, like the TypeScript it is compared with.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_timing import load as load_from, ms as time_ms  # noqa: E402
from torchvision.models.detection import _utils as det_utils
from torchvision.ops import batched_nms, box_iou, nms

torch.set_num_threads(1)
folder = sys.argv[1]


def load(name, dtype=np.float32):
    return load_from(folder, name, dtype)


def ms(fn, runs):
    return time_ms(fn, runs, 0.2)


matcher = det_utils.Matcher(0.5, 0.4, allow_low_quality_matches=True)
gt = load("gt.f32").reshape(-1, 4)
out = {"ms": {}, "results": {}}
for size in (512, 800):
    anchors = load(f"anchors{size}.f32").reshape(-1, 4)
    out["ms"][f"iou {size} ({len(anchors)} anchors x 20)"] = ms(lambda: box_iou(gt, anchors), 15)
    out["ms"][f"match {size}"] = ms(lambda: matcher(box_iou(gt, anchors)), 15)
    out["results"][f"match {size}"] = matcher(box_iou(gt, anchors)).tolist()
for n in (1000, 5000, 10000):
    boxes, scores = load(f"boxes{n}.f32").reshape(-1, 4), load(f"scores{n}.f32")
    classes = load(f"classes{n}.i32", np.int32).long()
    out["ms"][f"nms {n}"] = ms(lambda: nms(boxes, scores, 0.5), 11)
    out["ms"][f"batched nms {n}"] = ms(lambda: batched_nms(boxes, scores, classes, 0.5), 11)
    out["results"][f"nms {n}"] = nms(boxes, scores, 0.5).tolist()
    out["results"][f"batched nms {n}"] = batched_nms(boxes, scores, classes, 0.5).tolist()
json.dump(out, sys.stdout)
