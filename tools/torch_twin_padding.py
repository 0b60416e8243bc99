#!/usr/bin/python3
"""How far a stock torchvision ResNet given sasa's weights is from sasa (= the twin), in the logits.

sasa pads as TensorFlow's 'same' (a strided window's extra row and column at the bottom and right);
torchvision pads symmetrically (7x7/2 stem conv padding 3, 3x3/2 max pool padding 1, 3x3/2 conv
padding 1). At an even side the strided windows then sit one pixel apart. This builds the twin's
resnet26 (or --model, a conv-stem ResNet) at --size, gives it seeded random weights (He init, as
sasa's builder, with random non-zero BN gammas and random BN statistics, so no block is the
identity), loads the same state dict into torchvision.models.resnet.ResNet(Bottleneck, blocks)
(stem.conv -> conv1, stem.bn -> bn1, other names equal) and prints, per seed, max |logit difference|
and max |logit| on a random batch, in eval mode.

  /usr/bin/python3 tools/torch_twin_padding.py [--model resnet26] [--size 64] [--seeds 3]
"""
import argparse
import os
import sys

import torch
from torchvision.models.resnet import Bottleneck, ResNet

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from sasa_torch import create_model  # noqa: E402
from sasa_torch.safetensors_io import state_of  # noqa: E402


def randomise_bn(net, g):
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(0.5 + 0.5 * torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(0.2 * (torch.rand(m.bias.shape, generator=g) - 0.5))
                m.running_mean.copy_(0.2 * (torch.rand(m.weight.shape, generator=g) - 0.5))
                m.running_var.copy_(0.5 + torch.rand(m.weight.shape, generator=g))


def torchvision_twin(net):
    blocks = [len(b) for b in (net.layer1, net.layer2, net.layer3, net.layer4)]
    tv = ResNet(Bottleneck, blocks, num_classes=net.config.classes)
    state = {k.replace("stem.conv.", "conv1.").replace("stem.bn.", "bn1."): v for k, v in state_of(net).items()}
    missing, unexpected = tv.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    return tv.eval()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="resnet26")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--batch", type=int, default=4)
    a = p.parse_args()
    torch.set_num_threads(1)
    for seed in range(a.seeds):
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(1000 + seed)
        net = create_model(a.model, {"inputSize": a.size})
        randomise_bn(net, g)
        net.eval()
        tv = torchvision_twin(net)
        x = torch.randn(a.batch, 3, a.size, a.size, generator=g)
        with torch.no_grad():
            ours, theirs = net(x), tv(x)
        d = (ours - theirs).abs().max().item()
        print(f"{a.model} {a.size}px seed {seed}: max |logit sasa - torchvision| {d:.3f}, "
              f"max |logit| {ours.abs().max().item():.3f}")


if __name__ == "__main__":
    main()
