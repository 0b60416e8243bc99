#!/usr/bin/python3
"""Golden values for sasa's detection box operations (src/tasks/detection/) from torchvision 0.14 (float32).

Run: /usr/bin/python3 tools/gen_detection_golden.py   (writes test/golden/detection/*.json, anchors.json.gz)
     npx biome format --write test/golden/detection/   (the repository's JSON formatting)
Files (all arrays flat, row-major; boxes xyxy [N, 4]; floats are float32 values written in their shortest
float32 form, non-finite ones as the strings "NaN", "Infinity", "-Infinity"):
  boxes.json    box_iou, box_area, box_convert xywh<->xyxy, clip_boxes_to_image, remove_small_boxes
  coder.json    BoxCoder encode_single / decode_single (RetinaNet's weights, and (10, 10, 5, 5))
  anchors.json.gz  (gzipped: 50k integer anchors) RetinaNet's AnchorGenerator on the feature maps of its ResNet-50 FPN backbone (no weights)
  matcher.json  Matcher(0.5, 0.4, allow_low_quality_matches) on quality grids (ties, the band, NaN, a zero
                row) and RetinaNet's training match (box_iou(gt, anchors) then the matcher)
  nms.json      nms and batched_nms keeps (distinct scores, so the order is torchvision's at any size)
"""
import gzip
import json
import math
import os

import numpy as np
import torch
import torchvision
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import _default_anchorgen, retinanet_resnet50_fpn
from torchvision.ops import boxes as box_ops

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "golden", "detection")
torch.set_num_threads(1)


def floats(t):
    """float32 values in their shortest form (each parses back to the same float32)."""
    out = []
    for v in np.asarray(t, dtype=np.float32).reshape(-1):
        if math.isnan(v):
            out.append("NaN")
        elif math.isinf(v):
            out.append("Infinity" if v > 0 else "-Infinity")
        else:
            x = float(repr(v).replace("np.float32(", "").rstrip(")")) if "float32" in repr(v) else float(str(v))
            assert np.float32(x) == v, (x, v)
            out.append(int(x) if x == int(x) and abs(x) < 2**24 else x)
    return out


def ints(t):
    return [int(v) for v in torch.as_tensor(t).reshape(-1)]


def write(name, data):
    data = {"generator": "tools/gen_detection_golden.py", "torch": torch.__version__,
            "torchvision": torchvision.__version__, **data}
    text = json.dumps(data, separators=(",", ":")) + "\n"
    if name.endswith(".gz"):
        with gzip.GzipFile(os.path.join(OUT, name), "wb", mtime=0) as f:
            f.write(text.encode())
    else:
        with open(os.path.join(OUT, name), "w") as f:
            f.write(text)


def random_boxes(g, n, extent=100.0, max_side=40.0):
    xy = torch.rand(n, 2, generator=g) * extent
    wh = torch.rand(n, 2, generator=g) * max_side
    return torch.cat([xy, xy + wh], 1)


def degenerate_boxes():
    """Zero width, zero height, points, an identical pair, contained, edge-touching and inverted boxes."""
    return torch.tensor([
        [10, 10, 10, 30], [10, 10, 30, 10], [5, 5, 5, 5], [5, 5, 5, 5], [0, 0, 20, 20], [0, 0, 20, 20],
        [5, 5, 10, 10], [20, 0, 40, 20], [20, 20, 40, 40], [30, 30, 20, 20], [-10, -5, 3.5, 2.25],
    ], dtype=torch.float32)


