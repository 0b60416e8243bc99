/**
 * RetinaNet as data (SASA.md §5, torchvision 0.14's `retinanet_resnet50_fpn`): a registered
 * classification network as the backbone (its groups 2–4 give C3–C5 at strides 8, 16, 32), a
 * feature pyramid P3–P7 and the classification and box subnets shared across levels, with
 * convolutions (`fpn: 'conv'`) or local self-attention (`fpn: 'attention'`, the paper's variant); the
 * subnets follow the pyramid unless `heads` says otherwise.
 * `resolveDetectorConfig` holds every default and check; the builder and the count read its result.
 */

import { resolveAttentionOptions } from '../../ops/local_attention/options.js';
import {
  type AttentionConfig,
  type ModelConfig,
  type ResolvedAttention,
  type ResolvedConfig,
  resolveConfig,
  sameOut,
} from '../config.js';
import { modelConfig } from '../registry.js';

/** The spatial op of the FPN's output layers and P6, P7 (`fpn`) or of the subnets (`heads`). */
export type FpnType = 'conv' | 'attention';

export const FPN_TYPES: readonly FpnType[] = ['conv', 'attention'];

/** A registered classification model (`listModels()`) with overrides (merged as `modelConfig` does). */
export interface BackboneConfig {
  name: string;
  overrides?: Partial<ModelConfig>;
}

/**
 * A RetinaNet detector as data (SASA.md §5): backbone, pyramid and subnets. Optional fields get their
 * defaults, and every field its checks, in {@link resolveDetectorConfig}.
 */
export interface DetectorConfig {
  /** Registry name or a free label. */
  name?: string;
  backbone: BackboneConfig;
  /** Default 'conv' (torchvision's RetinaNet). */
  fpn?: FpnType;
  /**
   * The subnets' spatial layers. Default: `fpn` (the paper's variants: conv or attention FPN + heads); the
   * other kind gives a mixed detector (the ablation "attention FPN, conv heads").
   */
  heads?: FpnType;
  /** Channels of P3–P7 and of the subnets. Default 256. */
  channels?: number;
  /** Hidden layers (3×3 conv or attention, then ReLU) of each subnet. Default 4. */
  subnetDepth?: number;
  /** Anchors per location A (sizes × aspect ratios of the anchor generator). Default 9. */
  anchorsPerLocation?: number;
  /** Object classes K (no background class: sigmoid outputs). Default 80 (COCO). */
  classes?: number;
  /**
   * Base anchor side per level P3 … P7 in input pixels (each with its two octave scales, tasks/detection's
   * octaveSizes). Default torchvision's 32, 64, 128, 256, 512; smaller objects want smaller anchors.
   */
  anchorSizes?: number[];
  /** Nominal square input side for counting; a multiple of 128 (P7's stride). Default 640. */
  inputSize?: number;
  /** The classification output's initial probability π: bias −log((1 − π)/π). Default 0.01. */
  priorProbability?: number;
  /**
   * Standard deviation of the subnets' initial weights (their convolutions and their attention layers'
   * W_V). Default torchvision's 0.01, whose per-layer gain √(9·256)·0.01 ≈ 0.48 narrower subnets keep
   * with 0.01·√(256 / channels).
   */
  subnetStddev?: number;
  /** The attention layers of `fpn: 'attention'`. Default k 7, 8 heads (SASA.md §5). */
  attention?: AttentionConfig;
  /** Backbone batch norms use their moving statistics in training and are not trained. Default false. */
  frozenBatchNorm?: boolean;
  /**
   * Batch norm in the pyramid and the subnets, as Google's TPU RetinaNet (the paper authors' codebase;
   * torchvision has none): one on each level's output P3 … P7 and, after each hidden subnet layer (before
   * its ReLU), one per level — the convolutions or attention layers stay shared across levels, the batch
   * norms do not. Attention wants it: without it the pyramid's and subnets' small features give logits
   * q·k near 0 and the deeper layers stay a uniform window average. Default false (torchvision).
   */
  levelBatchNorm?: boolean;
}

/** One pyramid level at the nominal input size. */
export interface PyramidLevel {
  /** 'p3' … 'p7'. */
  name: string;
  stride: number;
  size: [number, number];
}

