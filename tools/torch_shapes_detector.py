#!/usr/bin/python3
"""A PyTorch peer of `sasa detect train --data shapes` (retinanet_demo, conv FPN), to tell whether a
torchvision RetinaNet of the demo's size learns the generated shapes faster per step than sasa's does.

The detector, as src/models/detection (builder.ts, pyramid.ts, subnets.ts, registry.ts DEMO):
  backbone   python/sasa_torch resnet26 at width x0.25, blocks [1, 1, 1, 1] (sasa's twin: TF 'same'
             padding, kaiming_normal fan_out, last BN of each block zero, BN momentum 0.1, trained BN);
             C3, C4, C5 = the outputs of layer2, layer3, layer4 (strides 8, 16, 32).
  pyramid    torchvision FeaturePyramidNetwork, 32 channels, LastLevelP6P7(32, 32): P6 from P5 (v1),
             P7 from ReLU(P6); kaiming_uniform_(a=1) weights, zero biases.
  subnets    depth 2 (3x3 conv 32 + ReLU), then the 3x3 predictor; weights N(0, sigma^2), sigma 0.028,
             biases 0, class bias -log(99).
  anchors    base sides 16, 32, 64, 128, 256 (x 2^0, 2^(1/3), 2^(2/3), truncated), ratios 0.5, 1, 2.
  losses     torchvision 0.14 RetinaNetHead.compute_loss: focal (alpha .25, gamma 2) over the non-ignored
             anchors and L1 box loss (coder weights 1, 1, 1, 1), each / max(1, foreground) per image,
             averaged over the images; matcher 0.5 / 0.4 with low-quality matches.
  inference  score > 0.05, top 1000 per level, class-wise NMS 0.5, 300 detections per image.
The recipe, as `sasa detect train --epochs E --batch-size 8 --lr 0.02` (tasks/detection/train_options.ts,
step.ts, trainer.ts, training/schedule.ts, classification/sgd.ts, data/detection/batches.ts):
  images     256 x 256 as stored (no resize), x = (byte / 255 - ImageNet mean) / ImageNet std, a random
             horizontal flip with probability 1/2 (boxes x1' = W - x2, x2' = W - x1), a new order each epoch;
  SGD        momentum 0.9 (not Nesterov), weight decay 1e-4 on weights of rank >= 2 only (no biases, no BN),
             global gradient norm clipped at 10, loss = classification + box regression;
  lr(t)      0.02 (t + 1) / W for t < W (W = 1 epoch = 50 steps), then 0.01 (1 + cos(pi (t - W) / (T - W)));
  validation after every epoch: the 100 validation images (BN in inference), COCO AP / AP50 by
             pycocotools (run through the pyenv `python3`, which has it; this script runs on Debian's
             /usr/bin/python3, which has torch 1.13 / torchvision 0.14).
Not the same as sasa: the random streams (initial weights, order, flips), and the stride-2 3x3 convs of
P6/P7 pad all sides (torchvision) where sasa's 'same' pads bottom/right.

Recipe options (issue 13 item 5's search; the defaults are the recipe above): --optimizer adamw (torch's AdamW,
betas 0.9 / 0.999, eps 1e-8, decoupled decay w <- w (1 - lr wd) on the same rank >= 2 weights), --schedule
constant (lr = base after the warm-up), --level-bn (Google's TPU RetinaNet, sasa's `levelBatchNorm`: a batch
norm per level on P3 ... P7, and after each hidden subnet conv a batch norm of its level before the ReLU; the
convs stay shared), --channels (pyramid and subnet width).

Files in --out: metrics.jsonl (step and epoch records, the trainer's field names, plus the gradient norm
before clipping), summary.json (the last validation's 12 COCO numbers; with --eval-train the training
split's too), command.txt, and the last COCO results file per split (*_detections.json, not committed).
--no-augment, --decay-all, --width, --subnet-depth and --subnet-stddev change one thing at a time.

Run: nice -n 19 /usr/bin/python3 tools/torch_shapes_detector.py --epochs 15 \
       --out results/shapes-detection/torch-twin-15epochs
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections import OrderedDict

import numpy as np
import torch
from PIL import Image
from torch import nn
from torchvision.models.detection import RetinaNet
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.retinanet import RetinaNetHead
from torchvision.ops import FeaturePyramidNetwork
from torchvision.ops.feature_pyramid_network import LastLevelP6P7

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
from sasa_torch import create_model  # noqa: E402

DATA = os.path.expanduser("~/.cache/sasa/shapes-v1-size256-train400-val100-seed0")
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
SIZE = 256
CHANNELS = 32
ANCHOR_BASES = [16, 32, 64, 128, 256]
COCO_SCORE = r"""
import json, sys, contextlib, io
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
with contextlib.redirect_stdout(io.StringIO()):
    gt = COCO(sys.argv[1])
    dets = json.load(open(sys.argv[2]))
    if not dets:
        print(json.dumps([0.0] * 12), file=sys.__stdout__); sys.exit(0)
    dt = gt.loadRes(dets)
    e = COCOeval(gt, dt, "bbox"); e.evaluate(); e.accumulate(); e.summarize()
