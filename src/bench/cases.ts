/**
 * Benchmark cases, the same ones bench/torch_peer.py runs on PyTorch:
 * - conv: 2-D convolution of x [B, H, W, C] with a k×k filter to `filters` channels, 'same'
 *   padding; with `backward`, forward plus the gradients w.r.t. input and filter for a fixed dy
 *   (with `inputGrad: false`, the filter's only: a network's first layer).
 * - matmul: an n×n by n×n float32 matrix product.
 * - attention: the LocalSelfAttention2D layer (bench/torch_peer.py: an unfold-based PyTorch layer).
 * - model: one inference or training step of a registered model (bench/torch_peer.py: a
 *   torchvision-style ResNet-26 and its unfold-attention version).
 * - attention op: localAttention2d alone on random q, k, v and tables (no PyTorch peer).
 */

import { LocalSelfAttention2D } from '../layers/local_self_attention.js';
import { createModel, modelConfig } from '../models/registry.js';
import { localAttention2d } from '../ops/local_attention/op.js';
import type { LogitsMode, PaddingMode } from '../ops/local_attention/options.js';
import { valueAndGrads } from '../ops/value_and_grads.js';
import { Sgd } from '../tasks/classification/sgd.js';
import * as tf from '../tf.js';
import { type PreparedStep, type Timing, type TimingOptions, timeImageSteps, timeRuns } from './timing.js';

export interface ConvCase {
  shape: [number, number, number, number];
  filters: number;
  kernel: number;
  stride: number;
  backward: boolean;
  /**
   * With `backward`: also the gradient w.r.t. x (default true). False times what a network's first
   * layer needs (neither PyTorch nor our models' Conv2D layer, layers/conv2d.ts, computes dx when
   * nothing depends on the input).
   */
  inputGrad?: boolean;
  /**
   * Runs cycle through this many distinct inputs x (default 1). The addon keeps its layout
   * conversions of the last 4 activations it converted, keyed by tensor: with one x, a run finds
   * the previous run's conversion of x and skips it, which a layer inside a network never can (its
   * x is new every step). More than 4 inputs make every run convert x, as there.
   */
  inputs?: number;
}

