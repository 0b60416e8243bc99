#!/usr/bin/python3
"""Golden values for RetinaNet's training losses and post-processing (src/tasks/detection/) from torchvision 0.14.

Run: /usr/bin/python3 tools/gen_retinanet_loss_golden.py   (writes test/golden/detection/retinanet_loss.json.gz)
A batch of 3 images padded to 128×128 (resized sizes 128×128, 112×96, 128×100), K = 3 classes, RetinaNet's
anchors (3069 per image). Image 0 has five boxes, one of them 10×12 (below every anchor's 0.4 IoU: matched
only as a low-quality match), image 1 none, image 2 two. Random head outputs: `clsLogits` [B, A, K] and
`boxRegression` [B, A, 4] with short decimals (exact float32 in their shortest form). The logits are
below logit(0.05) - 0.25 except ~1600 candidates per image with distinct values in [-2.9, 3] (1300 on P3,
so its top-1000 cut is exercised); the generator checks that nudging the score and NMS thresholds changes
no detection (by 1e-4 and 1e-5), so there are no near-ties. Fields (flat, row-major):
  imageSize [H, W] (padded), imageSizes [[h, w]] per image, numClasses, perLevel (anchors per level),
  anchors [A, 4], clsLogits, boxRegression, targets [{boxes xyxy, labels}], matches [B, A] (Matcher on IoU),
  loss {classification, boxRegression} (RetinaNetHead.compute_loss), detections [{boxes, scores, labels}]
  (RetinaNet.postprocess_detections with its defaults), defaults (the thresholds used).
"""
import gzip
import json
import os
import types

import numpy as np
import torch
import torchvision
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import RetinaNet, RetinaNetHead, _default_anchorgen
from torchvision.ops import boxes as box_ops

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "golden", "detection")
torch.set_num_threads(1)

PADDED = (128, 128)
IMAGE_SIZES = [(128, 128), (112, 96), (128, 100)]
STRIDES = (8, 16, 32, 64, 128)
NUM_CLASSES = 3
DEFAULTS = {"scoreThreshold": 0.05, "topkCandidates": 1000, "nmsThreshold": 0.5, "detectionsPerImage": 300}


def floats(t):
    """float32 values in their shortest form (each parses back to the same float32)."""
    out = []
    for v in np.asarray(t, dtype=np.float32).reshape(-1):
        x = float(np.format_float_positional(v, unique=True, trim="-"))
        assert np.float32(x) == v, (x, v)
        out.append(int(x) if x == int(x) else x)
    return out


def ints(t):
    return [int(v) for v in torch.as_tensor(t).reshape(-1)]


def decimals(t, places):
    """Rounded to `places` decimals, as float32."""
    return torch.from_numpy(np.round(t.double().numpy(), places).astype(np.float32))