print(json.dumps([float(s) for s in e.stats]))
"""


class DemoBackbone(nn.Module):
    """images [B, 3, H, W] -> OrderedDict P3 ... P7, each [B, 32, H/s, W/s]."""

    def __init__(self, width, level_bn=False):
        super().__init__()
        self.net = create_model("resnet26", {"widthMultiplier": width, "blocks": [1, 1, 1, 1],
                                             "inputSize": SIZE, "classes": 4})
        del self.net.fc
        c = self.net.config
        ends = {}
        for b in c.blocks:
            ends[b.name.split(".")[0]] = b.out_channels
        groups = self.net.group_names
        self.fpn = FeaturePyramidNetwork([ends[g] for g in groups[1:]], CHANNELS,
                                         extra_blocks=LastLevelP6P7(CHANNELS, CHANNELS))
        self.out_channels = CHANNELS
        self.level_norms = nn.ModuleList([nn.BatchNorm2d(CHANNELS) for _ in LEVEL_SIDES]) if level_bn else None

    def forward(self, x):
        y = self.net.stem(x)
        features = OrderedDict()
        for i, name in enumerate(self.net.group_names):
            y = getattr(self.net, name)(y)
            if i >= 1:
                features[f"c{i + 2}"] = y
        levels = self.fpn(features)
        if self.level_norms is None:
            return levels
        return OrderedDict((k, norm(v)) for (k, v), norm in zip(levels.items(), self.level_norms))


LEVEL_SIDES = [SIZE // s for s in (8, 16, 32, 64, 128)]


class LevelHidden(nn.Module):
    """A subnet's hidden layers with per-level batch norms: x [B, C, H, W] of level l (told by its side H,
    the input being SIZE x SIZE) -> ReLU(BN_{i, l}(conv_i(x))) for each layer i; the convs are shared."""

    def __init__(self, depth):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(CHANNELS, CHANNELS, 3, padding=1) for _ in range(depth)])
        self.norms = nn.ModuleList([nn.ModuleList([nn.BatchNorm2d(CHANNELS) for _ in LEVEL_SIDES])
                                    for _ in range(depth)])

    def forward(self, x):
        level = LEVEL_SIDES.index(x.shape[-2])
        for conv, norms in zip(self.convs, self.norms):
            x = torch.relu(norms[level](conv(x)))
        return x


def demo_head(anchors, classes, depth, stddev, level_bn=False):
    """torchvision's RetinaNetHead with `depth` hidden 3x3 conv + ReLU layers and N(0, stddev^2) weights."""
    head = RetinaNetHead(CHANNELS, anchors, classes)
    for sub in (head.classification_head, head.regression_head):
        sub.conv = LevelHidden(depth) if level_bn else nn.Sequential(
            *[nn.Sequential(nn.Conv2d(CHANNELS, CHANNELS, 3, padding=1), nn.ReLU(inplace=True)) for _ in range(depth)])
        for m in sub.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=stddev)
                if m is not getattr(sub, "cls_logits", None):
                    nn.init.zeros_(m.bias)
    return head