def boxes_golden(g):
    a = torch.cat([random_boxes(g, 20), degenerate_boxes()])
    b = torch.cat([random_boxes(g, 25, max_side=60.0), degenerate_boxes()])
    xywh = box_ops.box_convert(a, "xyxy", "xywh")
    wide = random_boxes(g, 30, extent=140.0, max_side=80.0) - 20
    return {
        "a": floats(a), "b": floats(b), "iou": floats(box_ops.box_iou(a, b)), "areaA": floats(box_ops.box_area(a)),
        "xywhA": floats(xywh), "xyxyFromXywh": floats(box_ops.box_convert(xywh, "xywh", "xyxy")),
        "clip": {"boxes": floats(wide), "imageSize": [90, 70],
                 "clipped": floats(box_ops.clip_boxes_to_image(wide, (90, 70)))},
        "small": {"boxes": floats(wide), "minSize": 17.5, "keep": ints(box_ops.remove_small_boxes(wide, 17.5))},
    }


def coder_case(g, coder, anchors, gt):
    deltas = torch.randn(len(anchors), 4, generator=g)
    deltas[:8, 2:] = torch.tensor([[5.0, -7.0], [4.2, 4.13], [-20.0, 12.0], [3.0, 30.0]]).repeat(2, 1)
    return {
        "weights": list(coder.weights), "clip": coder.bbox_xform_clip,
        "anchors": floats(anchors), "boxes": floats(gt), "encoded": floats(coder.encode_single(gt, anchors)),
        "deltas": floats(deltas), "decoded": floats(coder.decode_single(deltas, anchors)),
    }


