/**
 * ResizeNearestNeighbor and its gradient for whole-number upscaling (the FPN's 2× top-down path), NHWC float32,
 * alignCorners and halfPixelCenters off: out [B, s·H, s·W, C] with out[b, y, x] = in[b, ⌊y/s⌋, ⌊x/s⌋] (tfjs's
 * source pixel for these attributes), and the gradient dx[b, i, j] = Σ_{u,v < s} dy[b, s·i + u, s·j + v]. Rows of
 * C channels are copied or summed whole, where tfjs's JS kernels compute a source index per element. Other scales
 * and attributes take tfjs's kernels.
 */
import type * as tf from '../../tf.js';
import { cpuBackend, f32, type KernelArgs, type KernelContext, output, outputBuffer } from './util.js';

interface ResizeAttrs {
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

/** The whole-number scale s of [B, H, W, C] → [B, outH, outW, C], or null where this file does not apply. */
function wholeScale(shape: number[], outH: number, outW: number, attrs: ResizeAttrs): number | null {
  if (attrs.alignCorners || attrs.halfPixelCenters || shape.length !== 4) return null;
  const [b, h, w, c] = shape;
  if (b * h * w * c === 0) return null;
  const s = outH / h;
  return Number.isInteger(s) && s >= 1 && outW === s * w ? s : null;
}

/** out [B, s·H, s·W, C] from x [B, H, W, C]: each output row built once from x, then copied s − 1 times. */
function upscale(x: Float32Array, [b, h, w, c]: number[], s: number): Float32Array {
  const outW = s * w;
  const outRow = outW * c;
  const out = outputBuffer(b * s * h * outRow);
  for (let bi = 0; bi < b; bi++) {
    for (let i = 0; i < h; i++) {
      const first = (bi * h + i) * s * outRow;
      for (let j = 0; j < w; j++) {
        const src = x.subarray(((bi * h + i) * w + j) * c, ((bi * h + i) * w + j + 1) * c);
        for (let v = 0; v < s; v++) out.set(src, first + (j * s + v) * c);
      }
      for (let u = 1; u < s; u++) out.copyWithin(first + u * outRow, first, first + outRow);
    }
  }
  return out;
}

/** dx [B, H, W, C]: each input pixel's sum over its s × s block of dy [B, s·H, s·W, C]. */
function blockSums(dy: Float32Array, [b, h, w, c]: number[], s: number): Float32Array {
  const outRow = s * w * c;
  const dx = outputBuffer(b * h * w * c).fill(0);
  for (let bi = 0; bi < b; bi++) {
    for (let i = 0; i < h; i++) {
      for (let u = 0; u < s; u++) {
        const row = ((bi * h + i) * s + u) * outRow;
        for (let j = 0; j < w; j++) {
          const to = ((bi * h + i) * w + j) * c;
          for (let v = 0; v < s; v++) {
            const from = row + (j * s + v) * c;
            for (let k = 0; k < c; k++) dx[to + k] += dy[from + k];
          }
        }
      }
    }
  }
  return dx;
}

export function resizeKernels(ctx: KernelContext): tf.KernelConfig[] {
  const forward = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { images } = args.inputs as { images: tf.TensorInfo };
    const attrs = args.attrs as unknown as ResizeAttrs & { size: [number, number] };
    const s = wholeScale(images.shape, attrs.size[0], attrs.size[1], attrs);
    const x = f32(backend, images);
    if (s === null || !x) return ctx.fallback('ResizeNearestNeighbor')(args);
    const [b, , , c] = images.shape;
    return output(backend, [b, attrs.size[0], attrs.size[1], c], upscale(x, images.shape, s));
  };
  const gradient = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { images, dy } = args.inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = args.attrs as unknown as ResizeAttrs;
    const s = wholeScale(images.shape, dy.shape[1], dy.shape[2], attrs);
    const g = f32(backend, dy);
    const sameBatch = dy.shape[0] === images.shape[0] && dy.shape[3] === images.shape[3];
    if (s === null || !g || !sameBatch) return ctx.fallback('ResizeNearestNeighborGrad')(args);
    return output(backend, [...images.shape], blockSums(g, images.shape, s));
  };
  return [
    { kernelName: 'ResizeNearestNeighbor', backendName: 'native', kernelFunc: forward as tf.KernelFunc },
    { kernelName: 'ResizeNearestNeighborGrad', backendName: 'native', kernelFunc: gradient as tf.KernelFunc },
  ];
}
