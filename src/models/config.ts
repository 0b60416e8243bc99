/**
 * A network as data (in the style of timm's ByoModelCfg): the stem, four groups of bottleneck
 * blocks whose spatial op is a convolution or local self-attention, and the classifier.
 * `resolveConfig` fills in defaults and checks everything; `buildModel` (builder.ts) and
 * `countModel` (count.ts) both read the resolved form, so the count is of the built network.
 */

import { STEM_DEFAULTS, STEM_VALUES, type StemValues } from '../layers/attention_stem.js';
import { BATCH_NORM_DEFAULTS, decayProblem } from '../layers/batch_norm.js';
import { epsilonProblem } from '../ops/batch_norm_train.js';
import {
  type AttentionLayerOptions,
  type ResolvedAttentionOptions,
  resolveAttentionOptions,
} from '../ops/local_attention/options.js';

/**
 * Stems (SASA.md §2):
 * - 'conv': 7×7/2 conv, BN, ReLU, 3×3/2 max pool (224 → 56).
 * - 'attention': attention in 4×4 blocks (values per `values`), BN, ReLU, 4×4 max pool (224 → 56).
 * - 'small_conv': 3×3/1 conv, BN, ReLU, no pooling: for 28×28 and 32×32 inputs.
 * - 'small_attention': the attention stem without pooling: for 28×28 and 32×32 inputs.
 */
export type StemType = 'conv' | 'attention' | 'small_conv' | 'small_attention';

/**
 * The network's stem: its type and width, and for the attention stems the value kind, heads, mixtures and
 * relative logits (defaults in `STEM_DEFAULTS`, layers/attention_stem.ts).
 */
export interface StemConfig {
  type: StemType;
  /** Output channels before the width multiplier. Default 64. */
  width?: number;
  /** Attention stems: how values are computed. Default 'mixture' (spatially-aware values). */
  values?: StemValues;
  /** Attention stems: heads (default 4), value mixtures (default 4), relative logits (default true). */
  heads?: number;
  mixtures?: number;
  relative?: boolean;
}

/** A block's spatial op: a 3×3 convolution or local self-attention. */
export type SpatialOp = 'conv' | 'attention';

/** Options of every attention layer of the blocks (SASA.md §1; defaults and limits in ops/local_attention/options.ts). */
export type AttentionConfig = AttentionLayerOptions;

/**
 * A classification network as data (SASA.md §3): a stem, groups of bottleneck blocks whose spatial op is
 * a 3×3 convolution or local self-attention, global average pooling and a dense classifier. Optional fields
 * get their defaults, and every field its checks, in {@link resolveConfig}.
 */
export interface ModelConfig {
  /** Registry name or a free label (shown in tables). */
  name?: string;
  stem: StemConfig;
  /** Blocks per group, e.g. [1, 2, 4, 1] for ResNet-26. */
  blocks: number[];
  /** Bottleneck widths per group before the multiplier. Default [64, 128, 256, 512]. */
  widths?: number[];
  /** Output channels = width · expansion. Default 4. */
  expansion?: number;
  /** Spatial op per group: one value for all, or one per group. Default 'conv'. */
  spatial?: SpatialOp | SpatialOp[];
  attention?: AttentionConfig;
  /** Multiplies the stem width and the group widths (rounded to multiples of 8, at least 8). Default 1. */
  widthMultiplier?: number;
  /** Classes of the final dense layer. Default 1000. */
  classes?: number;
  /** Input height = width. Default 224. */
  inputSize?: number;
  /** Input channels. Default 3. */
  inputChannels?: number;
  /** Batch-norm moving-average decay (default 0.9) and ε (default 1e-5). */
  bnDecay?: number;
  bnEpsilon?: number;
  /** Zero-initialise the last BN gamma of every block. Default true. */
  zeroInitLastBn?: boolean;
}

export type ResolvedAttention = ResolvedAttentionOptions;

/**
 * One bottleneck block as resolved: channels in, width of its spatial op, channels out (width · expansion),
 * stride, spatial op, input size, and whether its shortcut is a projection.
 */
export interface ResolvedBlock {
  /** e.g. 'layer2.0' */
  name: string;
  inChannels: number;
  width: number;
  outChannels: number;
  stride: number;
  spatial: SpatialOp;
  /** Input height and width of the block. */
  inputSize: [number, number];
  projection: boolean;
}