def anchors_of_batch():
    feature_sizes = [(-(-PADDED[0] // s), -(-PADDED[1] // s)) for s in STRIDES]
    image = torch.zeros(len(IMAGE_SIZES), 3, *PADDED)
    features = [torch.zeros(len(IMAGE_SIZES), 1, h, w) for h, w in feature_sizes]
    anchors = _default_anchorgen()(ImageList(image, IMAGE_SIZES), features)
    per_level = [h * w * 9 for h, w in feature_sizes]
    return anchors, per_level


def image_targets():
    boxes = [
        [[10.0, 12.0, 60.0, 70.0], [50.0, 30.0, 118.0, 90.0], [70.5, 80.25, 80.5, 92.25], [5.0, 60.0, 40.0, 126.0],
         [20.0, 20.0, 110.0, 100.0]],
        [],
        [[30.0, 10.0, 90.0, 50.0], [8.0, 64.0, 72.0, 120.0]],
    ]
    labels = [[0, 2, 1, 2, 0], [], [1, 1]]
    return [{"boxes": torch.tensor(b, dtype=torch.float32).reshape(-1, 4), "labels": torch.tensor(l, dtype=torch.int64)}
            for b, l in zip(boxes, labels)]


def head_outputs(g, per_level):
    total = sum(per_level)
    logits = decimals(torch.rand(len(IMAGE_SIZES), total * NUM_CLASSES, generator=g) * -4.8 - 3.2, 2)
    grid = torch.arange(-2900, 3001, dtype=torch.float64) / 1000
    p3 = per_level[0] * NUM_CLASSES
    for image in range(len(IMAGE_SIZES)):
        spots = torch.cat([torch.randperm(p3, generator=g)[:1300],
                           p3 + torch.randperm(total * NUM_CLASSES - p3, generator=g)[:300]])
        values = grid[torch.randperm(len(grid), generator=g)[: len(spots)]]
        logits[image, spots] = values.float()
    regression = decimals(torch.randn(len(IMAGE_SIZES), total, 4, generator=g) * 0.3, 3)
    return logits.reshape(len(IMAGE_SIZES), total, NUM_CLASSES), regression


def match(targets, anchors):
    matcher = det_utils.Matcher(0.5, 0.4, allow_low_quality_matches=True)
    out = []
    for t, a in zip(targets, anchors):
        if t["boxes"].numel() == 0:
            out.append(torch.full((a.size(0),), -1, dtype=torch.int64))
        else:
            out.append(matcher(box_ops.box_iou(t["boxes"], a)))
    return out


def postprocess(logits, regression, anchors, per_level, **overrides):
    settings = {"score_thresh": DEFAULTS["scoreThreshold"], "topk_candidates": DEFAULTS["topkCandidates"],
                "nms_thresh": DEFAULTS["nmsThreshold"], "detections_per_img": DEFAULTS["detectionsPerImage"],
                "box_coder": det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0)), **overrides}
    split = {"cls_logits": list(logits.split(per_level, dim=1)),
             "bbox_regression": list(regression.split(per_level, dim=1))}
    split_anchors = [list(a.split(per_level)) for a in anchors]
    return RetinaNet.postprocess_detections(types.SimpleNamespace(**settings), split, split_anchors, IMAGE_SIZES)


def same(a, b):
    return all(torch.equal(x[k], y[k]) for x, y in zip(a, b) for k in ("boxes", "scores", "labels"))


def check_no_near_ties(logits, regression, anchors, per_level, detections):
    for thresholds in [{"score_thresh": 0.0501}, {"score_thresh": 0.0499}, {"nms_thresh": 0.50001},
                       {"nms_thresh": 0.49999}]:
        assert same(postprocess(logits, regression, anchors, per_level, **thresholds), detections), thresholds
    unlimited = postprocess(logits, regression, anchors, per_level, detections_per_img=100000)
    assert any(len(d["scores"]) > DEFAULTS["detectionsPerImage"] for d in unlimited), "the 300 cut is exercised"


def main():
    g = torch.Generator().manual_seed(13)
    anchors, per_level = anchors_of_batch()
    assert all(torch.equal(a, anchors[0]) for a in anchors)
    targets = image_targets()
    logits, regression = head_outputs(g, per_level)
    matches = match(targets, anchors)
    low_quality = box_ops.box_iou(targets[0]["boxes"][2:3], anchors[0]).max()
    assert low_quality < 0.4 and (matches[0] == 2).any(), "box 2 of image 0 is matched only as a low-quality match"
    assert (matches[0] == -2).any()
    head = RetinaNetHead(8, 9, NUM_CLASSES)
    loss = head.compute_loss(targets, {"cls_logits": logits, "bbox_regression": regression}, anchors, matches)
    detections = postprocess(logits, regression, anchors, per_level)
    check_no_near_ties(logits, regression, anchors, per_level, detections)
    data = {
        "generator": "tools/gen_retinanet_loss_golden.py", "torch": torch.__version__,
        "torchvision": torchvision.__version__, "defaults": DEFAULTS, "imageSize": list(PADDED),
        "imageSizes": [list(s) for s in IMAGE_SIZES], "numClasses": NUM_CLASSES, "perLevel": per_level,
        "anchors": floats(anchors[0]), "clsLogits": floats(logits), "boxRegression": floats(regression),
        "targets": [{"boxes": floats(t["boxes"]), "labels": ints(t["labels"])} for t in targets],
        "matches": [ints(m) for m in matches],
        "loss": {"classification": float(loss["classification"]), "boxRegression": float(loss["bbox_regression"])},
        "detections": [{"boxes": floats(d["boxes"]), "scores": floats(d["scores"]), "labels": ints(d["labels"])}
                       for d in detections],
    }
    text = json.dumps(data, separators=(",", ":")) + "\n"
    with gzip.GzipFile(os.path.join(OUT, "retinanet_loss.json.gz"), "wb", mtime=0) as f:
        f.write(text.encode())
    print("loss", data["loss"], "detections per image", [len(d["scores"]) for d in detections],
          "foreground", [int((m >= 0).sum()) for m in matches])


if __name__ == "__main__":
    main()
