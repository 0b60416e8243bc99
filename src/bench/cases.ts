/**
 * Benchmark cases, the same ones bench/torch_peer.py runs on PyTorch:
 * - conv: 2-D convolution of x [B, H, W, C] with a k×k filter to `filters` channels, 'same'
 *   padding; with `backward`, forward plus the gradients w.r.t. input and filter for a fixed dy.
 * - matmul: an n×n by n×n float32 matrix product.
 * - attention: the LocalSelfAttention2D layer (bench/torch_peer.py: an unfold-based PyTorch layer).
 */
import * as tf from '@tensorflow/tfjs';
import { LocalSelfAttention2D } from '../layers/local_self_attention.js';
import { type Timing, type TimingOptions, timeRuns } from './timing.js';

export interface ConvCase {
  shape: [number, number, number, number];
  filters: number;
  kernel: number;
  stride: number;
  backward: boolean;
}

function seededNormal(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

export function benchConv(c: ConvCase, options: TimingOptions): Timing {
  const [b, h, w, ch] = c.shape;
  const x = seededNormal(c.shape, 1) as tf.Tensor4D;
  const filter = seededNormal([c.kernel, c.kernel, ch, c.filters], 2) as tf.Tensor4D;
  const outShape = [b, Math.ceil(h / c.stride), Math.ceil(w / c.stride), c.filters];
  const dy = seededNormal(outShape, 3) as tf.Tensor4D;
  const conv = (xi: tf.Tensor, fi: tf.Tensor) => tf.conv2d(xi as tf.Tensor4D, fi as tf.Tensor4D, c.stride, 'same');
  const vjp = tf.grads(conv);
  const step = c.backward ? () => tf.dispose(vjp([x, filter], dy)) : () => tf.dispose(conv(x, filter));
  try {
    return timeRuns(step, options);
  } finally {
    tf.dispose([x, filter, dy]);
  }
}

export function benchMatmul(n: number, options: TimingOptions): Timing {
  const a = seededNormal([n, n], 1);
  const b = seededNormal([n, n], 2);
  try {
    return timeRuns(() => tf.dispose(tf.matMul(a, b)), options);
  } finally {
    tf.dispose([a, b]);
  }
}

export interface AttentionCase {
  shape: [number, number, number, number];
  kernelSize: number;
  heads: number;
  backward: boolean;
}

/**
 * The whole LocalSelfAttention2D layer (projections included, d_out = d_in = C) on x; with
 * `backward`, forward plus the gradients w.r.t. x and every weight for a fixed dy.
 */
export function benchAttention(c: AttentionCase, options: TimingOptions): Timing {
  const channels = c.shape[3];
  const layer = new LocalSelfAttention2D({ filters: channels, kernelSize: c.kernelSize, heads: c.heads });
  const x = seededNormal(c.shape, 1);
  const dy = seededNormal(c.shape, 3);
  tf.dispose(layer.apply(x) as tf.Tensor);
  const weights = layer.trainableWeights.map((w) => w.read());
  const step = c.backward
    ? () => {
        const { value, grads } = tf.engine().gradients(() => layer.apply(x) as tf.Tensor, [x, ...weights], dy);
        tf.dispose([value, ...grads]);
      }
    : () => tf.dispose(layer.apply(x) as tf.Tensor);
  try {
    return timeRuns(step, options);
  } finally {
    tf.dispose([x, dy]);
    layer.dispose();
  }
}