/**
 * The stem as resolved: its type, width (after the width multiplier), the attention stems' value kind,
 * heads, mixtures and relative logits, and its output size.
 */
export interface ResolvedStem {
  type: StemType;
  width: number;
  values: StemValues;
  heads: number;
  mixtures: number;
  relative: boolean;
  /** Output height and width. */
  outputSize: [number, number];
}

/**
 * A {@link ModelConfig} with every default filled in and checked ({@link resolveConfig}), its stem and
 * blocks worked out at the input size: what the builder and the counts read.
 */
export interface ResolvedConfig {
  name: string;
  inputSize: number;
  inputChannels: number;
  classes: number;
  stem: ResolvedStem;
  blocks: ResolvedBlock[];
  attention: ResolvedAttention;
  features: number;
  bnDecay: number;
  bnEpsilon: number;
  zeroInitLastBn: boolean;
  /** The configuration as given (for tables and saved models). */
  source: ModelConfig;
}

const STEMS: readonly StemType[] = ['conv', 'attention', 'small_conv', 'small_attention'];

/** Rounds a scaled width to a multiple of 8 (at least 8), like timm's make_divisible. */
export function scaleWidth(width: number, multiplier: number): number {
  if (multiplier === 1) return width;
  return Math.max(8, Math.round((width * multiplier) / 8) * 8);
}

/** Output size of a 'same'-padded op with this stride (TensorFlow's convention). */
export const sameOut = (size: number, stride: number) => Math.ceil(size / stride);

/** A fault in a model configuration: the message names the model and the field (e.g. 'attention.kernelSize'). */
export class ConfigError extends Error {
  constructor(
    readonly model: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`model '${model}': ${field} ${problem}`);
  }
}

function fail(name: string, field: string, message: string): never {
  throw new ConfigError(name, field, message);
}

function positiveInt(name: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    fail(name, field, `must be a positive integer, got ${String(v)}`);
  return v;
}