def coder_golden(g):
    anchors = _default_anchorgen()(ImageList(torch.zeros(1, 3, 256, 256), [(256, 256)]),
                                   [torch.zeros(1, 1, 256 // s, 256 // s) for s in (8, 16, 32, 64, 128)])[0]
    pick = torch.randperm(len(anchors), generator=g)[:60]
    anchors = anchors[pick]
    ctr = (anchors[:, :2] + anchors[:, 2:]) / 2 + torch.randn(60, 2, generator=g) * 10
    wh = (anchors[:, 2:] - anchors[:, :2]) * torch.exp(torch.randn(60, 2, generator=g) * 0.5)
    gt = torch.cat([ctr - wh / 2, ctr + wh / 2], 1)
    return {"cases": [coder_case(g, det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0)), anchors, gt),
                      coder_case(g, det_utils.BoxCoder(weights=(10.0, 10.0, 5.0, 5.0)), anchors, gt)]}


def anchors_golden():
    backbone = retinanet_resnet50_fpn(weights=None, weights_backbone=None).backbone.eval()
    generator = _default_anchorgen()
    cases = []
    for h, w in [(256, 256), (384, 512), (100, 76)]:
        image = torch.zeros(1, 3, h, w)
        with torch.no_grad():
            features = list(backbone(image).values())
        anchors = generator(ImageList(image, [(h, w)]), features)[0]
        cases.append({"imageSize": [h, w], "featureSizes": [list(f.shape[-2:]) for f in features],
                      "anchors": floats(anchors)})
    return {"sizes": [list(s) for s in generator.sizes], "aspectRatios": list(generator.aspect_ratios[0]),
            "cellAnchors": [floats(c) for c in generator.cell_anchors], "cases": cases}


def quality_case(name, q, low_quality):
    matcher = det_utils.Matcher(0.5, 0.4, allow_low_quality_matches=low_quality)
    return {"name": name, "shape": list(q.shape), "allowLowQualityMatches": low_quality,
            "quality": floats(q), "matches": ints(matcher(q.clone()))}


def matcher_golden(g):
    # multiples of 0.05 (0.4 and 0.5 exactly, ties); rows whose maximum is below 0.5 need low-quality matches
    grid = torch.cat([torch.randint(0, top + 1, (1, 40), generator=g) for top in (12, 9, 8, 7, 11, 6)]).float() * 0.05
    nan = grid.clone()
    nan[2, 5] = nan[0, 7] = nan[4, 7] = float("nan")
    zero_row = grid.clone() * 0.5
    zero_row[3] = 0
    cases = [quality_case("grid", grid, True), quality_case("grid, no low-quality", grid, False),
             quality_case("NaN entries", nan, True), quality_case("a row of zeros", zero_row, True),
             quality_case("one box", grid[:1], True)]
    assert cases[0]["matches"] != cases[1]["matches"]
    image = torch.zeros(1, 3, 256, 256)
    anchors = _default_anchorgen()(ImageList(image, [(256, 256)]),
                                   [torch.zeros(1, 1, 256 // s, 256 // s) for s in (8, 16, 32, 64, 128)])[0]
    gt = torch.cat([random_boxes(g, 10, extent=200.0, max_side=120.0) + 4,
                    torch.tensor([[3.0, 3.0, 9.0, 7.0], [100.0, 100.0, 104.0, 110.0], [40.0, 40.0, 72.0, 72.0]])])
    gt = torch.cat([gt, gt[10:11]])  # a duplicate: ties between ground-truth boxes
    iou = box_ops.box_iou(gt, anchors)
    matches = det_utils.Matcher(0.5, 0.4, allow_low_quality_matches=True)(iou)
    plain = det_utils.Matcher(0.5, 0.4)(iou)
    tied = (iou == iou.max(dim=1, keepdim=True).values).sum(1)
    assert (tied > 1).any() and (matches != plain).sum() > len(gt), "the low-quality path and its ties are exercised"
    assert (matches == -2).any() and (matches == -1).any()
    training = {"imageSize": [256, 256], "boxes": floats(gt), "matches": ints(matches)}
    return {"quality": cases, "training": training}


def nms_boxes(g, n, clusters):
    centres = torch.rand(clusters, 2, generator=g) * 300
    which = torch.randint(0, clusters, (n,), generator=g)
    ctr = centres[which] + torch.randn(n, 2, generator=g) * 6
    wh = 20 + torch.rand(n, 2, generator=g) * 30
    return torch.cat([ctr - wh / 2, ctr + wh / 2], 1)


def distinct_scores(g, n):
    scores = torch.randperm(n * 7, generator=g)[:n].float() / (n * 7)
    assert len(set(scores.tolist())) == n
    return scores


def nms_golden(g):
    cases = []
    for n, thresholds in [(200, [0.3, 0.5, 0.7]), (1200, [0.5])]:
        boxes, scores = nms_boxes(g, n, n // 10), distinct_scores(g, n)
        cases.append({"boxes": floats(boxes), "scores": floats(scores),
                      "keeps": [{"iouThreshold": t, "keep": ints(box_ops.nms(boxes, scores, t))} for t in thresholds]})
    exact = torch.tensor([[0, 0, 5, 1], [0, 0, 2, 1], [0, 0, 2, 1], [0, 0, 4, 1]], dtype=torch.float32)
    exact_scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    cases.append({"name": "IoU exactly 0.5 and float32(0.4) (compared in double)", "boxes": floats(exact),
                  "scores": floats(exact_scores),
                  "keeps": [{"iouThreshold": t, "keep": ints(box_ops.nms(exact, exact_scores, t))}
                            for t in [0.4, 0.5, 0.4999999]]})
    batched = []
    for n, classes in [(500, 6), (1500, 4)]:  # under and over torchvision's 4000-number switch of method
        boxes, scores = nms_boxes(g, n, n // 25), distinct_scores(g, n)
        labels = torch.randint(0, classes, (n,), generator=g) * 3
        keep = box_ops.batched_nms(boxes, scores, labels, 0.5)
        assert torch.equal(keep, box_ops._batched_nms_vanilla(boxes, scores, labels, 0.5))
        assert torch.equal(keep, box_ops._batched_nms_coordinate_trick(boxes, scores, labels, 0.5))
        batched.append({"boxes": floats(boxes), "scores": floats(scores), "classes": ints(labels),
                        "iouThreshold": 0.5, "keep": ints(keep)})
    return {"nms": cases, "batched": batched}


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(12)
    write("boxes.json", boxes_golden(g))
    write("coder.json", coder_golden(g))
    write("anchors.json.gz", anchors_golden())
    write("matcher.json", matcher_golden(g))
    write("nms.json", nms_golden(g))


if __name__ == "__main__":
    main()
