/**
 * Sum and Mean (float32) over any axes: a contiguous run of axes viewed as [outer, reduce, inner];
 * other sets first copied (one strided copy) so that the reduced axes come last.
 */
import * as tf from '../../tf.js';
import { bufferPool } from '../buffer_pool.js';
import { MAX_ELEMENTS, MAX_RANK, rowMajorStrides, stridedCopy } from './layout.js';
import {
  check,
  cpuBackend,
  f32,
  fmt,
  type KernelArgs,
  type KernelContext,
  output,
  outputBuffer,
  sizeOf,
} from './util.js';

/** [outer, reduce, inner] when `axes` (sorted, normalised) are contiguous, else null. */
export function contiguousSplit(shape: number[], axes: number[]): [number, number, number] | null {
  if (axes.length === 0) return [sizeOf(shape), 1, 1];
  for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1] + 1) return null;
  const first = axes[0];
  const last = axes[axes.length - 1];
  return [sizeOf(shape.slice(0, first)), sizeOf(shape.slice(first, last + 1)), sizeOf(shape.slice(last + 1))];
}

function reduceKernel(ctx: KernelContext, kernelName: 'Sum' | 'Mean'): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { x } = args.inputs as { x: tf.TensorInfo };
    const xv = f32(backend, x);
    if (!xv || x.shape.length === 0) return ctx.fallback(kernelName)(args);
    const axes = tf.util.parseAxisParam(args.attrs?.axis as number | number[], x.shape).sort((p, q) => p - q);
    check(
      kernelName,
      new Set(axes).size === axes.length,
      () => `axis ${JSON.stringify(args.attrs?.axis)} names an axis of input ${fmt(x.shape)} twice`,
    );
    const keepDims = Boolean(args.attrs?.keepDims);
    const outShape = keepDims
      ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !axes.includes(i));
    const split = contiguousSplit(x.shape, axes);
    if (split) {
      if (split[1] === 0) return ctx.fallback(kernelName)(args);
      const y = outputBuffer(split[0] * split[2]);
      if (y.length > 0) ctx.addon.reduceSum(xv, y, Int32Array.from(split), kernelName === 'Mean');
      return output(backend, outShape, y);
    }
    // Kept axes first, reduced ones last, in one strided copy (the limits of stridedCopy); then
    // [kept, reduced, 1].
    if (xv.length === 0 || x.shape.length > MAX_RANK || xv.length > MAX_ELEMENTS) return ctx.fallback(kernelName)(args);
    const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const perm = [...kept, ...axes];
    const strides = rowMajorStrides(x.shape);
    const moved = stridedCopy(
      ctx,
      xv,
      perm.map((p) => x.shape[p]),
      perm.map((p) => strides[p]),
      0,
    );
    const reduce = sizeOf(axes.map((a) => x.shape[a]));
    const y = outputBuffer(moved.length / reduce);
    ctx.addon.reduceSum(moved, y, Int32Array.from([y.length, reduce, 1]), kernelName === 'Mean');
    bufferPool.recycle(moved);
    return output(backend, outShape, y);
  };
  return { kernelName, backendName: 'native', kernelFunc };
}

export function reduceKernels(ctx: KernelContext): tf.KernelConfig[] {
  return [reduceKernel(ctx, 'Sum'), reduceKernel(ctx, 'Mean')];
}
