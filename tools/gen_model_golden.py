#!/usr/bin/python3
"""Golden values for a whole sasa network (full attention), from an independent PyTorch model (float64).

The network is what `buildModel` (src/models/builder.ts) builds for
  createModel('sasa_resnet26', CONFIG_OVERRIDES)      (CONFIG_OVERRIDES below, stored in model.json)
i.e. widths 64/128/256/512 x 0.0625 rounded to multiples of 8 (min 8) -> 8, 8, 16, 32 (outputs x4),
stem width 8, blocks [2, 1, 1, 1], input 40x40x3 (batch 2), 5 classes, attention k = 3 with 2 heads, stem
with 4 heads and 4 value mixtures. Written from docs/SASA.md §1-3 and the documented layer
semantics, channels-last ([B, H, W, C]) like tfjs, parameters under torchvision-style names in
PyTorch layouts (src/io/torch_names.ts):

  stem (AttentionStem, SASA.md §2), x [B, 24, 24, 3]:
    cut into 4x4 blocks; in a block, pixel p = (i, j) attends to all 16 pixels p' = (a, b):
      q = x Wq^T, k = x Wk^T                         (stem.query.weight, stem.key.weight [C, 3])
      mix(a, b, m) = softmax_m((emb_row[a] + emb_col[b]) . emb_mix[m])   (emb_* [4, E], E = C/heads)
      v_p' = sum_m mix(p', m) x_p' Wv[m]^T           (stem.value.weight [m, C, 3])
      r(p, p') = concat(rel_row[a - i + 3], rel_col[b - j + 3])          (rel_* [7, C/2])
      per head n (channels n*D..(n+1)*D, D = C/heads), scale s = D^-0.5:
      y_p = sum_p' softmax_p'(s q_p.k_p' + s q_p.r(p, p')) v_p'
    then BN (stem.bn.*), ReLU, 4x4 max pool (= max over the block)         -> [B, 10, 10, 8]
  bottleneck block (ResNet v1.5, SASA.md §3), layerG.I:
    conv1 1x1, bn1, ReLU; conv2 = local self-attention (SASA.md §1: dense q/k/v projections
    conv2.{query,key,value}.weight [width, in], relative tables conv2.rel_row/rel_col [3, width/2],
    zero padding, scale (width/heads)^-0.5; stride 2 = attention then 2x2 average pooling,
    ceil mode: a partial last window averages the pixels it covers); bn2, ReLU; conv3 1x1, bn3;
    + shortcut (identity, or downsample.0 = 1x1 conv with the block's stride: TF 'same' padding,
    none for a 1x1 kernel, + downsample.1 = BN); ReLU.
    Maps: layer1 10x10 (layer1.0 projection 8 -> 32, layer1.1 identity), layer2 10 -> 5,
    layer3 5 -> 3 and layer4 3 -> 2 (odd sides: ceil pooling, shortcut samples rows 0, 2, 4).
    The smallest map has 2x2 pixels, so every training-mode BN normalises >= 8 rows (a 1x1 map
    with batch 2 would make BN's backward a float32 cancellation test rather than a model test).
  global average pool, fc (fc.weight [5, 128], fc.bias).
  BN: eval y = (x - running_mean) / sqrt(running_var + eps) * weight + bias; training uses the
  batch's mean and biased variance over B*H*W, and updates
    running = decay * running + (1 - decay) * stat   (variance unbiased: * n / (n - 1)), decay 0.9,
  eps 1e-5 (src/layers/batch_norm.ts).

Weights are random (seeded): every trainable weight and the BN running stats (non-trivial means
and variances), BN gammas random and non-zero (the builder zero-initialises each block's last
gamma; here they are overridden so that gradients reach every weight). Weights are rounded to
float32 before use (they are stored as float32); x and G are rounded to float32 too.

Outputs:
  test/golden/model_weights.safetensors  every weight (trainable and running stats) by PyTorch
      name and layout, F32, written by hand (u64 LE header length, JSON header with __metadata__,
      padded with spaces to a multiple of 8, raw little-endian float32 data).
  test/golden/model.json {"generator", "torch", "model", "config" (createModel overrides),
      "inputShape", "x" (NHWC, flat), "G" [B, classes], "logitsEval" (BN with the stored running
      stats), "logitsTrain" (BN with batch statistics), "dx" and "grads" {PyTorch name: flat, PyTorch
      layout}: d sum(logitsTrain * G) / d input and every trainable weight, "runningStats"
      {name: flat}: every BN running_mean / running_var after one training-mode forward}.
  Floats are written with 9 significant digits.

Self-checks before anything is written: the stem attention equals the generic local attention
reference (gen_local_attention_golden.py) run on the blocks with k = 7 'masked'; the hand-written
batch norm (forward and running-stat update) equals torch.nn.functional.batch_norm; the strided
attention's pooling equals an explicit loop.

Run (Debian's PyTorch; deterministic, writes both files), then format the JSON like the other
fixtures so that `npm run lint` passes:
  /usr/bin/python3 tools/gen_model_golden.py && npx biome format --write test/golden/model.json
"""
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_local_attention_golden import local_attention_ref, r9  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

