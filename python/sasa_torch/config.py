"""A network as data: the twin of src/models/config.ts (ModelConfig, resolveConfig) and
src/models/registry.ts (the registered models). Fields keep the TypeScript names in snake_case;
`ModelConfig.from_json` takes the camelCase dict that sasa stores (model.json, golden files).

Resolved: the stem's type and width, one ResolvedBlock per bottleneck (name 'layer2.0', channels,
stride, spatial op 'conv' | 'attention'), the attention options with defaults filled in.
"""
import math
from dataclasses import dataclass, fields, replace
from typing import List, Optional, Union

STEMS = ("conv", "attention", "small_conv", "small_attention")
STEM_VALUES = ("mixture", "plain", "conv")
LOGITS_MODES = ("qk+qr", "qr", "qk")
PADDING_MODES = ("zeros", "masked")
POSITIONAL = ("relative", "absolute", "none")
MAX_KERNEL_SIZE = 31
DEPTHS = {26: [1, 2, 4, 1], 38: [2, 3, 5, 2], 50: [3, 4, 6, 3]}


class ConfigError(ValueError):
    """A fault in a model configuration; the message names the model and the field."""

    def __init__(self, model, field_name, problem):
        super().__init__(f"model '{model}': {field_name} {problem}")
        self.model, self.field, self.problem = model, field_name, problem


def _camel(name):
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _from_json(cls, d):
    if d is None:
        return cls()
    known = {_camel(f.name): f.name for f in fields(cls)}
    unknown = [k for k in d if k not in known]
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown fields {unknown}")
    return cls(**{known[k]: v for k, v in d.items()})


@dataclass
class StemConfig:
    type: str = "conv"
    width: Optional[int] = None
    values: Optional[str] = None
    heads: Optional[int] = None
    mixtures: Optional[int] = None
    relative: Optional[bool] = None


@dataclass
class AttentionConfig:
    kernel_size: Optional[int] = None
    heads: Optional[int] = None
    positional: Optional[str] = None
    logits: Optional[str] = None
    padding: Optional[str] = None
    scale: Optional[Union[float, str]] = None


@dataclass
class ModelConfig:
    stem: StemConfig
    blocks: List[int]
    name: Optional[str] = None
    widths: Optional[List[int]] = None
    expansion: Optional[int] = None
    spatial: Optional[Union[str, List[str]]] = None
    attention: Optional[AttentionConfig] = None
    width_multiplier: Optional[float] = None
    classes: Optional[int] = None
    input_size: Optional[int] = None
    input_channels: Optional[int] = None
    bn_decay: Optional[float] = None
    bn_epsilon: Optional[float] = None
    zero_init_last_bn: Optional[bool] = None

    @staticmethod
    def from_json(d):
        """From sasa's camelCase form, e.g. {'stem': {'type': 'conv'}, 'blocks': [1, 2, 4, 1], 'inputSize': 64}."""
        d = dict(d)
        stem = _from_json(StemConfig, d.pop("stem", None))
        attention = _from_json(AttentionConfig, d.pop("attention", None))
        cfg = _from_json(ModelConfig, {"stem": None, "blocks": None, **d})
        return replace(cfg, stem=stem, attention=attention)


@dataclass
class ResolvedBlock:
    name: str
    in_channels: int
    width: int
    out_channels: int
    stride: int
    spatial: str
    input_size: int
    projection: bool


@dataclass
class ResolvedAttention:
    kernel_size: int
    heads: int
    positional: str
    logits: str
    padding: str
    scale: Optional[Union[float, str]]


@dataclass
class ResolvedStem:
    type: str
    width: int
    values: str
    heads: int
    mixtures: int
    relative: bool
    output_size: int


@dataclass
class ResolvedConfig:
    name: str
    input_size: int
    input_channels: int
    classes: int
    stem: ResolvedStem
    blocks: List[ResolvedBlock]
    attention: ResolvedAttention
    features: int
    bn_decay: float
    bn_epsilon: float
    zero_init_last_bn: bool


def scale_width(width, multiplier):
    """A scaled width rounded to a multiple of 8 (at least 8), like timm's make_divisible (JS Math.round)."""
    if multiplier == 1:
        return width
    return max(8, math.floor(width * multiplier / 8 + 0.5) * 8)


