/** Sum and Mean (float32) over a contiguous run of axes, viewed as [outer, reduce, inner]. */
import * as tf from '@tensorflow/tfjs';
import { cpuBackend, f32, type KernelArgs, type KernelContext, output, outputBuffer, sizeOf } from './util.js';

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
    const split = contiguousSplit(x.shape, axes);
    if (!split || split[1] === 0) return ctx.fallback(kernelName)(args);
    const keepDims = Boolean(args.attrs?.keepDims);
    const outShape = keepDims
      ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !axes.includes(i));
    const y = outputBuffer(split[0] * split[2]);
    if (y.length > 0) ctx.addon.reduceSum(xv, y, Int32Array.from(split), kernelName === 'Mean');
    return output(backend, outShape, y);
  };
  return { kernelName, backendName: 'native', kernelFunc };
}

export function reduceKernels(ctx: KernelContext): tf.KernelConfig[] {
  return [reduceKernel(ctx, 'Sum'), reduceKernel(ctx, 'Mean')];
}