def fast_pointwise(model):
    """1x1 stride-1 convolutions with dilation 2: the same function (a 1x1 kernel has no gaps to dilate),
    but torch 1.13 then takes oneDNN instead of its slow im2col path (which it picks for undilated 1x1
    convolutions on one thread with a batch under 16): a training step 0.95 s -> 0.30 s here."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) and m.stride == (1, 1):
            m.dilation = (2, 2)
    return model


def build_detector(args):
    sizes = tuple((b, int(b * 2 ** (1 / 3)), int(b * 2 ** (2 / 3))) for b in ANCHOR_BASES)
    anchor_generator = AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * len(sizes))
    backbone = DemoBackbone(args.width, args.level_bn)
    head = demo_head(anchor_generator.num_anchors_per_location()[0], 4, args.subnet_depth, args.subnet_stddev,
                     args.level_bn)
    return fast_pointwise(RetinaNet(backbone, num_classes=4, min_size=SIZE, max_size=SIZE, image_mean=IMAGENET_MEAN,
                     image_std=IMAGENET_STD, anchor_generator=anchor_generator, head=head, score_thresh=0.05,
                     nms_thresh=0.5, detections_per_img=300, fg_iou_thresh=0.5, bg_iou_thresh=0.4,
                     topk_candidates=1000))


def load_split(split):
    """Images as uint8 [3, H, W] tensors, targets (boxes xyxy float32, labels 0..3), image ids, the json path."""
    path = os.path.join(DATA, f"instances_{split}.json")
    with open(path) as f:
        doc = json.load(f)
    category_index = {c["id"]: i for i, c in enumerate(sorted(doc["categories"], key=lambda c: c["id"]))}
    per_image = {im["id"]: ([], []) for im in doc["images"]}
    sides = {im["id"]: (im["width"], im["height"]) for im in doc["images"]}
    for a in doc["annotations"]:
        if a.get("iscrowd", 0):
            continue
        x, y, w, h = a["bbox"]
        width, height = sides[a["image_id"]]
        per_image[a["image_id"]][0].append([max(0, x), max(0, y), min(width, x + w), min(height, y + h)])
        per_image[a["image_id"]][1].append(category_index[a["category_id"]])
    images, targets, ids = [], [], []
    for im in doc["images"]:
        pixels = np.asarray(Image.open(os.path.join(DATA, "images", im["file_name"])).convert("RGB"))
        images.append(torch.from_numpy(pixels.copy()).permute(2, 0, 1).contiguous())
        boxes, labels = per_image[im["id"]]
        targets.append({"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                        "labels": torch.tensor(labels, dtype=torch.int64)})
        ids.append(im["id"])
    category_ids = [c["id"] for c in sorted(doc["categories"], key=lambda c: c["id"])]
    return images, targets, ids, path, category_ids


def flipped(image, target):
    w = image.shape[-1]
    boxes = target["boxes"].clone()
    boxes[:, 0], boxes[:, 2] = w - target["boxes"][:, 2], w - target["boxes"][:, 0]
    return image.flip(-1), {"boxes": boxes, "labels": target["labels"]}


def learning_rate(step, base, warmup, total, schedule="cosine"):
    if step < warmup:
        return base * (step + 1) / warmup
    span = total - warmup
    if span <= 0 or schedule == "constant":
        return base
    return 0.5 * base * (1 + math.cos(math.pi * min(1.0, (step - warmup) / span)))


def param_groups(model, weight_decay, decay_all):
    """Weight decay on weights of rank >= 2 only (sasa's Sgd), or on every parameter (`decay_all`)."""
    decay, plain = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if decay_all or p.ndim >= 2 else plain).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]


@torch.no_grad()
def detect(model, images, ids, category_ids, batch):
    model.eval()
    results = []
    for i in range(0, len(images), batch):
        outs = model([im.float() / 255 for im in images[i:i + batch]])
        for image_id, out in zip(ids[i:i + batch], outs):
            for box, score, label in zip(out["boxes"].tolist(), out["scores"].tolist(), out["labels"].tolist()):
                x1, y1, x2, y2 = box
                results.append({"image_id": image_id, "category_id": category_ids[label],
                                "bbox": [x1, y1, x2 - x1, y2 - y1], "score": score})
    return results


