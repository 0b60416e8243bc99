/**
 * Batch norm on channels-last data [N, ..., C], per channel:
 * - FusedBatchNorm (tfjs's inference op): y = (x - mean) · scale / sqrt(variance + ε) + offset.
 * - SasaBatchNormTrain: batch statistics, outputs [y, mean, variance] (biased variance).
 * - SasaBatchNormTrainGrad: [dx, dgamma, dbeta] from dy, x, mean, variance, gamma, beta.
 * - SasaBatchNormBlockMax (and Grad): the same statistics, then the max over each sample's H·W
 *   pixels, [N,1,1,C], without the normalised tensor.
 */

import {
  BATCH_NORM_BLOCK_MAX,
  BATCH_NORM_BLOCK_MAX_GRAD,
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
} from '../../ops/kernel_names.js';
import * as tf from '../../tf.js';
import { check, cpuBackend, f32, fmt, type KernelArgs, type KernelContext, output, outputBuffer } from './util.js';

type CpuBackend = ReturnType<typeof cpuBackend>;

/** x [N, ..., C] as [N, S, C]: the geometry the native kernels take. */
function channels(op: string, x: tf.TensorInfo): { geometry: Int32Array; c: number } {
  check(op, x.shape.length >= 2, () => `x must be [N, ..., C], got ${fmt(x.shape)}`);
  const n = x.shape[0];
  const c = x.shape[x.shape.length - 1];
  check(op, n > 0 && c > 0, () => `x ${fmt(x.shape)} is empty`);
  return { geometry: Int32Array.from([n, tf.util.sizeFromShape(x.shape) / (n * c), c]), c };
}

/** Input `name` as float32 [C] (one value per channel), or an error naming the op, the input and what it got. */
function perChannel(op: string, backend: CpuBackend, name: string, t: tf.TensorInfo, c: number): Float32Array {
  const v = f32(backend, t);
  check(
    op,
    v !== null && v.length === c,
    () => `${name} must be float32 with ${c} values (one per channel), got ${t.dtype} ${fmt(t.shape)}`,
  );
  return v;
}

/** The forward kernels' outputs mean and variance [C], as the addon fills them. */
function statsBuffers(c: number): [mean: Float32Array, variance: Float32Array] {
  return [outputBuffer(c), outputBuffer(c)];
}

/** The backward kernels' saved inputs mean, variance and gamma [C], checked (perChannel), in the addon's order. */
function savedStats(
  op: string,
  backend: CpuBackend,
  inputs: Record<string, tf.TensorInfo>,
  c: number,
): [mean: Float32Array, variance: Float32Array, gamma: Float32Array] {
  return [
    perChannel(op, backend, 'mean', inputs.mean, c),
    perChannel(op, backend, 'variance', inputs.variance, c),
    perChannel(op, backend, 'gamma', inputs.gamma, c),
  ];
}

/** The backward kernels' outputs dx (x's size) and dgamma, dbeta [C], in the addon's order. */
function gradientBuffers(size: number, c: number): [dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array] {
  return [outputBuffer(size), outputBuffer(c), outputBuffer(c)];
}

/** [dx (x's shape), dgamma [C], dbeta [C]] as tensors, from gradientBuffers once the addon has filled them. */
function gradientOutputs(backend: CpuBackend, x: tf.TensorInfo, [dx, dgamma, dbeta]: Float32Array[]): tf.TensorInfo[] {
  const c = dgamma.length;
  return [output(backend, x.shape, dx), output(backend, [c], dgamma), output(backend, [c], dbeta)];
}

