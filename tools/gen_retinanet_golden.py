#!/usr/bin/python3
"""Parameter and FLOP counts of torchvision 0.14's RetinaNet (ResNet-50 FPN, v1) for sasa's detector tests.

Run: /usr/bin/python3 tools/gen_retinanet_golden.py   (writes test/golden/detection/retinanet_counts.json)
     npx biome format --write test/golden/detection/retinanet_counts.json

For each class count K, `retinanet_resnet50_fpn(num_classes=K, weights=None, weights_backbone=None)`:
  params          sum of numel over model.parameters(). Without weights torchvision builds the backbone
                  with nn.BatchNorm2d, so BN weight and bias (sasa's gamma and beta) are parameters and
                  the running statistics are buffers: the same split as sasa's trainable weights.
  params_by_part  the same sum for backbone.body (ResNet-50 up to layer4, no fc), backbone.fpn, the
                  classification head and the regression head.
  frozen_bn       the same network with FrozenBatchNorm2d in the backbone (what torchvision uses when
                  a backbone is pretrained): BN weight and bias become buffers, so `params` drops by
                  2·ΣC over the backbone's batch norms; `bn_affine` is that 2·ΣC.
FLOPs (a multiply-add = 2 FLOPs, convolutions only, biases, BN, activations, pooling, upsampling and
additions not counted, sasa's convention in SASA.md §4) of backbone + FPN + heads on one image of each
square size in `flops` (run directly on the tensor, without RetinaNet's resize transform).
"""
import json
import os

import torch
import torchvision
from torch import nn
from torchvision.models import resnet50
from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
from torchvision.models.detection.retinanet import RetinaNet, retinanet_resnet50_fpn
from torchvision.ops import misc as misc_nn_ops
from torchvision.ops.feature_pyramid_network import LastLevelP6P7

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "golden", "detection")
CLASSES = [91, 80, 20, 4, 1]
SIZES = [[256, 256], [512, 512]]
torch.set_num_threads(1)


def numel(params):
    return int(sum(p.numel() for p in params))


def frozen_bn_retinanet(num_classes):
    """retinanet_resnet50_fpn's construction with FrozenBatchNorm2d and every backbone layer trainable."""
    backbone = resnet50(weights=None, norm_layer=misc_nn_ops.FrozenBatchNorm2d)
    backbone = _resnet_fpn_extractor(backbone, 5, returned_layers=[2, 3, 4], extra_blocks=LastLevelP6P7(256, 256))
    return RetinaNet(backbone, num_classes)


def conv_flops(model, size):
    """FLOPs of every Conv2d of backbone (with FPN) and head on a [1, 3, H, W] image."""
    total = [0]

    def hook(module, _inputs, output):
        k = module.kernel_size[0] * module.kernel_size[1]
        cin = module.in_channels // module.groups
        total[0] += 2 * k * cin * module.out_channels * output.shape[2] * output.shape[3]

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        features = model.backbone(torch.zeros(1, 3, *size))
        model.head(list(features.values()))
    for h in handles:
        h.remove()
    return total[0]


def main():
    rows = []
    for k in CLASSES:
        model = retinanet_resnet50_fpn(num_classes=k, weights=None, weights_backbone=None).eval()
        frozen = frozen_bn_retinanet(k)
        bn_affine = numel(p for m in model.backbone.body.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters())
        rows.append(
            {
                "num_classes": k,
                "params": numel(model.parameters()),
                "params_by_part": {
                    "backbone": numel(model.backbone.body.parameters()),
                    "fpn": numel(model.backbone.fpn.parameters()),
                    "classification_head": numel(model.head.classification_head.parameters()),
                    "regression_head": numel(model.head.regression_head.parameters()),
                },
                "frozen_bn": {"params": numel(frozen.parameters()), "bn_affine": bn_affine},
                "flops": [{"size": s, "flops": conv_flops(model, s)} for s in SIZES],
            }
        )
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "retinanet_counts.json"), "w") as f:
        json.dump({"torchvision": torchvision.__version__, "models": rows}, f)


if __name__ == "__main__":
    main()
