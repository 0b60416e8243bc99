/**
 * buildDetector: a DetectorConfig (config.ts) as a tfjs LayersModel with two outputs, in order
 *   images [B, H, W, C_in] → backbone C3, C4, C5 → pyramid P3 … P7 → subnets →
 *   clsLogits [B, N, K] and boxRegression [B, N, 4],  N = Σ_levels (H/s)·(W/s)·A,
 * levels P3 → P7, location-major within a level, then anchor: torchvision 0.14's RetinaNet order and
 * the anchor generator's (tasks/detection/anchors.ts). H and W are free (multiples of 128) unless
 * `fixedInputSize` asks for the configured square size.
 * Frozen batch norm sets every BatchNorm of the backbone, and the attention stem (its batch norm is
 * inside the layer), to `trainable = false`: moving statistics in training, no trained gamma/beta; the
 * pyramid's and subnets' batch norms (`levelBatchNorm`) stay trained.
 */

import { AttentionStem } from '../../layers/attention_stem.js';
import { BatchNorm } from '../../layers/batch_norm.js';
import * as tf from '../../tf.js';
import { buildGroupOutputs } from '../builder.js';
import { type DetectorConfig, INPUT_MULTIPLE, type ResolvedDetector, resolveDetectorConfig } from './config.js';
import type { Sym } from './layers.js';
import { buildPyramid } from './pyramid.js';
import { buildSubnet } from './subnets.js';

/** Options of {@link buildDetector} (and `createDetector`). */
export interface DetectorBuildOptions {
  /** Seeds the initial weights (same seed, same weights; layers/seeds.ts); unseeded by default. */
  seed?: number;
  /** Input [inputSize, inputSize, C] instead of [any, any, C]. Default false. */
  fixedInputSize?: boolean;
}

/** A detector's predictions for a batch. */
export interface DetectorOutputs {
  /** [B, N, K] logits (sigmoid per class). */
  clsLogits: tf.Tensor3D;
  /** [B, N, 4] box deltas (dx, dy, dw, dh) relative to the anchors. */
  boxRegression: tf.Tensor3D;
}

const resolvedOf = new WeakMap<tf.LayersModel, ResolvedDetector>();

/** The resolved configuration a detector was built from (undefined for models built elsewhere). */
export function detectorConfigOf(model: tf.LayersModel): ResolvedDetector | undefined {
  return resolvedOf.get(model);
}

/** Layers of the pyramid and the subnets (named as pyramid.ts and subnets.ts name them). */
const isHeadLayer = (layer: tf.layers.Layer) => layer.name.startsWith('fpn.') || layer.name.startsWith('head.');

function freezeBatchNorm(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if ((layer instanceof BatchNorm || layer instanceof AttentionStem) && !isHeadLayer(layer)) layer.trainable = false;
  }
}

function build(d: ResolvedDetector, fixedInputSize: boolean, seed: number | undefined): tf.LayersModel {
  const side = fixedInputSize ? d.inputSize : null;
  const input = tf.input({ shape: [side, side, d.backbone.inputChannels], name: 'input' });
  const groups = buildGroupOutputs(d.backbone, input, seed);
  const levels = buildPyramid(d, [groups[1], groups[2], groups[3]] as [Sym, Sym, Sym], seed);
  const outputs = [buildSubnet(d, 'classification', levels, seed), buildSubnet(d, 'regression', levels, seed)];
  const model = tf.model({ inputs: input, outputs, name: d.name });
  if (d.frozenBatchNorm) freezeBatchNorm(model);
  return model;
}

/** Builds the detector a configuration describes; errors name the detector and the option at fault. */
export function buildDetector(
  config: DetectorConfig | ResolvedDetector,
  options: DetectorBuildOptions = {},
): tf.LayersModel {
  const resolved = 'levels' in config ? config : resolveDetectorConfig(config);
  const model = build(resolved, options.fixedInputSize ?? false, options.seed);
  resolvedOf.set(model, resolved);
  return model;
}

/** Runs a detector on images [B, H, W, C] (H, W multiples of 128); `training` for batch statistics. */
export function detectorOutputs(model: tf.LayersModel, images: tf.Tensor4D, training = false): DetectorOutputs {
  if (images.rank !== 4) throw new Error(`detector images must be [B, H, W, C], got [${images.shape.join(', ')}]`);
  const [, h, w] = images.shape;
  if (h % INPUT_MULTIPLE !== 0 || w % INPUT_MULTIPLE !== 0) {
    throw new Error(`detector images: height and width must be multiples of ${INPUT_MULTIPLE}, got ${h}×${w}`);
  }
  const [clsLogits, boxRegression] = model.apply(images, { training }) as tf.Tensor3D[];
  return { clsLogits, boxRegression };
}