/**
 * A {@link DetectorConfig} with every default filled in and checked ({@link resolveDetectorConfig}), the
 * backbone resolved at the input size, and the pyramid levels P3 … P7.
 */
export interface ResolvedDetector {
  name: string;
  /** The backbone's configuration at the detector's input size. */
  backbone: ResolvedConfig;
  /** Channels of C3, C4, C5. */
  backboneChannels: [number, number, number];
  fpn: FpnType;
  heads: FpnType;
  channels: number;
  subnetDepth: number;
  anchorsPerLocation: number;
  classes: number;
  anchorSizes: number[];
  inputSize: number;
  priorProbability: number;
  subnetStddev: number;
  attention: ResolvedAttention;
  frozenBatchNorm: boolean;
  levelBatchNorm: boolean;
  /** P3 … P7 at the nominal input size. */
  levels: PyramidLevel[];
  /** The configuration as given. */
  source: DetectorConfig;
}

/** Strides of C3, C4, C5 (backbone groups 2–4) and of P3 … P7. */
export const BACKBONE_STRIDES = [8, 16, 32] as const;
export const PYRAMID_STRIDES = [8, 16, 32, 64, 128] as const;
/** torchvision's standard deviation of the subnets' initial weights. */
export const SUBNET_STDDEV = 0.01;
/** torchvision's base anchor sides of P3 … P7. */
export const RETINANET_ANCHOR_SIZES: readonly number[] = Object.freeze([32, 64, 128, 256, 512]);
/** Input sides must be multiples of P7's stride so that every level halves exactly. */
export const INPUT_MULTIPLE = 128;

function fail(name: string, field: string, message: string): never {
  throw new Error(`detector '${name}': ${field} ${message}`);
}

function boolean(name: string, field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(name, field, `must be true or false, got ${String(v)}`);
  return v;
}

function positiveInt(name: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    fail(name, field, `must be a positive integer, got ${String(v)}`);
  return v;
}

function resolveAttention(name: string, a: AttentionConfig): ResolvedAttention {
  return resolveAttentionOptions(a, (field, problem) => fail(name, `attention.${field}`, problem));
}

/** One positive base anchor side per pyramid level. */
function resolveAnchorSizes(name: string, sizes: unknown): number[] {
  const levels = PYRAMID_STRIDES.length;
  if (!Array.isArray(sizes) || sizes.length !== levels) {
    fail(name, 'anchorSizes', `must hold ${levels} numbers (P3 … P7), got ${JSON.stringify(sizes)}`);
  }
  sizes.forEach((s, i) => {
    if (!(typeof s === 'number' && s > 0 && Number.isFinite(s))) {
      fail(name, `anchorSizes[${i}]`, `must be a positive number, got ${String(s)}`);
    }
  });
  return [...sizes];
}

/** Checks that `channels` suits the attention layers of `fpn: 'attention'` (they output `channels`). */
function checkAttentionChannels(name: string, channels: number, a: ResolvedAttention): void {
  if (channels % a.heads !== 0) fail(name, 'channels', `${channels} must be divisible by attention.heads ${a.heads}`);
  if (a.positional === 'relative' && channels % 2 !== 0) fail(name, 'channels', `${channels} must be even`);
  if (a.positional === 'absolute' && channels % 4 !== 0) {
    fail(name, 'channels', `${channels} must be divisible by 4 for absolute positions`);
  }
}

/** The last block of every group of a resolved network. */
function lastBlocks(c: ResolvedConfig): ResolvedConfig['blocks'] {
  let end = -1;
  return c.source.blocks.map((count) => {
    end += count;
    return c.blocks[end];
  });
}

