#!/usr/bin/python3
"""torchvision 0.14 peer of bench/retinanet_loss.ts: times the same work on the inputs that script wrote.

  /usr/bin/python3 bench/retinanet_loss_torch.py DIR   (DIR holds boxes.f32, labels.i32, deltas.f32, logits{spread}.f32)
Loss + gradient: RetinaNet.compute_loss (Matcher + RetinaNetHead.compute_loss) and backward to both outputs;
postprocess: RetinaNet.postprocess_detections on the outputs split per level. Prints JSON
{"ms": {op: median ms}, "results": {op: [total, classification, box] or the detections' scores}}.
"""
import json
import os
import sys
import types

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_timing import load as load_from, ms as time_ms  # noqa: E402
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import RetinaNet, RetinaNetHead, _default_anchorgen

THREADS = 2
torch.set_num_threads(THREADS)
folder = sys.argv[1]
SIZE, CLASSES = 512, 80


def load(name, dtype=np.float32):
    return load_from(folder, name, dtype)


def ms(fn, runs):
    return time_ms(fn, runs, 0.5)


sizes = [(-(-SIZE // s), -(-SIZE // s)) for s in (8, 16, 32, 64, 128)]
anchors = _default_anchorgen()(ImageList(torch.zeros(1, 3, SIZE, SIZE), [(SIZE, SIZE)]),
                               [torch.zeros(1, 1, h, w) for h, w in sizes])
per_level = [h * w * 9 for h, w in sizes]
targets = [{"boxes": load("boxes.f32").reshape(-1, 4), "labels": load("labels.i32", np.int32).long()}]
deltas = load("deltas.f32").reshape(1, -1, 4)
model = types.SimpleNamespace(
    head=RetinaNetHead(8, 9, CLASSES), proposal_matcher=det_utils.Matcher(0.5, 0.4, allow_low_quality_matches=True),
    box_coder=det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0)), score_thresh=0.05, nms_thresh=0.5,
    detections_per_img=300, topk_candidates=1000)


def loss_and_gradient(logits):
    x = logits.clone().requires_grad_()
    r = deltas.clone().requires_grad_()
    losses = RetinaNet.compute_loss(model, targets, {"cls_logits": x, "bbox_regression": r}, anchors)
    total = losses["classification"] + losses["bbox_regression"]
    total.backward()
    return [float(total), float(losses["classification"]), float(losses["bbox_regression"])]


def postprocess(logits):
    with torch.no_grad():
        split = {"cls_logits": list(logits.split(per_level, dim=1)), "bbox_regression": list(deltas.split(per_level, dim=1))}
        return RetinaNet.postprocess_detections(model, split, [list(a.split(per_level)) for a in anchors], [(SIZE, SIZE)])[0]


out = {"ms": {}, "results": {"threads": [THREADS]}}
for spread in ("0.5", "1.2"):
    logits = load(f"logits{spread}.f32").reshape(1, -1, CLASSES)
    out["ms"][f"loss + gradient, spread {spread}"] = ms(lambda: loss_and_gradient(logits), 5)
    out["ms"][f"postprocess, spread {spread}"] = ms(lambda: postprocess(logits), 11)
    out["results"][f"loss + gradient, spread {spread}"] = loss_and_gradient(logits)
    out["results"][f"postprocess, spread {spread}"] = postprocess(logits)["scores"].tolist()
json.dump(out, sys.stdout)
