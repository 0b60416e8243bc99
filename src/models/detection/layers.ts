/**
 * The layers of RetinaNet's pyramid and subnets, made once and applied to every level that shares them.
 * Convolutions are tfjs-layers' Conv2D with a bias and 'same' padding (TensorFlow's: a stride-2 3×3
 * convolution pads bottom/right, PyTorch's padding 1 pads all sides; the output sizes agree, ⌈H/2⌉).
 * Initialisers as torchvision 0.14:
 * - the FPN and P6/P7: kaiming_uniform_(a=1), i.e. U(±√(3 / fan_in)), bias 0;
 * - the subnets: N(0, σ²) (σ = the detector's subnetStddev, torchvision's 0.01), bias 0, the
 *   classification output's bias −log((1 − π)/π).
 * Attention layers (`fpn: 'attention'`) are LocalSelfAttention2D with `channels` outputs and the
 * detector's attention options; stride 2 is attention then 2×2 average pooling.
 * With `levelBatchNorm`, batch norms (layers/batch_norm.ts defaults) follow them, one per pyramid level.
 */

import { BatchNorm } from '../../layers/batch_norm.js';
import { LocalSelfAttention2D } from '../../layers/local_self_attention.js';
import { seedOf } from '../../layers/seeds.js';
import * as tf from '../../tf.js';
import type { ResolvedDetector } from './config.js';

export type Sym = tf.SymbolicTensor;

/** kaiming_uniform_(a=1): gain 1, U(±√(3 / fan_in)). */
const fpnInit = (seed: { seed?: number }) =>
  tf.initializers.varianceScaling({ scale: 1, mode: 'fanIn', distribution: 'uniform', ...seed });
const subnetInit = (seed: { seed?: number }, stddev: number) =>
  tf.initializers.randomNormal({ mean: 0, stddev, ...seed });

export interface ConvOptions {
  name: string;
  filters: number;
  kernelSize: number;
  strides?: number;
  /** 'fpn' initial weights, or the subnets' N(0, stddev²). */
  init: 'fpn' | { stddev: number };
  /** Initial bias. Default 0. */
  bias?: number;
  relu?: boolean;
  /** The detector's seed (layers/seeds.ts); unseeded when undefined. */
  seed?: number;
}

/** A k×k convolution with bias (and ReLU when asked, fused in the same kernel). */
export function conv(o: ConvOptions): tf.layers.Layer {
  return tf.layers.conv2d({
    name: o.name,
    filters: o.filters,
    kernelSize: o.kernelSize,
    strides: o.strides ?? 1,
    padding: 'same',
    useBias: true,
    activation: o.relu ? 'relu' : 'linear',
    kernelInitializer:
      o.init === 'fpn'
        ? fpnInit(seedOf(o.seed, `${o.name}.kernel`))
        : subnetInit(seedOf(o.seed, `${o.name}.kernel`), o.init.stddev),
    biasInitializer: tf.initializers.constant({ value: o.bias ?? 0 }),
  });
}

/** A local self-attention layer d_in → `channels` (stride 2: then 2×2 average pooling); W_V from N(0, valueStddev²) when given. */
export function attention(
  d: ResolvedDetector,
  name: string,
  seed: number | undefined,
  strides = 1,
  valueStddev?: number,
): tf.layers.Layer {
  const a = d.attention;
  return new LocalSelfAttention2D({
    name,
    filters: d.channels,
    kernelSize: a.kernelSize,
    heads: a.heads,
    strides,
    positional: a.positional,
    logits: a.logits,
    padding: a.padding,
    ...(a.scale === undefined ? {} : { scale: a.scale }),
    ...(valueStddev === undefined ? {} : { valueStddev }),
    ...seedOf(seed, name),
  });
}

/** The FPN's spatial op, `channels` outputs: a 3×3 convolution (torchvision's init) or attention. */
export function fpnSpatial(d: ResolvedDetector, name: string, seed: number | undefined, strides = 1): tf.layers.Layer {
  if (d.fpn === 'attention') return attention(d, name, seed, strides);
  return conv({ name, filters: d.channels, kernelSize: 3, strides, init: 'fpn', seed });
}

export const apply = (layer: tf.layers.Layer, x: Sym | Sym[]): Sym => layer.apply(x) as Sym;

/** A batch norm of one pyramid level (`levelBatchNorm`), the ReLU fused when asked. */
export const levelNorm = (name: string, relu: boolean): tf.layers.Layer => new BatchNorm({ name, relu });