GENERATOR = "tools/gen_model_golden.py"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT_JSON = os.path.join(ROOT, "test", "golden", "model.json")
OUT_WEIGHTS = os.path.join(ROOT, "test", "golden", "model_weights.safetensors")

MODEL = "sasa_resnet26"
CONFIG_OVERRIDES = {
    "widthMultiplier": 0.0625,
    "blocks": [2, 1, 1, 1],
    "inputSize": 40,
    "classes": 5,
    "attention": {"kernelSize": 3, "heads": 2},
}
BATCH = 2
IN_CH = 3
SIZE = 40
CLASSES = 5
STEM_WIDTH = 8
STEM_HEADS = 4
MIXTURES = 4
BLOCK = 4
K = 3
HEADS = 2
DECAY = 0.9
EPS = 1e-5
# (name, in, width, out, stride, input side); widths 8, 8, 16, 32 after the multiplier, expansion 4
BLOCKS = [
    ("layer1.0", 8, 8, 32, 1, 10),
    ("layer1.1", 32, 8, 32, 1, 10),
    ("layer2.0", 32, 8, 32, 2, 10),
    ("layer3.0", 32, 16, 64, 2, 5),
    ("layer4.0", 64, 32, 128, 2, 3),
]
FEATURES = 128


# ---------------------------------------------------------------------------
# Parameters (PyTorch names and layouts)
# ---------------------------------------------------------------------------
def bn_names(prefix):
    return [f"{prefix}.weight", f"{prefix}.bias"], [f"{prefix}.running_mean", f"{prefix}.running_var"]