def same_out(size, stride):
    """Output side of a 'same'-padded op (TensorFlow's convention)."""
    return -(-size // stride)


def _positive_int(name, field_name, v):
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ConfigError(name, field_name, f"must be a positive integer, got {v}")
    return v


def _one_of(name, field_name, v, modes):
    if v not in modes:
        raise ConfigError(name, field_name, f"must be one of {', '.join(modes)}, got '{v}'")
    return v


def resolve_attention(name, a):
    a = a or AttentionConfig()
    k = 7 if a.kernel_size is None else a.kernel_size
    if not (isinstance(k, int) and 1 <= k <= MAX_KERNEL_SIZE and k % 2 == 1):
        raise ConfigError(name, "attention.kernelSize", f"must be an odd integer from 1 to {MAX_KERNEL_SIZE}, got {k}")
    heads = _positive_int(name, "attention.heads", 8 if a.heads is None else a.heads)
    positional = _one_of(name, "attention.positional", a.positional or "relative", POSITIONAL)
    logits = _one_of(name, "attention.logits", a.logits or ("qk+qr" if positional == "relative" else "qk"),
                     LOGITS_MODES)
    if positional != "relative" and logits != "qk":
        raise ConfigError(name, "attention.logits", f"must be 'qk' without relative positions, got '{logits}'")
    padding = _one_of(name, "attention.padding", a.padding or "zeros", PADDING_MODES)
    if not (a.scale is None or a.scale == "none" or (isinstance(a.scale, (int, float)) and math.isfinite(a.scale))):
        raise ConfigError(name, "attention.scale", f"must be a finite number or 'none', got {a.scale}")
    return ResolvedAttention(k, heads, positional, logits, padding, a.scale)


def _resolve_stem(name, s, multiplier, input_size):
    if s is None or s.type not in STEMS:
        raise ConfigError(name, "stem.type", f"must be one of {', '.join(STEMS)}, got '{getattr(s, 'type', None)}'")
    width = scale_width(_positive_int(name, "stem.width", 64 if s.width is None else s.width), multiplier)
    if s.type == "conv":
        out = same_out(same_out(input_size, 2), 2)
    elif s.type == "small_conv":
        out = input_size
    else:
        if input_size % 4:
            raise ConfigError(name, "inputSize", f"{input_size} must be a multiple of 4 for the attention stem")
        out = input_size // 4 if s.type == "attention" else input_size
    stem = ResolvedStem(s.type, width, s.values or "mixture", 4 if s.heads is None else s.heads,
                        4 if s.mixtures is None else s.mixtures, True if s.relative is None else s.relative, out)
    if s.type in ("attention", "small_attention"):
        _positive_int(name, "stem.heads", stem.heads)
        _positive_int(name, "stem.mixtures", stem.mixtures)
        if width % stem.heads:
            raise ConfigError(name, "stem.width", f"{width} must be divisible by stem.heads {stem.heads}")
        _one_of(name, "stem.values", stem.values, STEM_VALUES)
    return stem


def resolve_config(config):
    """Checks a ModelConfig (or sasa's camelCase dict) and derives every block's shape, as resolveConfig does."""
    if isinstance(config, dict):
        config = ModelConfig.from_json(config)
    name = config.name or "custom"
    input_size = _positive_int(name, "inputSize", config.input_size or 224)
    input_channels = _positive_int(name, "inputChannels", config.input_channels or 3)
    classes = _positive_int(name, "classes", config.classes or 1000)
    expansion = _positive_int(name, "expansion", config.expansion or 4)
    multiplier = 1 if config.width_multiplier is None else config.width_multiplier
    if not (isinstance(multiplier, (int, float)) and multiplier > 0 and math.isfinite(multiplier)):
        raise ConfigError(name, "widthMultiplier", f"must be a positive number, got {multiplier}")
    blocks = config.blocks
    if not isinstance(blocks, list) or not blocks:
        raise ConfigError(name, "blocks", "must be a non-empty array of block counts")
    for g, n in enumerate(blocks):
        _positive_int(name, f"blocks[{g}]", n)
    widths = config.widths or [64, 128, 256, 512][:len(blocks)]
    if len(widths) != len(blocks):
        raise ConfigError(name, "widths", f"must have one width per group ({len(blocks)}), got {widths}")
    spatial = config.spatial if isinstance(config.spatial, list) else [config.spatial or "conv"] * len(blocks)
    if len(spatial) != len(blocks):
        raise ConfigError(name, "spatial", f"must have one entry per group ({len(blocks)}), got {config.spatial}")
    for g, s in enumerate(spatial):
        if s not in ("conv", "attention"):
            raise ConfigError(name, f"spatial[{g}]", f"must be 'conv' or 'attention', got '{s}'")
    attention = resolve_attention(name, config.attention)
    stem = _resolve_stem(name, config.stem, multiplier, input_size)
    resolved, channels, size = [], stem.width, stem.output_size
    for g, count in enumerate(blocks):
        width = scale_width(_positive_int(name, f"widths[{g}]", widths[g]), multiplier)
        if spatial[g] == "attention":
            if width % attention.heads:
                raise ConfigError(name, "attention.heads", f"{attention.heads} must divide widths[{g}] {width}")
            if attention.positional == "relative" and width % 2:
                raise ConfigError(name, f"widths[{g}]", f"{width} must be even")
            if attention.positional == "absolute" and width % 4:
                raise ConfigError(name, f"widths[{g}]", f"{width} must be divisible by 4 for absolute positions")
        for i in range(count):
            stride = 2 if g > 0 and i == 0 else 1
            if stride == 2 and size < 2:
                raise ConfigError(name, "inputSize", f"{input_size} is too small for group {g + 1}")
            out = width * expansion
            resolved.append(ResolvedBlock(f"layer{g + 1}.{i}", channels, width, out, stride, spatial[g], size,
                                          stride != 1 or channels != out))
            size, channels = same_out(size, stride), out
    bn_decay = 0.9 if config.bn_decay is None else config.bn_decay
    if not 0 <= bn_decay < 1:
        raise ConfigError(name, "bnDecay", f"must be in [0, 1), got {bn_decay}")
    bn_epsilon = 1e-5 if config.bn_epsilon is None else config.bn_epsilon
    if not bn_epsilon > 0:
        raise ConfigError(name, "bnEpsilon", f"must be positive, got {bn_epsilon}")
    zero = True if config.zero_init_last_bn is None else config.zero_init_last_bn
    return ResolvedConfig(name, input_size, input_channels, classes, stem, resolved, attention, channels,
                          bn_decay, bn_epsilon, zero)


def _registry():
    m = {}
    for depth, blocks in DEPTHS.items():
        m[f"resnet{depth}"] = ModelConfig(StemConfig("conv"), blocks, f"resnet{depth}", spatial="conv")
        m[f"sasa_resnet{depth}_convstem"] = ModelConfig(StemConfig("conv"), blocks, f"sasa_resnet{depth}_convstem",
                                                         spatial="attention")
        m[f"sasa_resnet{depth}"] = ModelConfig(StemConfig("attention"), blocks, f"sasa_resnet{depth}",
                                                spatial="attention")
    demo = dict(width_multiplier=0.25, blocks=[1, 1, 1, 1], input_size=28, input_channels=1, classes=10,
                attention=AttentionConfig(kernel_size=7, heads=4))
    m["sasa_resnet26_demo"] = ModelConfig(StemConfig("small_attention"), name="sasa_resnet26_demo",
                                          spatial="attention", **demo)
    m["sasa_resnet26_convstem_demo"] = ModelConfig(StemConfig("small_conv"), name="sasa_resnet26_convstem_demo",
                                                   spatial="attention", **demo)
    m["resnet26_demo"] = ModelConfig(StemConfig("small_conv"), name="resnet26_demo", spatial="conv", **demo)
    return m


REGISTRY = _registry()


def model_config(name, overrides=None):
    """A registered model's config with overrides (camelCase dict as sasa's mergeConfig takes; stem and
    attention merged field by field)."""
    if name not in REGISTRY:
        raise ValueError(f"unknown model '{name}'; known models: {', '.join(REGISTRY)}")
    base = REGISTRY[name]
    o = dict(overrides or {})
    stem = replace(base.stem, **{f.name: v for f, v in _pick(StemConfig, o.pop("stem", {}))})
    attention = replace(base.attention or AttentionConfig(),
                        **{f.name: v for f, v in _pick(AttentionConfig, o.pop("attention", {}))})
    top = {f.name: v for f, v in _pick(ModelConfig, o)}
    return replace(base, **top, stem=stem, attention=attention)


def _pick(cls, d):
    by_camel = {_camel(f.name): f for f in fields(cls)}
    for k, v in d.items():
        if k not in by_camel:
            raise ValueError(f"{cls.__name__}: unknown field '{k}'")
        yield by_camel[k], v