export function batchNormKernels(ctx: KernelContext): tf.KernelConfig[] {
  const fusedBatchNorm: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { x, mean, variance, offset, scale } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    if (!x || !mean || !variance) return ctx.fallback('FusedBatchNorm')(args);
    const c = x.shape[x.shape.length - 1];
    const params = [mean, variance, offset, scale].filter((t): t is tf.TensorInfo => t !== undefined);
    const xv = f32(backend, x);
    if (!xv || params.some((t) => f32(backend, t)?.length !== c)) return ctx.fallback('FusedBatchNorm')(args);
    const y = outputBuffer(xv.length);
    const eps = (args.attrs?.varianceEpsilon as number) ?? 0.001;
    const get = (t: tf.TensorInfo | undefined) => (t ? f32(backend, t) : null);
    ctx.addon.bnInference(
      xv,
      get(mean) as Float32Array,
      get(variance) as Float32Array,
      get(scale),
      get(offset),
      y,
      Int32Array.from([xv.length / c, c]),
      eps,
    );
    return output(backend, x.shape, y);
  };

  const train: tf.KernelFunc = (args: KernelArgs) => {
    const op = 'batchNormTrain';
    const backend = cpuBackend(args);
    const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
    const { geometry, c } = channels(op, x);
    const xv = f32(backend, x);
    check(op, xv !== null, () => `x must be float32, got ${x.dtype}`);
    const g = perChannel(op, backend, 'gamma', gamma, c);
    const b = perChannel(op, backend, 'beta', beta, c);
    const y = outputBuffer(xv.length);
    const [mean, variance] = statsBuffers(c);
    ctx.addon.bnTrainForward(
      xv,
      g,
      b,
      y,
      mean,
      variance,
      geometry,
      args.attrs?.epsilon as number,
      args.attrs?.relu === 1,
    );
    return [output(backend, x.shape, y), output(backend, [c], mean), output(backend, [c], variance)];
  };

  const trainGrad: tf.KernelFunc = (args: KernelArgs) => {
    const op = 'batchNormTrain (gradient)';
    const backend = cpuBackend(args);
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    const { dy, x, beta } = inputs;
    const { geometry, c } = channels(op, x);
    check(op, tf.util.arraysEqual(dy.shape, x.shape), () => `dy ${fmt(dy.shape)} must match x ${fmt(x.shape)}`);
    const xv = f32(backend, x);
    const dyv = f32(backend, dy);
    check(op, xv !== null && dyv !== null, () => 'x and dy must be float32');
    const grads = gradientBuffers(xv.length, c);
    ctx.addon.bnBackward(
      xv,
      dyv,
      ...savedStats(op, backend, inputs, c),
      perChannel(op, backend, 'beta', beta, c),
      ...grads,
      geometry,
      args.attrs?.epsilon as number,
      args.attrs?.relu === 1,
    );
    return gradientOutputs(backend, x, grads);
  };

  const blockMax: tf.KernelFunc = (args: KernelArgs) => {
    const op = 'batchNormBlockMax';
    const backend = cpuBackend(args);
    const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
    check(op, x.shape.length === 4, () => `x must be [N,H,W,C], got ${fmt(x.shape)}`);
    const { geometry, c } = channels(op, x);
    const n = x.shape[0];
    const xv = f32(backend, x);
    check(op, xv !== null, () => `x must be float32, got ${x.dtype}`);
    const y = outputBuffer(n * c);
    const argmax = new Int32Array(n * c);
    const [mean, variance] = statsBuffers(c);
    ctx.addon.bnBlockMaxForward(
      xv,
      perChannel(op, backend, 'gamma', gamma, c),
      perChannel(op, backend, 'beta', beta, c),
      y,
      argmax,
      mean,
      variance,
      geometry,
      args.attrs?.epsilon as number,
    );
    return [
      output(backend, [n, 1, 1, c], y),
      output(backend, [c], mean),
      output(backend, [c], variance),
      backend.makeTensorInfo([n, c], 'int32', argmax),
    ];
  };

  const blockMaxGrad: tf.KernelFunc = (args: KernelArgs) => {
    const op = 'batchNormBlockMax (gradient)';
    const backend = cpuBackend(args);
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    const { dy, x, argmax } = inputs;
    const { geometry, c } = channels(op, x);
    const n = x.shape[0];
    const xv = f32(backend, x);
    const dyv = f32(backend, dy);
    check(op, xv !== null && dyv !== null && dyv.length === n * c, () => `dy ${fmt(dy.shape)} must be [${n},1,1,${c}]`);
    const am = backend.data.get(argmax.dataId).values;
    check(op, am instanceof Int32Array && am.length === n * c, () => `argmax must be int32 [${n},${c}]`);
    const grads = gradientBuffers(xv.length, c);
    ctx.addon.bnBlockMaxBackward(
      xv,
      dyv,
      am as Int32Array,
      ...savedStats(op, backend, inputs, c),
      ...grads,
      geometry,
      args.attrs?.epsilon as number,
    );
    return gradientOutputs(backend, x, grads);
  };

  return [
    { kernelName: 'FusedBatchNorm', backendName: 'native', kernelFunc: fusedBatchNorm },
    { kernelName: BATCH_NORM_TRAIN, backendName: 'native', kernelFunc: train },
    { kernelName: BATCH_NORM_TRAIN_GRAD, backendName: 'native', kernelFunc: trainGrad },
    { kernelName: BATCH_NORM_BLOCK_MAX, backendName: 'native', kernelFunc: blockMax },
    { kernelName: BATCH_NORM_BLOCK_MAX_GRAD, backendName: 'native', kernelFunc: blockMaxGrad },
  ];
}