def param_shapes():
    """Trainable parameters and BN buffers in the order of the model's weights."""
    C, E = STEM_WIDTH, STEM_WIDTH // STEM_HEADS
    p = {
        "stem.query.weight": [C, IN_CH],
        "stem.key.weight": [C, IN_CH],
        "stem.value.weight": [MIXTURES, C, IN_CH],
        "stem.emb_row": [BLOCK, E],
        "stem.emb_col": [BLOCK, E],
        "stem.emb_mix": [MIXTURES, E],
        "stem.rel_row": [2 * BLOCK - 1, C // 2],
        "stem.rel_col": [2 * BLOCK - 1, C // 2],
        "stem.bn.weight": [C],
        "stem.bn.bias": [C],
    }
    buffers = {"stem.bn.running_mean": [C], "stem.bn.running_var": [C]}
    for name, cin, width, cout, stride, _ in BLOCKS:
        p[f"{name}.conv1.weight"] = [width, cin, 1, 1]
        for bn, c in (("bn1", width), ("bn2", width), ("bn3", cout)):
            p[f"{name}.{bn}.weight"] = [c]
            p[f"{name}.{bn}.bias"] = [c]
            buffers[f"{name}.{bn}.running_mean"] = [c]
            buffers[f"{name}.{bn}.running_var"] = [c]
        for proj in ("query", "key", "value"):
            p[f"{name}.conv2.{proj}.weight"] = [width, width]
        p[f"{name}.conv2.rel_row"] = [K, width // 2]
        p[f"{name}.conv2.rel_col"] = [K, width // 2]
        p[f"{name}.conv3.weight"] = [cout, width, 1, 1]
        if stride != 1 or cin != cout:
            p[f"{name}.downsample.0.weight"] = [cout, cin, 1, 1]
            p[f"{name}.downsample.1.weight"] = [cout]
            p[f"{name}.downsample.1.bias"] = [cout]
            buffers[f"{name}.downsample.1.running_mean"] = [cout]
            buffers[f"{name}.downsample.1.running_var"] = [cout]
    p["fc.weight"] = [CLASSES, FEATURES]
    p["fc.bias"] = [CLASSES]
    return p, buffers


def f32(t):
    """Rounds to float32 (what the files store and tfjs computes with), back to float64."""
    return t.to(torch.float32).to(torch.float64)


def make_params(g):
    shapes, buffers = param_shapes()
    params = {}
    for name, shape in shapes.items():
        last = name.rsplit(".", 1)[-1]
        if name.endswith(("bn.weight", "bn1.weight", "bn2.weight", "bn3.weight", "downsample.1.weight")):
            # non-zero gammas, random sign on a few so nothing is symmetric
            t = (0.5 + torch.rand(shape, generator=g)) * torch.where(torch.rand(shape, generator=g) < 0.15, -1.0, 1.0)
        elif name.endswith((".bias",)) and not name.startswith("fc"):
            t = 0.2 * torch.randn(shape, generator=g)
        elif last in ("rel_row", "rel_col"):
            t = torch.randn(shape, generator=g) * (shape[1] * 2 / (STEM_HEADS if name.startswith("stem") else HEADS)) ** -0.5
        elif last in ("emb_row", "emb_col", "emb_mix"):
            t = torch.randn(shape, generator=g) * shape[1] ** -0.5
        elif name == "fc.bias":
            t = 0.1 * torch.randn(shape, generator=g)
        else:  # projections and convolutions: std fan_in^-0.5
            fan_in = shape[-1] if len(shape) in (2, 3) else shape[1] * shape[2] * shape[3]
            t = torch.randn(shape, generator=g) * fan_in ** -0.5
        params[name] = f32(t)
    stats = {}
    for name, shape in buffers.items():
        if name.endswith("running_mean"):
            stats[name] = f32(0.3 * torch.randn(shape, generator=g))
        else:
            stats[name] = f32(0.5 + 1.5 * torch.rand(shape, generator=g))
    return params, stats


# ---------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------
class Net:
    """Functional float64 model over a dict of PyTorch-named tensors; BN state in self.stats."""

    def __init__(self, params, stats, training):
        self.P = params
        self.stats = {k: v.clone() for k, v in stats.items()}
        self.training = training

    def bn(self, prefix, x):
        """Channels-last batch norm over every axis but the last."""
        w, b = self.P[f"{prefix}.weight"], self.P[f"{prefix}.bias"]
        rm, rv = f"{prefix}.running_mean", f"{prefix}.running_var"
        if not self.training:
            return (x - self.stats[rm]) / torch.sqrt(self.stats[rv] + EPS) * w + b
        rows = x.reshape(-1, x.shape[-1])
        n = rows.shape[0]
        mean = rows.mean(0)
        var = ((rows - mean) ** 2).mean(0)
        unbiased = var * n / (n - 1) if n > 1 else var
        self.stats[rm] = DECAY * self.stats[rm] + (1 - DECAY) * mean.detach()
        self.stats[rv] = DECAY * self.stats[rv] + (1 - DECAY) * unbiased.detach()
        return (x - mean) / torch.sqrt(var + EPS) * w + b

    def conv1x1(self, name, x, stride=1):
        """1x1 convolution, NHWC in and out; TF 'same' with a 1x1 kernel pads nothing."""
        y = F.conv2d(x.permute(0, 3, 1, 2), self.P[f"{name}.weight"], stride=stride)
        return y.permute(0, 2, 3, 1)

    def stem(self, x):
        P, s, C, N = self.P, BLOCK, STEM_WIDTH, STEM_HEADS
        D = C // N
        B, H, W, cin = x.shape
        n = B * (H // s) * (W // s)
        # blocks: [n, s*s, cin], position p = a*s + b inside the block
        xb = x.reshape(B, H // s, s, W // s, s, cin).permute(0, 1, 3, 2, 4, 5).reshape(n, s * s, cin)
        q = xb @ P["stem.query.weight"].T
        k = xb @ P["stem.key.weight"].T
        pos = (P["stem.emb_row"][:, None, :] + P["stem.emb_col"][None, :, :]).reshape(s * s, -1)
        mix = torch.softmax(pos @ P["stem.emb_mix"].T, dim=-1)  # [s*s, m]
        vm = torch.einsum("npi,moi->npmo", xb, P["stem.value.weight"])  # x W_V^m for every m
        v = torch.einsum("pm,npmo->npo", mix, vm)
        a = torch.arange(s).repeat_interleave(s)  # row of position p
        b = torch.arange(s).repeat(s)  # column
        drow = a[None, :] - a[:, None] + s - 1  # [p, p'] index of a' - a
        dcol = b[None, :] - b[:, None] + s - 1
        r = torch.cat([P["stem.rel_row"][drow], P["stem.rel_col"][dcol]], dim=-1)  # [p, p', C]
        qh = q.reshape(n, s * s, N, D) * D ** -0.5
        kh = k.reshape(n, s * s, N, D)
        rh = r.reshape(s * s, s * s, N, D)
        logits = torch.einsum("nphd,nqhd->nhpq", qh, kh)
        logits = logits + torch.einsum("nphd,pqhd->nhpq", qh, rh)
        attn = torch.softmax(logits, dim=-1)
        y = torch.einsum("nhpq,nqhd->nphd", attn, v.reshape(n, s * s, N, D)).reshape(n, s * s, C)
        self._stem_attention = (xb, q, k, v, y)  # for the self-check
        y = torch.relu(self.bn("stem.bn", y))
        return y.max(dim=1).values.reshape(B, H // s, W // s, C)  # 4x4 max pool = max over the block

    def attention(self, name, x, stride):
        P = self.P
        q = x @ P[f"{name}.query.weight"].T
        k = x @ P[f"{name}.key.weight"].T
        v = x @ P[f"{name}.value.weight"].T
        y = local_attention_ref(q, k, v, P[f"{name}.rel_row"], P[f"{name}.rel_col"], K, HEADS, None, "zeros",
                                "qk+qr")
        if stride == 2:
            y = F.avg_pool2d(y.permute(0, 3, 1, 2), 2, 2, ceil_mode=True).permute(0, 2, 3, 1)
        return y

    def block(self, name, x, stride, projection):
        y = torch.relu(self.bn(f"{name}.bn1", self.conv1x1(f"{name}.conv1", x)))
        y = torch.relu(self.bn(f"{name}.bn2", self.attention(f"{name}.conv2", y, stride)))
        y = self.bn(f"{name}.bn3", self.conv1x1(f"{name}.conv3", y))
        sc = self.bn(f"{name}.downsample.1", self.conv1x1(f"{name}.downsample.0", x, stride)) if projection else x
        return torch.relu(y + sc)

    def __call__(self, x):
        y = self.stem(x)
        for name, cin, _, cout, stride, side in BLOCKS:
            assert y.shape[1] == side and y.shape[3] == cin, (name, y.shape)
            y = self.block(name, y, stride, stride != 1 or cin != cout)
        y = y.mean(dim=(1, 2))
        return y @ self.P["fc.weight"].T + self.P["fc.bias"]


# ---------------------------------------------------------------------------
# Self-checks
# ---------------------------------------------------------------------------
def self_check(params, stats, x):
    net = Net(params, stats, training=True)
    net(x)
    xb, q, k, v, y = net._stem_attention
    s = BLOCK
    shp = lambda t: t.reshape(t.shape[0], s, s, t.shape[-1])  # noqa: E731
    y2 = local_attention_ref(shp(q), shp(k), shp(v), params["stem.rel_row"], params["stem.rel_col"], 2 * s - 1,
                             STEM_HEADS, None, "masked", "qk+qr")
    err = (shp(y) - y2).abs().max().item()
    assert err < 1e-12, ("stem attention vs local_attention_ref", err)
    # batch norm against torch's, training and eval, including the running-stat update
    g = torch.Generator().manual_seed(7)
    t = torch.randn(3, 5, 4, 6, generator=g) * 2 + 1
    w, b = torch.rand(6, generator=g) + 0.5, torch.randn(6, generator=g)
    rm, rv = torch.randn(6, generator=g), torch.rand(6, generator=g) + 0.5
    for training in (True, False):
        mine = Net({"t.weight": w, "t.bias": b}, {"t.running_mean": rm, "t.running_var": rv}, training)
        got = mine.bn("t", t)
        rm2, rv2 = rm.clone(), rv.clone()
        ref = F.batch_norm(t.permute(0, 3, 1, 2), rm2, rv2, w, b, training, 1 - DECAY, EPS).permute(0, 2, 3, 1)
        assert (got - ref).abs().max().item() < 1e-12, ("bn", training)
        assert (mine.stats["t.running_mean"] - rm2).abs().max().item() < 1e-12
        assert (mine.stats["t.running_var"] - rv2).abs().max().item() < 1e-12
    # ceil-mode 2x2 average pooling of an odd side = mean of the covered pixels
    t = torch.randn(1, 3, 5, 2, generator=g)
    pooled = F.avg_pool2d(t.permute(0, 3, 1, 2), 2, 2, ceil_mode=True).permute(0, 2, 3, 1)
    for i in range(2):
        for j in range(3):
            ref = t[0, 2 * i:2 * i + 2, 2 * j:2 * j + 2].reshape(-1, 2).mean(0)
            assert (pooled[0, i, j] - ref).abs().max().item() < 1e-14


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------
def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    chunks = []
    offset = 0
    for name, t in tensors.items():
        data = struct.pack(f"<{t.numel()}f", *t.reshape(-1).tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)
    return 8 + len(h) + offset


def main():
    g = torch.Generator().manual_seed(20190611)
    params, stats = make_params(g)
    x = f32(torch.randn(BATCH, SIZE, SIZE, IN_CH, generator=g))
    G = f32(torch.randn(BATCH, CLASSES, generator=g))
    self_check(params, stats, x)

    with torch.no_grad():
        logits_eval = Net(params, stats, training=False)(x)

    leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    xl = x.clone().requires_grad_(True)
    net = Net(leaves, stats, training=True)
    logits_train = net(xl)
    grads = torch.autograd.grad((logits_train * G).sum(), [xl, *leaves.values()])
    for name, gr in zip(leaves, grads[1:]):
        assert gr.abs().max().item() > 0, f"no gradient reaches {name}"

    weights = {**params, **stats}
    size = write_safetensors(OUT_WEIGHTS, {k: v for k, v in weights.items()},
                             {"generator": GENERATOR, "torch": torch.__version__})
    doc = {
        "generator": GENERATOR,
        "torch": torch.__version__,
        "model": MODEL,
        "config": CONFIG_OVERRIDES,
        "weights": "model_weights.safetensors",
        "inputShape": [BATCH, SIZE, SIZE, IN_CH],
        "bnDecay": DECAY,
        "x": r9(x),
        "G": r9(G),
        "logitsEval": r9(logits_eval),
        "logitsTrain": r9(logits_train.detach()),
        "dx": r9(grads[0]),
        "grads": {name: r9(gr) for name, gr in zip(leaves, grads[1:])},
        "runningStats": {name: r9(t) for name, t in net.stats.items()},
    }
    text = json.dumps(doc, separators=(",", ":")) + "\n"
    with open(OUT_JSON, "w") as f:
        f.write(text)
    print(f"wrote {OUT_WEIGHTS} ({size} bytes, {len(weights)} tensors), {OUT_JSON} ({len(text)} bytes)",
          file=sys.stderr)
    print("logits eval", logits_eval.tolist(), "\nlogits train", logits_train.tolist(), file=sys.stderr)


if __name__ == "__main__":
    main()