/** Checks a configuration and derives every layer's shape; errors name the model and the field. */
export function resolveConfig(config: ModelConfig): ResolvedConfig {
  const name = config.name ?? 'custom';
  if (!config || typeof config !== 'object') throw new Error('model config must be an object');
  const inputSize = positiveInt(name, 'inputSize', config.inputSize ?? 224);
  const inputChannels = positiveInt(name, 'inputChannels', config.inputChannels ?? 3);
  const classes = positiveInt(name, 'classes', config.classes ?? 1000);
  const expansion = positiveInt(name, 'expansion', config.expansion ?? 4);
  const multiplier = config.widthMultiplier ?? 1;
  if (!(typeof multiplier === 'number' && multiplier > 0 && Number.isFinite(multiplier))) {
    fail(name, 'widthMultiplier', `must be a positive number, got ${String(multiplier)}`);
  }
  const blocks = config.blocks;
  if (!Array.isArray(blocks) || blocks.length < 1) fail(name, 'blocks', 'must be a non-empty array of block counts');
  for (const [g, n] of blocks.entries()) positiveInt(name, `blocks[${g}]`, n);
  const widths = config.widths ?? [64, 128, 256, 512].slice(0, blocks.length);
  if (!Array.isArray(widths) || widths.length !== blocks.length) {
    fail(name, 'widths', `must have one width per group (${blocks.length}), got ${JSON.stringify(widths)}`);
  }
  for (const [g, w] of widths.entries()) positiveInt(name, `widths[${g}]`, w);
  const spatialList: SpatialOp[] = Array.isArray(config.spatial)
    ? config.spatial
    : blocks.map(() => (config.spatial as SpatialOp | undefined) ?? 'conv');
  if (spatialList.length !== blocks.length) {
    fail(name, 'spatial', `must have one entry per group (${blocks.length}), got ${JSON.stringify(config.spatial)}`);
  }
  spatialList.forEach((s, g) => {
    if (s !== 'conv' && s !== 'attention') fail(name, `spatial[${g}]`, `must be 'conv' or 'attention', got '${s}'`);
  });

  const attention = resolveAttentionOptions(config.attention ?? {}, (field, problem) =>
    fail(name, `attention.${field}`, problem),
  );
  const positional = attention.positional;

  const s = config.stem;
  if (!s || !STEMS.includes(s.type)) fail(name, 'stem.type', `must be one of ${STEMS.join(', ')}, got '${s?.type}'`);
  const stemWidth = scaleWidth(positiveInt(name, 'stem.width', s.width ?? STEM_DEFAULTS.filters), multiplier);
  const attentionStem = s.type === 'attention' || s.type === 'small_attention';
  let stemOut: number;
  if (s.type === 'conv') stemOut = sameOut(sameOut(inputSize, 2), 2);
  else if (s.type === 'attention') {
    if (inputSize % 4 !== 0) fail(name, 'inputSize', `${inputSize} must be a multiple of 4 for the attention stem`);
    stemOut = inputSize / 4;
  } else {
    if (s.type === 'small_attention' && inputSize % 4 !== 0) {
      fail(name, 'inputSize', `${inputSize} must be a multiple of 4 for the small attention stem`);
    }
    stemOut = inputSize;
  }
  const stem: ResolvedStem = {
    type: s.type,
    width: stemWidth,
    values: s.values ?? STEM_DEFAULTS.values,
    heads: s.heads ?? STEM_DEFAULTS.heads,
    mixtures: s.mixtures ?? STEM_DEFAULTS.mixtures,
    relative: s.relative ?? STEM_DEFAULTS.relative,
    outputSize: [stemOut, stemOut],
  };
  if (attentionStem) {
    positiveInt(name, 'stem.heads', stem.heads);
    positiveInt(name, 'stem.mixtures', stem.mixtures);
    if (stemWidth % stem.heads !== 0)
      fail(name, 'stem.width', `${stemWidth} must be divisible by stem.heads ${stem.heads}`);
    if (!STEM_VALUES.includes(stem.values)) {
      fail(name, 'stem.values', `must be one of ${STEM_VALUES.join(', ')}, got '${stem.values}'`);
    }
  }

  const resolved: ResolvedBlock[] = [];
  let channels = stemWidth;
  let size = stemOut;
  blocks.forEach((count, g) => {
    const width = scaleWidth(widths[g], multiplier);
    const outChannels = width * expansion;
    const spatial = spatialList[g];
    if (spatial === 'attention') {
      if (width % attention.heads !== 0) {
        fail(
          name,
          'attention.heads',
          `${attention.heads} must divide widths[${g}] ${width} (after the multiplier) of the attention blocks`,
        );
      }
      if (positional === 'relative' && width % 2 !== 0) fail(name, `widths[${g}]`, `${width} must be even`);
      if (positional === 'absolute' && width % 4 !== 0) {
        fail(name, `widths[${g}]`, `${width} must be divisible by 4 for absolute positions`);
      }
    }
    for (let i = 0; i < count; i++) {
      const stride = g > 0 && i === 0 ? 2 : 1;
      if (stride === 2 && size < 2) {
        fail(name, 'inputSize', `${inputSize} is too small: group ${g + 1} would downsample a ${size}×${size} map`);
      }
      resolved.push({
        name: `layer${g + 1}.${i}`,
        inChannels: channels,
        width,
        outChannels,
        stride,
        spatial,
        inputSize: [size, size],
        projection: stride !== 1 || channels !== outChannels,
      });
      // 'same' stride 2 for the conv, the attention's 2×2 pooling and the shortcut alike (ceil)
      size = sameOut(size, stride);
      channels = outChannels;
    }
  });
  const bnDecay = config.bnDecay ?? BATCH_NORM_DEFAULTS.decay;
  const bnEpsilon = config.bnEpsilon ?? BATCH_NORM_DEFAULTS.epsilon;
  for (const [field, problem] of [
    ['bnDecay', decayProblem(bnDecay)],
    ['bnEpsilon', epsilonProblem(bnEpsilon)],
  ] as const) {
    if (problem) fail(name, field, problem);
  }
  return {
    name,
    inputSize,
    inputChannels,
    classes,
    stem,
    blocks: resolved,
    attention,
    features: channels,
    bnDecay,
    bnEpsilon,
    zeroInitLastBn: config.zeroInitLastBn ?? true,
    source: config,
  };
}