/** The backbone at the detector's input size; it must have four groups with C3–C5 at strides 8, 16, 32. */
function resolveBackbone(name: string, b: BackboneConfig, inputSize: number): ResolvedConfig {
  if (!b || typeof b !== 'object' || typeof b.name !== 'string') {
    fail(name, 'backbone', `must be { name, overrides? } naming a registered model, got ${JSON.stringify(b)}`);
  }
  let resolved: ResolvedConfig;
  try {
    resolved = resolveConfig({ ...modelConfig(b.name, b.overrides), inputSize });
  } catch (e) {
    fail(name, `backbone '${b.name}':`, (e as Error).message);
  }
  const groups = resolved.source.blocks.length;
  if (groups !== 4) fail(name, 'backbone.overrides.blocks', `must have 4 groups (C2–C5), got ${groups}`);
  const strides = lastBlocks(resolved).map((last) => inputSize / sameOut(last.inputSize[0], last.stride));
  const c345 = strides.slice(1);
  if (c345.some((s, i) => s !== BACKBONE_STRIDES[i])) {
    fail(
      name,
      'backbone.overrides.stem.type',
      `'${resolved.stem.type}' puts groups 2–4 at strides ${c345.join(', ')}; RetinaNet needs C3–C5 at strides ${BACKBONE_STRIDES.join(', ')} (use a 'conv' or 'attention' stem)`,
    );
  }
  return resolved;
}

/** Checks a detector configuration and derives its backbone and pyramid; errors name the detector and the option. */
export function resolveDetectorConfig(config: DetectorConfig): ResolvedDetector {
  if (!config || typeof config !== 'object') throw new Error('detector config must be an object');
  const name = config.name ?? 'custom';
  const inputSize = positiveInt(name, 'inputSize', config.inputSize ?? 640);
  if (inputSize % INPUT_MULTIPLE !== 0) {
    fail(name, 'inputSize', `must be a multiple of ${INPUT_MULTIPLE} (the stride of P7), got ${inputSize}`);
  }
  const fpn = config.fpn ?? 'conv';
  if (!FPN_TYPES.includes(fpn)) fail(name, 'fpn', `must be one of ${FPN_TYPES.join(', ')}, got '${fpn}'`);
  const heads = config.heads ?? fpn;
  if (!FPN_TYPES.includes(heads)) fail(name, 'heads', `must be one of ${FPN_TYPES.join(', ')}, got '${heads}'`);
  const channels = positiveInt(name, 'channels', config.channels ?? 256);
  const subnetDepth = config.subnetDepth ?? 4;
  if (!Number.isInteger(subnetDepth) || subnetDepth < 0) {
    fail(name, 'subnetDepth', `must be a non-negative integer, got ${String(subnetDepth)}`);
  }
  const priorProbability = config.priorProbability ?? 0.01;
  if (!(typeof priorProbability === 'number' && priorProbability > 0 && priorProbability < 1)) {
    fail(name, 'priorProbability', `must be a number in (0, 1), got ${String(priorProbability)}`);
  }
  const subnetStddev = config.subnetStddev ?? SUBNET_STDDEV;
  if (!(typeof subnetStddev === 'number' && subnetStddev > 0 && Number.isFinite(subnetStddev))) {
    fail(name, 'subnetStddev', `must be a positive number, got ${String(subnetStddev)}`);
  }
  const frozenBatchNorm = boolean(name, 'frozenBatchNorm', config.frozenBatchNorm ?? false);
  const levelBatchNorm = boolean(name, 'levelBatchNorm', config.levelBatchNorm ?? false);
  const attention = resolveAttention(name, config.attention ?? {});
  if (fpn === 'attention' || heads === 'attention') checkAttentionChannels(name, channels, attention);
  const backbone = resolveBackbone(name, config.backbone, inputSize);
  const [, c3, c4, c5] = lastBlocks(backbone).map((b) => b.outChannels);
  return {
    name,
    backbone,
    backboneChannels: [c3, c4, c5],
    fpn,
    heads,
    channels,
    subnetDepth,
    anchorsPerLocation: positiveInt(name, 'anchorsPerLocation', config.anchorsPerLocation ?? 9),
    classes: positiveInt(name, 'classes', config.classes ?? 80),
    anchorSizes: resolveAnchorSizes(name, config.anchorSizes ?? RETINANET_ANCHOR_SIZES),
    inputSize,
    priorProbability,
    subnetStddev,
    attention,
    frozenBatchNorm,
    levelBatchNorm,
    levels: PYRAMID_STRIDES.map((stride, i) => ({
      name: `p${i + 3}`,
      stride,
      size: [inputSize / stride, inputSize / stride],
    })),
    source: config,
  };
}
