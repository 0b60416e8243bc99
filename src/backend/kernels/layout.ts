/**
 * Transpose, Slice and PadV2 (float32, rank ≤ 8): data movement as one strided copy in the
 * addon (stridedCopy: contiguous output, strided input) and a constant pad (padConstant); SplitV
 * as Slices, and Concat as row copies.
 * Dimensions are merged here first so the addon's loop nest is as short as possible and its
 * innermost run as long as possible: e.g. Transpose of [b,h,s,w,s,c] by [0,1,3,2,4,5] becomes
 * a 4-D copy whose innermost run is s·c contiguous floats.
 */
import * as tf from '../../tf.js';
import {
  check,
  cpuBackend,
  f32,
  fmt,
  type KernelArgs,
  type KernelContext,
  MAX_ELEMENTS,
  output,
  outputBuffer,
  outputFor,
  sizeOf,
} from './util.js';

export const MAX_RANK = 8;
export { MAX_ELEMENTS };

export function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/**
 * Drops size-1 dimensions and merges neighbours i, i+1 whose input strides make them one
 * dimension (stride[i] = stride[i+1]·shape[i+1]); the output is contiguous, so any such pair
 * is one run in both. Never returns rank 0: a single element is [1] with stride [1].
 */
export function mergeCopyDims(
  shape: readonly number[],
  strides: readonly number[],
): { shape: number[]; strides: number[] } {
  const outShape: number[] = [];
  const outStrides: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const n = outShape.length;
    if (n > 0 && outStrides[n - 1] === strides[d] * shape[d]) {
      outShape[n - 1] *= shape[d];
      outStrides[n - 1] = strides[d];
    } else {
      outShape.push(shape[d]);
      outStrides.push(strides[d]);
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: [1] };
  return { shape: outShape, strides: outStrides };
}

/** y (contiguous, `outShape`) = x[offset + Σ i_d·strides_d] through the addon. */
export function stridedCopy(
  ctx: KernelContext,
  xv: Float32Array,
  outShape: number[],
  strides: number[],
  offset: number,
): Float32Array {
  const y = outputBuffer(sizeOf(outShape));
  if (y.length === 0) return y;
  const m = mergeCopyDims(outShape, strides);
  ctx.addon.stridedCopy(xv, y, Int32Array.from([m.shape.length, ...m.shape, ...m.strides, offset]));
  return y;
}

/** A data-movement kernel's input x [rank ≤ MAX_RANK], in place, with its backend. */
interface NativeInput {
  backend: ReturnType<typeof cpuBackend>;
  x: tf.TensorInfo;
  xv: Float32Array;
  rank: number;
}

/**
 * Input x as the addon takes it, or null when tfjs's kernel must run instead: x not float32 in one array,
 * of rank 0 or above MAX_RANK, or (with `limitSize`) of more than MAX_ELEMENTS elements.
 */
function nativeInput(args: KernelArgs, limitSize: boolean): NativeInput | null {
  const backend = cpuBackend(args);
  const { x } = args.inputs as { x: tf.TensorInfo };
  const xv = f32(backend, x);
  const rank = x.shape.length;
  if (!xv || rank === 0 || rank > MAX_RANK || (limitSize && sizeOf(x.shape) > MAX_ELEMENTS)) return null;
  return { backend, x, xv, rank };
}

function transposeKernel(ctx: KernelContext): tf.KernelConfig {
  const kernelName = 'Transpose';
  const kernelFunc: tf.KernelFunc = (args: KernelArgs) => {
    const input = nativeInput(args, true);
    if (!input) return ctx.fallback(kernelName)(args);
    const { backend, x, xv, rank } = input;
    const perm = Array.from(args.attrs?.perm as number[]);
    check(
      kernelName,
      perm.length === rank &&
        perm.every((p) => Number.isInteger(p) && p >= 0 && p < rank) &&
        new Set(perm).size === rank,
      () => `perm [${perm}] is not a permutation of the axes of input ${fmt(x.shape)}`,
    );
    const xStrides = rowMajorStrides(x.shape);
    const outShape = perm.map((p) => x.shape[p]);
    const y = stridedCopy(
      ctx,
      xv,
      outShape,
      perm.map((p) => xStrides[p]),
      0,
    );
    return output(backend, outShape, y);
  };
  return { kernelName, backendName: 'native', kernelFunc };
}

function sliceKernel(ctx: KernelContext): tf.KernelConfig {
  const kernelName = 'Slice';
  const kernelFunc: tf.KernelFunc = (args: KernelArgs) => {
    const input = nativeInput(args, true);
    if (!input) return ctx.fallback(kernelName)(args);
    const { backend, x, xv, rank } = input;
    const [begin, size] = tf.slice_util.parseSliceParams(
      x as tf.Tensor,
      args.attrs?.begin as number | number[],
      args.attrs?.size as number | number[] | undefined,
    );
    check(
      kernelName,
      begin.length === rank &&
        size.length === rank &&
        begin.every(
          (b, d) =>
            Number.isInteger(b) && Number.isInteger(size[d]) && b >= 0 && size[d] >= 0 && b + size[d] <= x.shape[d],
        ),
      () => `begin [${begin}] and size [${size}] do not fit input ${fmt(x.shape)}`,
    );
    // A contiguous slice is a view of the input in tfjs's kernel (no copy at all).
    if (tf.slice_util.isSliceContinous(x.shape, begin, size)) return ctx.fallback(kernelName)(args);
    const xStrides = rowMajorStrides(x.shape);
    let offset = 0;
    for (let d = 0; d < rank; d++) offset += begin[d] * xStrides[d];
    return output(backend, size, stridedCopy(ctx, xv, size, xStrides, offset));
  };
  return { kernelName, backendName: 'native', kernelFunc };
}