function seededNormal(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

export function benchConv(c: ConvCase, options: TimingOptions): Timing {
  const [b, h, w, ch] = c.shape;
  const n = c.inputs ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new Error(`inputs must be a positive integer, got ${n}`);
  const xs = Array.from({ length: n }, (_, i) => seededNormal(c.shape, i === 0 ? 1 : 100 + i) as tf.Tensor4D);
  const filter = seededNormal([c.kernel, c.kernel, ch, c.filters], 2) as tf.Tensor4D;
  const outShape = [b, Math.ceil(h / c.stride), Math.ceil(w / c.stride), c.filters];
  const dy = seededNormal(outShape, 3) as tf.Tensor4D;
  const conv = (xi: tf.Tensor, fi: tf.Tensor) => tf.conv2d(xi as tf.Tensor4D, fi as tf.Tensor4D, c.stride, 'same');
  const vjp = tf.grads(conv);
  // tfjs's Conv2D gradient computes dx and dW in separate closures: asking for dW alone skips dx.
  const vjpFilter = xs.map((x) => tf.grad((fi: tf.Tensor) => conv(x, fi)));
  let run = 0;
  const step = () => {
    const i = run++ % n;
    if (!c.backward) tf.dispose(conv(xs[i], filter));
    else if (c.inputGrad === false) tf.dispose(vjpFilter[i](filter, dy));
    else tf.dispose(vjp([xs[i], filter], dy));
  };
  try {
    return timeRuns(step, options);
  } finally {
    tf.dispose([...xs, filter, dy]);
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

export interface ModelCase {
  /** A registered model name (models/registry.ts); unknown names throw the registry's error. */
  model: string;
  batch: number;
  size: number;
  classes: number;
  /** One training step (forward in training mode, loss, backward, SGD update) instead of inference. */
  train: boolean;
}

/**
 * The optimiser of the training step: SGD with momentum, not Nesterov, no weight decay (ours: Sgd,
 * one fused update per weight; the peer's torch.optim.SGD(lr 0.1, momentum 0.9)).
 */
export const MODEL_BENCH_OPTIMIZER = { name: 'sgd_momentum', learningRate: 0.1, momentum: 0.9 } as const;

/** step: one inference or training step; it frees everything it allocates except the model's and optimiser's state. */
export interface ModelBench extends PreparedStep {
  model: tf.LayersModel;
}

/**
 * Builds the registered model `c.model` with { inputSize: size, classes } and returns one step:
 * inference `model.apply(x, {training: false})`, or with `train` a training step — forward with
 * `training: true` (batch norm on batch statistics, moving statistics updated), softmax
 * cross-entropy on fixed labels, gradients of every trainable weight and an SGD-with-momentum
 * update (MODEL_BENCH_OPTIMIZER). Inputs are seeded normal, labels fixed.
 */
export function prepareModelBench(c: ModelCase): ModelBench {
  const model = createModel(c.model, { inputSize: c.size, classes: c.classes });
  const x = seededNormal([c.batch, c.size, c.size, modelConfig(c.model).inputChannels ?? 3], 1);
  const labels = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        Array.from({ length: c.batch }, (_, i) => (i * 7919) % c.classes),
        'int32',
      ),
      c.classes,
    ),
  );
  const optimizer = new Sgd(MODEL_BENCH_OPTIMIZER.momentum, 0, false);
  const trainable = model.trainableWeights;
  const loss = () => {
    const logits = model.apply(x, { training: true }) as tf.Tensor;
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  };
  const step = c.train
    ? () =>
        tf.tidy(() => {
          const { grads } = valueAndGrads(
            loss,
            trainable.map((w) => w.read()),
          );
          optimizer.apply(trainable, grads, MODEL_BENCH_OPTIMIZER.learningRate);
        })
    : () => tf.tidy(() => tf.dispose(model.apply(x, { training: false }) as tf.Tensor));
  return {
    model,
    step,
    dispose: () => {
      tf.dispose([x, labels]);
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** Times one inference or training step of a registered model (prepareModelBench). */
export function benchModel(c: ModelCase, options: TimingOptions): Timing & { images_per_s: number } {
  return timeImageSteps(prepareModelBench(c), c.batch, options);
}

export interface AttentionOpCase {
  shape: [number, number, number, number];
  kernelSize: number;
  heads: number;
  padding: PaddingMode;
  logits: LogitsMode;
  backward: boolean;
}

/**
 * The localAttention2d op alone on q, k, v of `shape` and [k, C/2] tables (the unused ones
 * null); with `backward`, forward plus the gradients w.r.t. all of them for a fixed dy.
 */
export function benchAttentionOp(c: AttentionOpCase, options: TimingOptions): Timing {
  const useQK = c.logits !== 'qr';
  const useQR = c.logits !== 'qk';
  const table = [c.kernelSize, c.shape[3] / 2];
  const q = seededNormal(c.shape, 1) as tf.Tensor4D;
  const k = useQK ? (seededNormal(c.shape, 2) as tf.Tensor4D) : null;
  const v = seededNormal(c.shape, 3) as tf.Tensor4D;
  const relRow = useQR ? (seededNormal(table, 4) as tf.Tensor2D) : null;
  const relCol = useQR ? (seededNormal(table, 5) as tf.Tensor2D) : null;
  const dy = seededNormal(c.shape, 6) as tf.Tensor4D;
  const options_ = { kernelSize: c.kernelSize, heads: c.heads, padding: c.padding, logits: c.logits };
  const inputs = [q, k, v, relRow, relCol].filter((t): t is tf.Tensor4D | tf.Tensor2D => t !== null);
  const attend = (...xs: tf.Tensor[]) => {
    let at = 0;
    const next = () => xs[at++];
    const qi = next() as tf.Tensor4D;
    const ki = useQK ? (next() as tf.Tensor4D) : null;
    const vi = next() as tf.Tensor4D;
    const [ri, ci] = useQR ? [next() as tf.Tensor2D, next() as tf.Tensor2D] : [null, null];
    return localAttention2d(qi, ki, vi, ri, ci, options_);
  };
  const vjp = tf.grads(attend);
  const step = c.backward ? () => tf.dispose(vjp(inputs, dy)) : () => tf.dispose(attend(...inputs));
  try {
    return timeRuns(step, options);
  } finally {
    tf.dispose([...inputs, dy]);
  }
}
