#!/usr/bin/python3
"""Golden values for a whole sasa network (full attention), from the PyTorch twin (python/sasa_torch, float64).

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

The network is the PyTorch twin (python/sasa_torch, create_model(MODEL, CONFIG_OVERRIDES)) in
float64: the one PyTorch implementation of sasa's networks, whose ops are checked against loop
references in gen_local_attention_golden.py. Self-checks before anything is written: the twin's
batch norm equals the formulas above (forward and running-stat update); the strided attention's
ceil-mode pooling equals an explicit mean.

Run (Debian's PyTorch; deterministic, writes both files), then format the JSON like the other
fixtures so that `npm run lint` passes:
  /usr/bin/python3 tools/gen_model_golden.py && npx biome format --write test/golden/model.json
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "python"))
from gen_local_attention_golden import r9  # noqa: E402
from sasa_torch import create_model  # noqa: E402
from sasa_torch.layers import batch_norm  # noqa: E402
from sasa_torch.ops import avg_pool_same_2x2  # noqa: E402
from sasa_torch.safetensors_io import write_safetensors  # noqa: E402

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
# The network: the PyTorch twin (python/sasa_torch), float64
# ---------------------------------------------------------------------------
def twin(params, stats, training):
    """sasa_torch's SasaNet for MODEL + CONFIG_OVERRIDES holding these weights (float64, NCHW)."""
    net = create_model(MODEL, CONFIG_OVERRIDES).to(torch.float64).train(training)
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    shapes = {k: list(v.shape) for k, v in {**params, **stats}.items()}
    assert shapes == {k: list(v.shape) for k, v in state.items()}, "param_shapes() differs from the twin's weights"
    with torch.no_grad():
        for k, v in state.items():
            v.copy_(params[k] if k in params else stats[k])
    return net


def run(net, x):
    """x [B, S, S, C] (NHWC, as sasa takes it) -> logits [B, classes]."""
    return net(x.permute(0, 3, 1, 2))


def running_stats(net):
    return {k: v for k, v in net.state_dict().items() if k.endswith(("running_mean", "running_var"))}


# ---------------------------------------------------------------------------
# Self-checks
# ---------------------------------------------------------------------------
def self_check():
    """The twin's batch norm against the formulas above (decay, unbiased running variance), and
    ceil-mode pooling of an odd side against an explicit mean."""
    g = torch.Generator().manual_seed(7)
    t = torch.randn(3, 6, 5, 4, generator=g) * 2 + 1
    bn = batch_norm(6, DECAY, EPS).to(torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(6, generator=g) + 0.5)
        bn.bias.copy_(torch.randn(6, generator=g))
        bn.running_mean.copy_(torch.randn(6, generator=g))
        bn.running_var.copy_(torch.rand(6, generator=g) + 0.5)
    rm, rv = bn.running_mean.clone(), bn.running_var.clone()
    rows = t.permute(0, 2, 3, 1).reshape(-1, 6)
    n, mean, var = rows.shape[0], rows.mean(0), rows.var(0, unbiased=False)
    view = lambda u: u[None, :, None, None]  # noqa: E731
    eval_ref = (t - view(rm)) / torch.sqrt(view(rv) + EPS) * view(bn.weight) + view(bn.bias)
    assert (bn.eval()(t) - eval_ref).abs().max().item() < 1e-12, "bn eval"
    train_ref = (t - view(mean)) / torch.sqrt(view(var) + EPS) * view(bn.weight) + view(bn.bias)
    assert (bn.train()(t) - train_ref).abs().max().item() < 1e-12, "bn train"
    assert (bn.running_mean - (DECAY * rm + (1 - DECAY) * mean)).abs().max().item() < 1e-12
    assert (bn.running_var - (DECAY * rv + (1 - DECAY) * var * n / (n - 1))).abs().max().item() < 1e-12
    t = torch.randn(1, 2, 3, 5, generator=g)
    pooled = avg_pool_same_2x2(t)
    for i in range(2):
        for j in range(3):
            assert (pooled[0, :, i, j] - t[0, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2].mean((1, 2))).abs().max() < 1e-14


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------
def main():
    g = torch.Generator().manual_seed(20190611)
    params, stats = make_params(g)
    x = f32(torch.randn(BATCH, SIZE, SIZE, IN_CH, generator=g))
    G = f32(torch.randn(BATCH, CLASSES, generator=g))
    self_check()

    with torch.no_grad():
        logits_eval = run(twin(params, stats, training=False), x)

    net = twin(params, stats, training=True)
    named = dict(net.named_parameters())
    leaves = {k: named[k] for k in params}  # in param_shapes() order, as the file lists them
    xl = x.clone().requires_grad_(True)
    logits_train = run(net, xl)
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
        "runningStats": {name: r9(running_stats(net)[name]) for name in stats},
    }
    text = json.dumps(doc, separators=(",", ":")) + "\n"
    with open(OUT_JSON, "w") as f:
        f.write(text)
    print(f"wrote {OUT_WEIGHTS} ({size} bytes, {len(weights)} tensors), {OUT_JSON} ({len(text)} bytes)",
          file=sys.stderr)
    print("logits eval", logits_eval.tolist(), "\nlogits train", logits_train.tolist(), file=sys.stderr)


if __name__ == "__main__":
    main()