def coco_stats(gt_path, results, dt_path):
    with open(dt_path, "w") as f:
        json.dump(results, f)
    done = subprocess.run(["python3", "-c", COCO_SCORE, gt_path, dt_path], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    global CHANNELS
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--warmup-epochs", type=float, default=1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--clip-norm", type=float, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--width", type=float, default=0.25, help="backbone width multiplier")
    p.add_argument("--subnet-depth", type=int, default=2)
    p.add_argument("--subnet-stddev", type=float, default=0.028)
    p.add_argument("--no-augment", action="store_true", help="no flips")
    p.add_argument("--decay-all", action="store_true", help="weight decay on biases and BN too")
    p.add_argument("--optimizer", choices=["sgd", "adamw"], default="sgd")
    p.add_argument("--schedule", choices=["cosine", "constant"], default="cosine",
                   help="after the warm-up: cosine to 0 over the run, or constant")
    p.add_argument("--level-bn", action="store_true", help="per-level batch norms on P3..P7 and in the subnets")
    p.add_argument("--channels", type=int, default=CHANNELS, help="pyramid and subnet channels")
    p.add_argument("--eval-every", type=int, default=1, help="validate every N epochs (and after the last)")
    p.add_argument("--eval-train", action="store_true", help="also score the training split after the last epoch")
    p.add_argument("--eval-train-every", type=int, default=0,
                   help="also score the training split every N epochs (train_ap, train_ap50 in the epoch record)")
    args = p.parse_args()

    CHANNELS = args.channels
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "command.txt"), "w") as f:
        f.write(" ".join([sys.executable] + sys.argv) + "\n")
    train_images, train_targets, train_ids, train_gt, category_ids = load_split("train")
    val_images, val_targets, val_ids, val_gt, _ = load_split("val")
    model = build_detector(args)
    groups = param_groups(model, args.weight_decay, args.decay_all)
    if args.optimizer == "adamw":
        optimizer = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    else:
        optimizer = torch.optim.SGD(groups, lr=args.lr, momentum=args.momentum)
    params = [q for q in model.parameters() if q.requires_grad]
    steps_per_epoch = math.ceil(len(train_images) / args.batch_size)
    total = args.epochs * steps_per_epoch
    warmup = round(args.warmup_epochs * steps_per_epoch)
    order_rng = torch.Generator().manual_seed(args.seed + 1)
    metrics = open(os.path.join(args.out, "metrics.jsonl"), "w")

    def log(record):
        metrics.write(json.dumps(record) + "\n")
        metrics.flush()

    step = 0
    started = time.time()
    train_seconds = 0.0
    stats = None
    for epoch in range(args.epochs):
        model.train()
        t0 = time.time()
        order = torch.randperm(len(train_images), generator=order_rng).tolist()
        flips = torch.rand(len(train_images), generator=order_rng).lt(0.5).tolist()
        loss_sum = 0.0
        for b in range(steps_per_epoch):
            idx = order[b * args.batch_size:(b + 1) * args.batch_size]
            images, targets = [], []
            for i in idx:
                im, t = train_images[i], train_targets[i]
                if flips[i] and not args.no_augment:
                    im, t = flipped(im, t)
                images.append(im.float() / 255)
                targets.append(t)
            lr = learning_rate(step, args.lr, warmup, total, args.schedule)
            for g in optimizer.param_groups:
                g["lr"] = lr
            losses = model(images, targets)
            loss = losses["classification"] + losses["bbox_regression"]
            optimizer.zero_grad()
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(params, args.clip_norm) if args.clip_norm > 0 else None
            optimizer.step()
            step += 1
            loss_sum += loss.item()
            log({"type": "step", "step": step, "epoch": epoch, "batch": b + 1, "loss": loss.item(),
                 "classification": losses["classification"].item(),
                 "box_regression": losses["bbox_regression"].item(), "lr": lr,
                 "grad_norm": None if norm is None else norm.item()})
        train_seconds += time.time() - t0
        record = {"type": "epoch", "step": step, "epoch": epoch, "train_loss": loss_sum / steps_per_epoch,
                  "val_ap": None, "val_ap50": None}
        if (epoch + 1) % args.eval_every == 0 or epoch + 1 == args.epochs:
            results = detect(model, val_images, val_ids, category_ids, args.batch_size)
            stats = coco_stats(val_gt, results, os.path.join(args.out, "val_detections.json"))
            record.update(val_ap=stats[0], val_ap50=stats[1], detections=len(results))
        if args.eval_train_every and (epoch + 1) % args.eval_train_every == 0:
            results = detect(model, train_images, train_ids, category_ids, args.batch_size)
            train_stats = coco_stats(train_gt, results, os.path.join(args.out, "train_detections.json"))
            record.update(train_ap=train_stats[0], train_ap50=train_stats[1])
        record["seconds"] = time.time() - started
        log(record)
        print(json.dumps(record), flush=True)
    summary = {"steps": step, "seconds": time.time() - started, "train_seconds": train_seconds,
               "ap": stats[0], "ap50": stats[1], "stats": stats, "options": vars(args),
               "torch": torch.__version__, "params": sum(q.numel() for q in params)}
    if args.eval_train:
        results = detect(model, train_images, train_ids, category_ids, args.batch_size)
        summary["train_stats"] = coco_stats(train_gt, results, os.path.join(args.out, "train_detections.json"))
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        f.write(json.dumps(summary, indent=2) + "\n")
    metrics.close()


if __name__ == "__main__":
    main()