/**
 * SplitV as slices through the native Slice kernel (tfjs's CPU SplitV calls its own JS slice
 * directly: 85 ms for a [25088, 384] gradient split in three).
 */
function splitKernel(slice: tf.KernelFunc): tf.KernelConfig {
  const kernelName = 'SplitV';
  const kernelFunc: tf.KernelFunc = (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const axis = tf.util.parseAxisParam(args.attrs?.axis as number, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(
      x as tf.Tensor,
      args.attrs?.numOrSizeSplits as number | number[],
      axis,
    );
    const begin = x.shape.map(() => 0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[axis] = s;
      const piece = slice({ ...args, attrs: { begin: begin.slice(), size } }) as tf.TensorInfo;
      begin[axis] += s;
      return piece;
    });
  };
  return { kernelName, backendName: 'native', kernelFunc };
}

/**
 * Concat (float32): the output viewed as [outer, Σ inner_i] (outer: the dimensions before the axis, inner_i:
 * input i's from the axis on), input i's rows copied into its columns, one typed-array copy a row. tfjs's CPU
 * Concat copies element by element (0.5 ms for three [256, 256] along axis 1). Its gradient is tfjs's: SplitV.
 */
function concatKernel(ctx: KernelContext): tf.KernelConfig {
  const kernelName = 'Concat';
  const kernelFunc: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const inputs = Object.values(args.inputs) as tf.TensorInfo[];
    const values = inputs.map((t) => f32(backend, t));
    if (inputs.length === 0 || values.some((v) => v === null)) return ctx.fallback(kernelName)(args);
    const shapes = inputs.map((t) => t.shape);
    const axis = tf.util.parseAxisParam(args.attrs?.axis as number, shapes[0])[0];
    tf.backend_util.assertParamsConsistent(shapes, axis);
    const outShape = tf.backend_util.computeOutShape(shapes, axis);
    const outer = sizeOf(outShape.slice(0, axis));
    const widths = shapes.map((shape) => sizeOf(shape.slice(axis)));
    const rowLength = widths.reduce((a, b) => a + b, 0);
    const y = outputBuffer(outer * rowLength);
    let column = 0;
    for (const [i, width] of widths.entries()) {
      const x = values[i] as Float32Array;
      for (let row = 0; row < outer && width > 0; row++) {
        y.set(x.subarray(row * width, (row + 1) * width), row * rowLength + column);
      }
      column += width;
    }
    return output(backend, outShape, y);
  };
  return { kernelName, backendName: 'native', kernelFunc };
}

interface PadDim {
  size: number;
  before: number;
  after: number;
}

/** Merges each dimension into the one inside it when the inner one has no padding. */
export function mergePadDims(dims: readonly PadDim[]): PadDim[] {
  const merged: PadDim[] = [];
  let cur = { ...dims[dims.length - 1] };
  for (let d = dims.length - 2; d >= 0; d--) {
    if (cur.before === 0 && cur.after === 0) {
      cur = { size: dims[d].size * cur.size, before: dims[d].before * cur.size, after: dims[d].after * cur.size };
    } else {
      merged.unshift(cur);
      cur = { ...dims[d] };
    }
  }
  merged.unshift(cur);
  return merged;
}

function padKernel(ctx: KernelContext): tf.KernelConfig {
  const kernelName = 'PadV2';
  const kernelFunc: tf.KernelFunc = (args: KernelArgs) => {
    const input = nativeInput(args, false);
    if (!input) return ctx.fallback(kernelName)(args);
    const { backend, x, xv, rank } = input;
    const paddings = args.attrs?.paddings as Array<[number, number]>;
    const constantValue = Number(args.attrs?.constantValue ?? 0);
    check(
      kernelName,
      Array.isArray(paddings) &&
        paddings.length === rank &&
        paddings.every((p) => p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0)),
      () =>
        `paddings ${JSON.stringify(paddings)} do not fit input ${fmt(x.shape)} (need ${rank} pairs of non-negative integers)`,
    );
    const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
    const y = outputFor(kernelName, outShape);
    const n = y.length;
    if (n === 0) return output(backend, outShape, y);
    if (sizeOf(x.shape) === 0) {
      y.fill(constantValue);
      return output(backend, outShape, y);
    }
    const dims = mergePadDims(x.shape.map((size, i) => ({ size, before: paddings[i][0], after: paddings[i][1] })));
    const geometry = Int32Array.from([
      dims.length,
      ...dims.map((d) => d.size),
      ...dims.map((d) => d.before),
      ...dims.map((d) => d.after),
    ]);
    ctx.addon.padConstant(xv, y, geometry, constantValue);
    return output(backend, outShape, y);
  };
  return { kernelName, backendName: 'native', kernelFunc };
}

export function layoutKernels(ctx: KernelContext): tf.KernelConfig[] {
  const slice = sliceKernel(ctx);
  return [transposeKernel(ctx), slice, splitKernel(slice.kernelFunc), concatKernel(ctx), padKernel(ctx)];
}
