#!/usr/bin/python3
"""PyTorch peer for sasa's benchmarks (run with Debian's /usr/bin/python3, torch CPU).

  /usr/bin/python3 bench/torch_peer.py conv --shape 8,56,56,64 --filters 64 --kernel 3 [--stride 1] [--backward [--no-input-grad]] [--inputs 1] [--json]
  /usr/bin/python3 bench/torch_peer.py matmul --size 1024 [--json]
  /usr/bin/python3 bench/torch_peer.py attention --shape 8,56,56,64 --k 7 --heads 8 [--backward] [--json]
  /usr/bin/python3 bench/torch_peer.py attention --check [--json]
  /usr/bin/python3 bench/torch_peer.py model --model resnet26|sasa_resnet26|sasa_resnet26_convstem [--batch 8] [--size 224] [--classes 1000] [--train] [--json]

Shapes are NHWC like ours; conv runs in channels_last, float32, padding k//2 (the resnet26 model's
padding; for odd k the same output size as sasa's TF-style 'same', but at stride 2 on an even
size the window grid differs by one pixel: 3x3/2 reads padding at the top/left here and at the
bottom/right in 'same'; 7x7/2 on 224 pads 3 top, 2 bottom here, 2 and 3 there), no bias. --backward: gradients w.r.t. input and
weight; with --no-input-grad the weight's only (the input does not require grad, as for a
network's first layer).
Reports the median ms of --runs timed runs after a warm-up of at least --warmup runs and
--warmup-ms milliseconds (the same protocol as `sasa bench`), and peak RSS MB.
`--check` (matmul) also compares one product against a float64 reference.

attention: the SASA local self-attention layer (docs/SASA.md section 1; d_in = d_out = C) written
the way the public PyTorch ports write it (leaderj1001/Stand-Alone-Self-Attention's `AttentionConv`:
1x1 convs, F.pad + unfold of keys and values to [B, C, H, W, k, k], relative embeddings added to
the unfolded keys, elementwise products and sums), in NCHW float32, but with the math right: per-head
dot products over the head's D = C/N channels (the port multiplies q and k elementwise and takes
a softmax per channel), q scaled by D**-0.5, one softmax over the k*k window per head, and relative
embeddings split by channel (first C/2 channels: row offsets, last C/2: column offsets), so that
q.(k + r) = q.k + q.r. Keys and values outside the image are zeros (logit q.r), like sasa's
default padding 'zeros'. --backward times y.backward(G) for a fixed random G (gradients w.r.t. the
input and all five parameters). Peak RSS is per process: run one case per process.
`--malloc retain` keeps freed memory in glibc's heap: the layer's temporaries are larger than
glibc's mmap threshold, so by default every run page-faults them in again (see bench/compare.mjs).
`attention --check` (check only, no timing) compares the layer against per-pixel float64 loops on
a tiny input (forward and, through autograd, input and parameter gradients), against the golden
values of sasa's op (test/golden/local_attention.json, cases with padding 'zeros' and logits
'qk+qr', when the file is present), and runs torch.autograd.gradcheck; exits non-zero on mismatch.

model: one inference step (eval mode, no_grad) or, with --train, one training step (train mode:
forward, cross-entropy on fixed labels, backward, torch.optim.SGD(lr 0.1, momentum 0.9) step) of
  resnet26       a torchvision-style ResNet-26: torchvision's resnet50 with bottleneck blocks
                 [1, 2, 4, 1] (v1.5: the stride on the 3x3 conv), 7x7/2 conv stem + 3x3/2 max pool,
                 strided 1x1 conv + BN shortcuts, global average pool, fc; written out here
                 (Debian's python3-torch has no torchvision);
  sasa_resnet26  the same network in full-attention form: every 3x3 conv replaced by the unfold
                 attention layer above (k 7, 8 heads, relative; stride 2 -> 2x2 average pool after
                 it), and the attention stem of SASA.md section 2 (AttentionStem below: attention
                 within 4x4 blocks, 4 heads, relative logits, m = 4 spatially-aware value matrices,
                 BN, ReLU, 4x4 max pool);
  sasa_resnet26_convstem  the attention blocks of sasa_resnet26 behind resnet26's conv stem (7x7/2
                 conv + BN + ReLU + 3x3/2 max pool): the paper's conv-stem form.
--memory-format channels_last|contiguous: the activations' layout (default channels_last for
resnet26, contiguous for sasa_resnet26: the faster of the two on this CPU build, see BENCHMARKS.md).
"""
import argparse
import itertools
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="bench", required=True)
    for name in ("conv", "matmul", "attention", "model"):
        s = sub.add_parser(name)
        s.add_argument("--runs", type=int, default=10)
        s.add_argument("--warmup", type=int, default=3)
        s.add_argument("--warmup-ms", type=float, default=1000.0)
        s.add_argument("--threads", type=int, default=2)
        s.add_argument("--malloc", choices=("glibc", "retain"), default="glibc",
                       help="glibc: the C library's defaults; retain: keep freed memory in the heap "
                            "(mallopt M_MMAP_THRESHOLD and M_TRIM_THRESHOLD to 2 GiB) instead of "
                            "returning large blocks to the OS and faulting them in again every run")
        s.add_argument("--json", action="store_true")
        if name == "conv":
            s.add_argument("--shape", default="8,56,56,64", help="N,H,W,C")
            s.add_argument("--filters", type=int, default=64)
            s.add_argument("--kernel", type=int, default=3)
            s.add_argument("--stride", type=int, default=1)
            s.add_argument("--backward", action="store_true")
            s.add_argument("--no-input-grad", dest="input_grad", action="store_false",
                           help="with --backward: the weight's gradient only (x does not require grad)")
            s.add_argument("--inputs", type=int, default=1,
                           help="cycle through this many distinct inputs (sasa's side: see its --inputs)")
        elif name == "attention":
            s.add_argument("--shape", default="8,56,56,64", help="N,H,W,C (d_in = d_out = C)")
            s.add_argument("--k", type=int, default=7, help="spatial extent k (k x k window, odd)")
            s.add_argument("--heads", type=int, default=8)
            s.add_argument("--backward", action="store_true")
            s.add_argument("--check", action="store_true",
                           help="only check the layer against float64 references (tiny inputs), no timing")
        elif name == "model":
            s.add_argument("--model", required=True, choices=("resnet26", "sasa_resnet26", "sasa_resnet26_convstem"))
            s.add_argument("--batch", type=int, default=8)
            s.add_argument("--size", type=int, default=224)
            s.add_argument("--classes", type=int, default=1000)
            s.add_argument("--train", action="store_true")
            s.add_argument("--memory-format", choices=("channels_last", "contiguous"), default=None)
        else:
            s.add_argument("--size", type=int, default=1024)
            s.add_argument("--check", action="store_true", help="compare against a float64 reference")
    a = p.parse_args()
    if a.runs < 1 or a.warmup < 0 or a.threads < 1:
        p.error("--runs and --threads must be >= 1, --warmup >= 0")
    if a.bench == "conv" and a.inputs < 1:
        p.error("--inputs must be >= 1")
    if a.bench == "model":
        if a.batch < 1 or a.classes < 1 or a.size < 32 or a.size % 32:
            p.error("--batch and --classes must be >= 1, --size a multiple of 32")
        if a.memory_format is None:
            a.memory_format = "channels_last" if a.model == "resnet26" else "contiguous"
    if a.bench == "attention":
        c = int(a.shape.split(",")[3]) if len(a.shape.split(",")) == 4 else 0
        if len(a.shape.split(",")) != 4 or min(int(v) for v in a.shape.split(",")) < 1:
            p.error("--shape must be N,H,W,C with positive sizes")
        if a.k < 1 or a.k % 2 == 0:
            p.error("--k must be odd and >= 1")
        if a.heads < 1 or c % a.heads or c % 2:
            p.error("C must be even and divisible by --heads")
    return a


