/**
 * Analytic parameter and FLOP counts of a detector at its nominal input size (SASA.md §4's
 * convention, as models/count.ts): a multiply-add is 2 FLOPs; a k×k convolution 2·k²·c_in·c_out per
 * output pixel (biases not counted); attention per pixel of its input (before any pooling)
 * 2·(projections)·d_in·d_out + 2·k²·d_out per q·k, q·r and the weighted sum. Batch norm,
 * activations, upsampling, additions and pooling are not counted. Parameters are the trainable
 * weights of an unfrozen detector (backbone BN gamma and beta included, moving statistics not;
 * conv biases included; with `levelBatchNorm` the pyramid's and subnets' batch norms, 2·channels each, one
 * per level); the subnets are shared, so their parameters count once and their FLOPs once per level. The backbone is models/count.ts's count without the classifier.
 */
import { attentionCount, countModel, type LayerCount } from '../count.js';
import { type DetectorConfig, type FpnType, type ResolvedDetector, resolveDetectorConfig } from './config.js';

/**
 * {@link countDetector}'s result: trainable parameters and forward FLOPs of one [inputSize, inputSize]
 * image, in total, per part and per layer.
 */
export interface DetectorCount {
  name: string;
  inputSize: number;
  params: number;
  flops: number;
  /** params and FLOPs of the backbone, the pyramid and the two subnets. */
  parts: { backbone: LayerCount; pyramid: LayerCount; classification: LayerCount; regression: LayerCount };
  layers: LayerCount[];
}

/** A k×k convolution with bias on an output of `pixels`. */
function conv(name: string, k: number, cin: number, cout: number, pixels: number): LayerCount {
  return { name, params: (k * k * cin + 1) * cout, flops: 2 * k * k * cin * cout * pixels };
}

const pixels = (d: ResolvedDetector, level: number) => d.levels[level].size[0] * d.levels[level].size[1];

/** A 3×3 conv or attention (`kind`), `channels` → `channels`, on an input of `inSize` (output: inSize / strides). */
function spatial(
  d: ResolvedDetector,
  kind: FpnType,
  name: string,
  inSize: [number, number],
  strides: number,
): LayerCount {
  const c = d.channels;
  if (kind === 'attention') return attentionCount(name, c, c, inSize[0], inSize[1], d.attention);
  return conv(name, 3, c, c, (inSize[0] * inSize[1]) / (strides * strides));
}

/** The per-level batch norms `${prefix}.${level}` of `levelBatchNorm` (none without it): gamma and beta. */
function levelNorms(d: ResolvedDetector, prefix: string): LayerCount[] {
  if (!d.levelBatchNorm) return [];
  return d.levels.map((l) => ({ name: `${prefix}.${l.name}`, params: 2 * d.channels, flops: 0 }));
}

function pyramidCounts(d: ResolvedDetector): LayerCount[] {
  const size = (l: number) => d.levels[l].size;
  return [
    ...d.backboneChannels.map((cin, i) => conv(`fpn.inner_blocks.${i}`, 1, cin, d.channels, pixels(d, i))),
    ...[0, 1, 2].map((i) => spatial(d, d.fpn, `fpn.layer_blocks.${i}`, size(i), 1)),
    spatial(d, d.fpn, 'fpn.extra_blocks.p6', size(2), 2),
    spatial(d, d.fpn, 'fpn.extra_blocks.p7', size(3), 2),
    ...levelNorms(d, 'fpn.norm'),
  ];
}

/** One subnet's layers (named as the builder names them), FLOPs summed over the levels. */
function subnetCounts(d: ResolvedDetector, kind: 'classification' | 'regression'): LayerCount[] {
  const prefix = `head.${kind}_head`;
  const predictor = `${prefix}.${kind === 'classification' ? 'cls_logits' : 'bbox_reg'}`;
  const outputs = d.anchorsPerLocation * (kind === 'classification' ? d.classes : 4);
  const overLevels = (one: (size: [number, number]) => LayerCount): LayerCount => {
    const per = d.levels.map((l) => one(l.size));
    return { name: per[0].name, params: per[0].params, flops: per.reduce((s, l) => s + l.flops, 0) };
  };
  const layers: LayerCount[] = [];
  for (let i = 0; i < d.subnetDepth; i++) {
    layers.push(
      overLevels((s) => spatial(d, d.heads, `${prefix}.conv.${i}`, s, 1)),
      ...levelNorms(d, `${prefix}.norm.${i}`),
    );
  }
  if (d.heads === 'conv') {
    layers.push(overLevels((s) => conv(predictor, 3, d.channels, outputs, s[0] * s[1])));
  } else {
    layers.push(overLevels((s) => spatial(d, d.heads, `${prefix}.attention`, s, 1)));
    layers.push(overLevels((s) => conv(predictor, 1, d.channels, outputs, s[0] * s[1])));
  }
  return layers;
}

function total(name: string, layers: LayerCount[]): LayerCount {
  return {
    name,
    params: layers.reduce((s, l) => s + l.params, 0),
    flops: layers.reduce((s, l) => s + l.flops, 0),
  };
}

/** Parameters and FLOPs of a detector at its `inputSize`, by part and by layer. */
export function countDetector(config: DetectorConfig | ResolvedDetector): DetectorCount {
  const d = 'levels' in config ? config : resolveDetectorConfig(config);
  const backbone = countModel(d.backbone).layers.filter((l) => l.name !== 'fc');
  const pyramid = pyramidCounts(d);
  const classification = subnetCounts(d, 'classification');
  const regression = subnetCounts(d, 'regression');
  const parts = {
    backbone: total('backbone', backbone),
    pyramid: total('fpn', pyramid),
    classification: total('head.classification_head', classification),
    regression: total('head.regression_head', regression),
  };
  const all = Object.values(parts);
  return {
    name: d.name,
    inputSize: d.inputSize,
    params: all.reduce((s, p) => s + p.params, 0),
    flops: all.reduce((s, p) => s + p.flops, 0),
    parts,
    layers: [...backbone, ...pyramid, ...classification, ...regression],
  };
}
