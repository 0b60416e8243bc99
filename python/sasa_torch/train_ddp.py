"""Data-parallel training of a sasa network in PyTorch (DistributedDataParallel), the paper's recipe
(SASA.md §5): Nesterov SGD (momentum 0.9), learning rate 0.1 per 256 images with linear warm-up then
cosine decay to 0, label smoothing 0.1, weight decay 1e-4 on weights only (not on BN and biases), an
exponential moving average of the weights (--ema, 0 for none). Writes sasa-loadable safetensors.

  torchrun --nproc_per_node 8 -m sasa_torch.train_ddp --model sasa_resnet26 --data /imagenet --epochs 130 \\
      --batch 64 --warmup-epochs 10 --ema 0.9999 --out runs/sasa26        (PYTHONPATH=python, NCCL on GPUs)
  torchrun --redirects 1 --tee 1 --nproc_per_node 2 -m sasa_torch.train_ddp --model resnet26_demo \\
      --idx data/fashion-mnist-subset --backend gloo --steps 20 --batch 32 --out /tmp/demo    (CPU)
(Debian's torch 1.13 on Python 3.11: torchrun's default --redirects/--tee 0 fail on Python 3.11's
IntFlag iteration, hence 1.)

--data ROOT reads ROOT/train and ROOT/val (ImageFolder); --idx DIR reads MNIST-style IDX files. --init PATH starts from weights sasa exported
(exportTorchSafetensors) instead of a seeded initialisation.
OUT/model.safetensors (and OUT/model_ema.safetensors with --ema) hold every weight under sasa's
PyTorch names: `importTorchSafetensors(createModel(name, overrides), path)` loads them into sasa;
OUT/config.json is the camelCase config; OUT/log.jsonl one line per step {step, lr, loss} (loss
averaged over processes) and per epoch {epoch, top1} when evaluated.
"""
import argparse
import copy
import json
import math
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from .config import model_config
from .data import folder_datasets, idx_datasets
from .model import SasaNet
from .safetensors_io import load_safetensors, save_safetensors


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="a registered model name")
    p.add_argument("--overrides", default="{}", help="camelCase config overrides as JSON, e.g. '{\"classes\": 100}'")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="ImageNet-style root with train/ and val/")
    src.add_argument("--idx", help="MNIST-style IDX directory")
    p.add_argument("--epochs", type=float, default=1)
    p.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: all epochs)")
    p.add_argument("--batch", type=int, default=64, help="images per process")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate per 256 images")
    p.add_argument("--warmup-epochs", type=float, default=0)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--ema", type=float, default=0, help="EMA decay of the weights (e.g. 0.9999); 0: none")
    p.add_argument("--backend", default="nccl" if torch.cuda.is_available() else "gloo")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--init", help="start from these weights (sasa's exportTorchSafetensors) instead of seeded ones")
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


def learning_rate(step, total, warmup, peak):
    """Linear warm-up from 0 over `warmup` steps, then cosine decay from `peak` to 0 at `total`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return 0.5 * peak * (1 + math.cos(math.pi * min(1.0, t)))


def parameter_groups(net, weight_decay):
    """Weight decay on weights of rank >= 2 (convolutions, projections, tables, fc), none on BN and biases."""
    decay, rest = [], []
    for p in net.parameters():
        (decay if p.ndim >= 2 else rest).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


class Ema:
    """ema = d * ema + (1 - d) * weight after every step; buffers (BN statistics) copied."""

    def __init__(self, net, decay):
        self.decay = decay
        self.net = copy.deepcopy(net).eval()
        for p in self.net.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, net):
        for e, p in zip(self.net.parameters(), net.parameters()):
            e.mul_(self.decay).add_(p.detach(), alpha=1 - self.decay)
        for e, b in zip(self.net.buffers(), net.buffers()):
            e.copy_(b)


@torch.no_grad()
def top1(net, loader, device):
    net.eval()
    right = torch.zeros(2, device=device)
    for x, y in loader:
        pred = net(x.to(device)).argmax(1)
        right += torch.tensor([(pred == y.to(device)).sum().item(), len(y)], device=device)
    dist.all_reduce(right)
    net.train()
    return (right[0] / right[1]).item()


def main(argv=None):
    a = parse_args(argv)
    dist.init_process_group(a.backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    local = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device(f"cuda:{local}" if a.backend == "nccl" else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    torch.manual_seed(a.seed)  # the same initial weights in every process
    overrides = json.loads(a.overrides)
    if a.idx:
        train_set, val_set = idx_datasets(a.idx)
    else:
        train_set, val_set = folder_datasets(a.data, overrides.get("inputSize", 224))
    config = model_config(a.model, overrides)
    net = SasaNet(config)
    if a.init:
        load_safetensors(net, a.init)
    net = net.to(device)
    ddp = DistributedDataParallel(net, device_ids=[local] if device.type == "cuda" else None)
    sampler = DistributedSampler(train_set, world, rank, shuffle=True, seed=a.seed, drop_last=True)
    loader = DataLoader(train_set, a.batch, sampler=sampler, num_workers=a.workers if a.data else 0,
                        drop_last=True, pin_memory=device.type == "cuda")
    val_loader = DataLoader(val_set, a.batch, sampler=DistributedSampler(val_set, world, rank, shuffle=False),
                            num_workers=a.workers if a.data else 0)
    per_epoch = len(loader)
    total = a.steps or max(1, round(a.epochs * per_epoch))
    peak = a.lr * a.batch * world / 256
    warmup = round(a.warmup_epochs * per_epoch)
    opt = torch.optim.SGD(parameter_groups(net, a.weight_decay), lr=peak, momentum=0.9, nesterov=True)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=a.label_smoothing)
    ema = Ema(net, a.ema) if a.ema > 0 else None
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, "log.jsonl"), "w") if rank == 0 else None
    step, epoch = 0, 0
    while step < total:
        sampler.set_epoch(epoch)
        for x, y in loader:
            lr = learning_rate(step, total, warmup, peak)
            for g in opt.param_groups:
                g["lr"] = lr
            loss = loss_fn(ddp(x.to(device, non_blocking=True)), y.to(device, non_blocking=True))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if ema:
                ema.update(net)
            mean = loss.detach().clone()
            dist.all_reduce(mean)
            if log:
                log.write(json.dumps({"step": step, "lr": lr, "loss": mean.item() / world}) + "\n")
                log.flush()
            step += 1
            if step >= total:
                break
        epoch += 1
        if not a.steps:
            acc = top1(net, val_loader, device)
            if log:
                log.write(json.dumps({"epoch": epoch, "top1": acc}) + "\n")
    if rank == 0:
        meta = {"model": a.model, "steps": str(step)}
        save_safetensors(net, os.path.join(a.out, "model.safetensors"), meta)
        if ema:
            save_safetensors(ema.net, os.path.join(a.out, "model_ema.safetensors"), meta)
        with open(os.path.join(a.out, "config.json"), "w") as f:
            json.dump({"model": a.model, "overrides": overrides}, f)
        log.close()
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