TIMED_STATS = {}  # filled by median_ms: page faults and fastest run of the timed runs


def median_ms(step, runs, warmup, warmup_ms):
    start = time.perf_counter()
    done = 0
    while done < warmup or (time.perf_counter() - start) * 1e3 < warmup_ms:
        step()
        done += 1
    times = []
    faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    TIMED_STATS["minor_faults_per_run"] = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0) / runs
    TIMED_STATS["min_ms"] = min(times)
    return statistics.median(times)


def bench_conv(a):
    n, h, w, c = (int(v) for v in a.shape.split(","))
    cl = torch.channels_last
    conv = torch.nn.Conv2d(c, a.filters, a.kernel, stride=a.stride, padding=a.kernel // 2, bias=False)
    conv = conv.to(memory_format=cl)
    xs = [torch.randn(n, c, h, w).to(memory_format=cl) for _ in range(a.inputs)]
    runs = itertools.count()
    if not a.backward:
        def step():
            with torch.no_grad():
                conv(xs[next(runs) % a.inputs])
    else:
        for x in xs:
            x.requires_grad_(a.input_grad)
        with torch.no_grad():
            grad_out = torch.randn_like(conv(xs[0])).to(memory_format=cl)

        def step():
            x = xs[next(runs) % a.inputs]
            x.grad = None
            conv.weight.grad = None
            conv(x).backward(grad_out)
    ms = median_ms(step, a.runs, a.warmup, a.warmup_ms)
    return {"shape": [n, h, w, c], "filters": a.filters, "kernel": a.kernel, "stride": a.stride,
            "backward": a.backward, "input_grad": a.backward and a.input_grad, "inputs": a.inputs,
            "median_ms": ms}


class AttentionConv(torch.nn.Module):
    """SASA local self-attention, port-style (pad + unfold), NCHW, d_in = d_out = channels.

    Follows the structure of leaderj1001/Stand-Alone-Self-Attention's AttentionConv (stride 1,
    no bias, groups = heads) with its math fixed: logits are per-head dot products
    sum_d q.(k + r) over the head's D channels, q is scaled by D**-0.5, the softmax runs over the
    k*k window, and rel_h / rel_w are [C/2, k] tables of row / column offsets (docs/SASA.md §1).
    """

    def __init__(self, channels, kernel_size, heads, scale=None):
        super().__init__()
        assert channels % heads == 0 and channels % 2 == 0 and kernel_size % 2 == 1
        self.channels, self.kernel_size, self.heads = channels, kernel_size, heads
        self.scale = (channels // heads) ** -0.5 if scale is None else scale
        self.query_conv = torch.nn.Conv2d(channels, channels, 1, bias=False)
        self.key_conv = torch.nn.Conv2d(channels, channels, 1, bias=False)
        self.value_conv = torch.nn.Conv2d(channels, channels, 1, bias=False)
        # rel_h[c, a - i + k//2]: row offsets (first C/2 channels); rel_w[c, b - j + k//2]: columns.
        self.rel_h = torch.nn.Parameter(torch.randn(channels // 2, kernel_size))
        self.rel_w = torch.nn.Parameter(torch.randn(channels // 2, kernel_size))

    def forward(self, x):
        return self.attend(self.query_conv(x), self.key_conv(x), self.value_conv(x))

    def attend(self, q, k, v):
        """The attention core on projected q, k, v: [B, C, H, W] each -> y [B, C, H, W]."""
        batch, channels, height, width = q.shape
        ks, n = self.kernel_size, self.heads
        d = channels // n
        p = ks // 2
        # Zero-pad and unfold keys and values: [B, C, H, W, k, k] (views of the padded tensors).
        k_out = F.pad(k, [p, p, p, p]).unfold(2, ks, 1).unfold(3, ks, 1)
        v_out = F.pad(v, [p, p, p, p]).unfold(2, ks, 1).unfold(3, ks, 1)
        # Relative embeddings on the keys, as the port does it: rows on the first C/2 channels,
        # columns on the last C/2 (broadcast over H, W and the other window axis).
        k_out_h, k_out_w = k_out.split(channels // 2, dim=1)
        k_out = torch.cat((k_out_h + self.rel_h.view(channels // 2, 1, 1, ks, 1),
                           k_out_w + self.rel_w.view(channels // 2, 1, 1, 1, ks)), dim=1)
        k_out = k_out.contiguous().view(batch, n, d, height, width, ks * ks)
        v_out = v_out.contiguous().view(batch, n, d, height, width, ks * ks)
        q_out = (q * self.scale).view(batch, n, d, height, width, 1)
        logits = (q_out * k_out).sum(dim=2)                       # [B, N, H, W, k*k]
        attn = F.softmax(logits, dim=-1)
        # The port writes einsum("bnchwk,bnchwk->bnchw"); on these shapes einsum turns into B*N*H*W
        # tiny matrix products (1.4-1.6x slower overall, fwd and fwd+bwd, at 7x7 and 28x28).
        out = (attn.unsqueeze(2) * v_out).sum(dim=-1)             # [B, N, D, H, W]
        return out.reshape(batch, channels, height, width)


def attention_loops(q, k, v, rel_h, rel_w, ks, heads, scale):
    """Straightforward reference: per pixel, per head, explicit window with bounds tests
    (outside the image: key = value = 0, so the logit is q.r), manual softmax. NCHW inputs."""
    batch, channels, height, width = q.shape
    d, half, p = channels // heads, channels // 2, ks // 2
    y = torch.zeros_like(q)
    for b in range(batch):
        for i in range(height):
            for j in range(width):
                for n in range(heads):
                    cs = range(n * d, (n + 1) * d)
                    logits, values = [], []
                    for a in range(i - p, i + p + 1):
                        for c2 in range(j - p, j + p + 1):
                            inside = 0 <= a < height and 0 <= c2 < width
                            lg = q.new_zeros(())
                            for c in cs:
                                r = rel_h[c, a - i + p] if c < half else rel_w[c - half, c2 - j + p]
                                kv = k[b, c, a, c2] if inside else 0.0
                                lg = lg + scale * q[b, c, i, j] * (kv + r)
                            logits.append(lg)
                            values.append(v[b, n * d:(n + 1) * d, a, c2] if inside else q.new_zeros(d))
                    lg = torch.stack(logits)
                    w = torch.exp(lg - lg.max())
                    w = w / w.sum()
                    y[b, n * d:(n + 1) * d, i, j] = sum(wi * vi for wi, vi in zip(w, values))
    return y


def check_attention():
    """Float64 checks of AttentionConv; returns (ok, details)."""
    torch.manual_seed(0)
    details = {}
    ok = True

    def close(name, got, want, tol=1e-10):
        nonlocal ok
        err = (got - want).abs().max().item() if got.numel() else 0.0
        details[name] = err
        if not err <= tol * max(1.0, want.abs().max().item() if want.numel() else 0.0):
            ok = False

    # 1. Layer (projections + core) vs loops, forward and gradients, on [1,5,4,8] k=3, 2 heads,
    #    and on a case with k larger than the image and 4 heads ([2,2,3,8], k=5).
    for (bs, hh, ww, cc), ks, heads in (((1, 5, 4, 8), 3, 2), ((2, 2, 3, 8), 5, 4)):
        tag = f"[{bs},{hh},{ww},{cc}]k{ks}h{heads}"
        layer = AttentionConv(cc, ks, heads).double()
        x = torch.randn(bs, cc, hh, ww, dtype=torch.float64, requires_grad=True)
        g = torch.randn(bs, cc, hh, ww, dtype=torch.float64)
        y = layer(x)
        params = [layer.query_conv.weight, layer.key_conv.weight, layer.value_conv.weight, layer.rel_h, layer.rel_w]
        assert len(params) == len(list(layer.parameters()))
        grads = torch.autograd.grad(y, [x] + params, g)
        x2 = x.detach().clone().requires_grad_(True)
        params2 = [t.detach().clone().requires_grad_(True) for t in params]
        wq, wk, wv, rh, rw = params2
        proj = lambda w: torch.einsum("oc,bchw->bohw", w.view(cc, cc), x2)
        y2 = attention_loops(proj(wq), proj(wk), proj(wv), rh, rw, ks, heads, layer.scale)
        grads2 = torch.autograd.grad(y2, [x2] + params2, g)
        close(f"{tag} y", y, y2)
        for name, g1, g2 in zip(("dx", "dWq", "dWk", "dWv", "drel_h", "drel_w"), grads, grads2):
            close(f"{tag} {name}", g1, g2)

    # 2. gradcheck (finite differences) of the layer on a tiny input.
    layer = AttentionConv(4, 3, 2).double()
    x = torch.randn(1, 4, 3, 3, dtype=torch.float64, requires_grad=True)
    gc = torch.autograd.gradcheck(lambda t: layer(t), (x,), eps=1e-6, atol=1e-6)
    details["gradcheck"] = bool(gc)
    ok = ok and bool(gc)

    # 3. sasa's golden values (NHWC op on q, k, v, relRow [K, C/2], relCol [K, C/2]).
    golden = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "golden", "local_attention.json")
    n_golden = 0
    if os.path.exists(golden):
        with open(golden) as f:
            cases = json.load(f)["cases"]
        for c in cases:
            if c["padding"] != "zeros" or c["logits"] != "qk+qr":
                continue
            bs, hh, ww, cc = c["shape"]
            t = lambda key, shape: torch.tensor(c[key], dtype=torch.float64).view(*shape)
            nchw = lambda key: t(key, (bs, hh, ww, cc)).permute(0, 3, 1, 2).contiguous().requires_grad_(True)
            q, k, v = nchw("q"), nchw("k"), nchw("v")
            layer = AttentionConv(cc, c["kernelSize"], c["heads"], scale=c["scaleValue"]).double()
            with torch.no_grad():
                layer.rel_h.copy_(t("relRow", (c["kernelSize"], cc // 2)).t())
                layer.rel_w.copy_(t("relCol", (c["kernelSize"], cc // 2)).t())
            y = layer.attend(q, k, v)
            gy = t("G", (bs, hh, ww, cc)).permute(0, 3, 1, 2)
            dq, dk, dv, drh, drw = torch.autograd.grad(y, [q, k, v, layer.rel_h, layer.rel_w], gy)
            to_nchw = lambda key: t(key, (bs, hh, ww, cc)).permute(0, 3, 1, 2)
            tol = 1e-7  # the golden file stores 9 significant digits
            close(f"golden {c['name']} y", y, to_nchw("y"), tol)
            close(f"golden {c['name']} dq", dq, to_nchw("dq"), tol)
            close(f"golden {c['name']} dk", dk, to_nchw("dk"), tol)
            close(f"golden {c['name']} dv", dv, to_nchw("dv"), tol)
            close(f"golden {c['name']} dRelRow", drh.t(), t("dRelRow", (c["kernelSize"], cc // 2)), tol)
            close(f"golden {c['name']} dRelCol", drw.t(), t("dRelCol", (c["kernelSize"], cc // 2)), tol)
            n_golden += 1
    details["golden_cases"] = n_golden
    return ok, details


def bench_attention(a):
    n, h, w, c = (int(v) for v in a.shape.split(","))
    layer = AttentionConv(c, a.k, a.heads)
    x = torch.randn(n, c, h, w)
    if not a.backward:
        def step():
            with torch.no_grad():
                layer(x)
    else:
        x.requires_grad_(True)
        grad_out = torch.randn(n, c, h, w)
        params = list(layer.parameters())

        def step():
            x.grad = None
            for t in params:
                t.grad = None
            layer(x).backward(grad_out)
    ms = median_ms(step, a.runs, a.warmup, a.warmup_ms)
    return {"impl": "pytorch-unfold", "shape": [n, h, w, c], "k": a.k, "heads": a.heads,
            "backward": a.backward, "median_ms": ms}


class Bottleneck(torch.nn.Module):
    """torchvision's Bottleneck (v1.5: stride on the spatial op); `attention` replaces the 3x3 conv
    by AttentionConv (k 7, 8 heads) followed, when strided, by 2x2 average pooling."""
    expansion = 4

    def __init__(self, cin, width, stride, attention):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = torch.nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(width)
        if attention:
            layers = [AttentionConv(width, 7, 8)]
            if stride == 2:
                layers.append(torch.nn.AvgPool2d(2, 2))
            self.conv2 = torch.nn.Sequential(*layers)
        else:
            self.conv2 = torch.nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(width)
        self.conv3 = torch.nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = torch.nn.BatchNorm2d(cout)
        torch.nn.init.zeros_(self.bn3.weight)
        self.relu = torch.nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                                  torch.nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class AttentionStem(torch.nn.Module):
    """The SASA attention stem (SASA.md section 2) as sasa's AttentionStem computes it, NCHW:
    q, k = 1x1 projections; values v = sum_m p(a,b,m) W_V^m x with (a, b) the pixel's position in
    its 4x4 block and p = softmax_m((emb_a[a] + emb_b[b]) . emb_mix[m]) (the public port's
    emb_a/emb_b/emb_mix, m value convs); every pixel attends to the 16 pixels of its block, `heads`
    heads, relative logits q.r with r = [rel_h[row offset] ; rel_w[column offset]] split across
    heads like q; then BN, ReLU, 4x4 max pool. The public port (leaderj1001's AttentionStem) unfolds
    keys and all m value maps over sliding 4x4 windows ([B, m, C, H, W, 4, 4]: ~6.6 GB per tensor
    at batch 8, 224x224, 64 channels); here the blocks are cut with reshapes and the window
    products are batched matrix products, which is the same math at a fraction of the memory."""

    def __init__(self, cin=3, channels=64, heads=4, block=4, mixtures=4):
        super().__init__()
        self.channels, self.heads, self.block, self.mixtures = channels, heads, block, mixtures
        d = channels // heads
        self.scale = d ** -0.5
        self.query_conv = torch.nn.Conv2d(cin, channels, 1, bias=False)
        self.key_conv = torch.nn.Conv2d(cin, channels, 1, bias=False)
        self.value_conv = torch.nn.Conv2d(cin, mixtures * channels, 1, bias=False)  # the m value matrices
        self.emb_a = torch.nn.Parameter(torch.randn(block, d) * d ** -0.5)
        self.emb_b = torch.nn.Parameter(torch.randn(block, d) * d ** -0.5)
        self.emb_mix = torch.nn.Parameter(torch.randn(mixtures, d) * d ** -0.5)
        self.rel_h = torch.nn.Parameter(torch.randn(channels // 2, 2 * block - 1) * d ** -0.5)
        self.rel_w = torch.nn.Parameter(torch.randn(channels // 2, 2 * block - 1) * d ** -0.5)
        s = block
        pos = torch.arange(s * s)
        rows, cols = pos // s, pos % s
        # offsets key - query + s - 1 for every (query, key) pair of a block
        self.register_buffer("dr", (rows[None, :] - rows[:, None] + s - 1), persistent=False)
        self.register_buffer("dc", (cols[None, :] - cols[:, None] + s - 1), persistent=False)
        self.bn = torch.nn.BatchNorm2d(channels)
        self.pool = torch.nn.MaxPool2d(block, block)

    def to_blocks(self, t, c):
        """[B, c, H, W] -> [B, heads, Hb, Wb, s*s, c/heads]"""
        b, _, h, w = t.shape
        s, n = self.block, self.heads
        t = t.reshape(b, n, c // n, h // s, s, w // s, s)
        return t.permute(0, 1, 3, 5, 4, 6, 2).reshape(b, n, h // s, w // s, s * s, c // n)

    def forward(self, x):
        b, _, h, w = x.shape
        s, n, c, m = self.block, self.heads, self.channels, self.mixtures
        d = c // n
        q = self.to_blocks(self.query_conv(x) * self.scale, c)
        k = self.to_blocks(self.key_conv(x), c)
        # spatially-aware values: mixture weights per position in the block
        p = F.softmax((self.emb_a[:, None, :] + self.emb_b[None, :, :]) @ self.emb_mix.t(), dim=-1)  # [s, s, m]
        vm = self.value_conv(x).reshape(b, m, c, h // s, s, w // s, s)
        v = (vm * p.permute(2, 0, 1).reshape(1, m, 1, 1, s, 1, s)).sum(1)   # [B, C, Hb, s, Wb, s]
        v = self.to_blocks(v.reshape(b, c, h, w), c)
        # relative tables for every (query, key) pair: [C, s*s, s*s] -> per head [n, d, s*s, s*s]
        r = torch.cat((self.rel_h[:, self.dr], self.rel_w[:, self.dc]), dim=0).reshape(n, d, s * s, s * s)
        logits = q @ k.transpose(-1, -2) + torch.einsum("bnxyqd,ndqk->bnxyqk", q, r)
        out = F.softmax(logits, dim=-1) @ v                     # [B, n, Hb, Wb, s*s, d]
        out = out.reshape(b, n, h // s, w // s, s, s, d).permute(0, 1, 6, 2, 4, 3, 5).reshape(b, c, h, w)
        return self.pool(F.relu(self.bn(out)))


class ResNet26(torch.nn.Module):
    def __init__(self, classes=1000, attention=False, blocks=(1, 2, 4, 1), attention_stem=None):
        super().__init__()
        if attention_stem is None:
            attention_stem = attention
        if attention_stem:
            self.stem = AttentionStem()
        else:
            self.stem = torch.nn.Sequential(
                torch.nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), torch.nn.BatchNorm2d(64),
                torch.nn.ReLU(inplace=True), torch.nn.MaxPool2d(3, stride=2, padding=1))
        layers, cin = [], 64
        for g, (count, width) in enumerate(zip(blocks, (64, 128, 256, 512))):
            for i in range(count):
                layers.append(Bottleneck(cin, width, 2 if g > 0 and i == 0 else 1, attention))
                cin = width * 4
        self.layers = torch.nn.Sequential(*layers)
        self.fc = torch.nn.Linear(cin, classes)
        for mod in self.modules():
            if isinstance(mod, torch.nn.Conv2d) and not attention:
                torch.nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def bench_model(a):
    attention = a.model.startswith("sasa")
    model = ResNet26(a.classes, attention=attention, attention_stem=a.model == "sasa_resnet26")
    fmt = torch.channels_last if a.memory_format == "channels_last" else torch.contiguous_format
    model = model.to(memory_format=fmt)
    x = torch.randn(a.batch, 3, a.size, a.size).to(memory_format=fmt)
    labels = torch.arange(a.batch) * 7919 % a.classes
    if not a.train:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
    else:
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        loss_fn = torch.nn.CrossEntropyLoss()

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x), labels).backward()
            opt.step()
    ms = median_ms(step, a.runs, a.warmup, a.warmup_ms)
    return {"impl": "pytorch-unfold" if a.model.startswith("sasa") else "pytorch", "model": a.model,
            "batch": a.batch, "size": a.size, "classes": a.classes, "train": a.train,
            "memory_format": a.memory_format,
            "optimizer": {"name": "sgd_momentum", "learningRate": 0.1, "momentum": 0.9} if a.train else None,
            "median_ms": ms, "images_per_s": round(a.batch * 1e3 / ms, 2)}


def bench_matmul(a):
    s = a.size
    x, y = torch.randn(s, s), torch.randn(s, s)
    out = {"size": s}
    if a.check:
        ref = x.double() @ y.double()
        err = ((x @ y).double() - ref).abs().max().item()
        out["max_abs_err"] = err
        out["check_ok"] = err <= 1e-3 * ref.abs().max().item()
    out["median_ms"] = median_ms(lambda: torch.mm(x, y), a.runs, a.warmup, a.warmup_ms)
    return out


def blas_libs():
    """The BLAS/LAPACK/oneDNN libraries actually mapped (Debian's torch uses whatever libblas.so.3 resolves to)."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if ".so" in line}
    return sorted(p for p in paths if any(k in os.path.basename(p) for k in ("blas", "lapack", "dnnl", "mkl", "blis")))


def set_malloc(mode):
    """'retain': serve every allocation from the heap and never trim it, so large tensors freed in
    one run are reused by the next instead of being munmap'ed and page-faulted in again (what
    jemalloc/tcmalloc, which PyTorch's CPU tuning guide recommends, achieve by caching).
    Returns whether glibc accepted the settings."""
    if mode == "glibc":
        return True
    import ctypes
    libc = ctypes.CDLL("libc.so.6")
    m_trim_threshold, m_mmap_threshold = -1, -3
    big = 2 ** 31 - 1
    return bool(libc.mallopt(m_mmap_threshold, big)) and bool(libc.mallopt(m_trim_threshold, big))


def main():
    a = parse_args()
    if not set_malloc(a.malloc):
        sys.exit(f"mallopt refused --malloc {a.malloc}")
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.bench == "attention" and a.check:
        ok, details = check_attention()
        worst = max((v for v in details.values() if isinstance(v, float)), default=0.0)
        if a.json:
            print(json.dumps({"bench": "attention", "check": True, "check_ok": ok, "max_abs_err": worst,
                              "torch": torch.__version__, "details": details}), flush=True)
        else:
            bad = sorted((k for k, v in details.items() if isinstance(v, float) and not v <= 1e-7),
                         key=lambda k: -details[k])[:6]
            print(f"attention check {'passed' if ok else 'FAILED'}: max abs err {worst:.3g} over "
                  f"{sum(isinstance(v, float) for v in details.values())} comparisons "
                  f"({details['golden_cases']} golden cases), gradcheck {details['gradcheck']}"
                  + (f"; largest: {', '.join(f'{k} {details[k]:.3g}' for k in bad)}" if bad else ""))
        sys.exit(0 if ok else "attention check failed")
    res = {"bench": a.bench, "impl": "pytorch"}
    res.update({"conv": bench_conv, "matmul": bench_matmul, "attention": bench_attention,
                "model": bench_model}[a.bench](a))
    res.update({
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "runs": a.runs, "warmup": a.warmup, "warmup_ms": a.warmup_ms, "threads": torch.get_num_threads(),
        "malloc": a.malloc, **TIMED_STATS,
        "torch": torch.__version__,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "blas": next((kv.split("=", 1)[1] for kv in torch.__config__.show().replace(",", "\n").split()
                      if kv.startswith("BLAS_INFO=")), "unknown"),
        "blas_libs": blas_libs(),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
    })
    if a.json:
        print(json.dumps(res), flush=True)
    else:
        if a.bench == "conv":
            what = (f"conv {res['shape']} {a.kernel}x{a.kernel} ->{a.filters} s{a.stride}"
                    f"{(' fwd+bwd' if a.input_grad else ' fwd+dW') if a.backward else ' fwd'}")
        elif a.bench == "model":
            what = (f"{a.model} [{a.batch},{a.size},{a.size},3] {a.memory_format} "
                    f"{'train step' if a.train else 'inference'} ({res['images_per_s']:.1f} images/s)")
        elif a.bench == "attention":
            what = f"unfold attention {res['shape']} k{a.k} {a.heads} heads{' fwd+bwd' if a.backward else ' fwd'}"
        else:
            what = f"matmul {a.size}^3"
        print(f"pytorch {res['torch']} {what}: median {res['median_ms']:.2f} ms over {a.runs} runs, "
              f"peak RSS {res['peak_rss_mb']:.0f} MB, {res['threads']} threads")
    if res.get("check_ok") is False:
        sys.exit(f"matmul check failed: max abs err {res['max_abs_err']}")


if __name__ == "__main__":
    main()
