/**
 * ResizeNearestNeighbor and its gradient on the native backend, NHWC float32, every scale and attribute: out
 * [B, outH, outW, C] with out[b, y, x] = in[b, rows[y], cols[x]], the source map of ops/resize_nearest.ts
 * (tfjs's formula), and dx its adjoint (resizeNearestGrad, shared with the gradient kernel sasa registers for
 * tfjs's cpu backend). Rows of C channels are copied or summed whole, and an output row that copies the same
 * source row as the one above it is copied from that one, where tfjs's JS kernels compute a source index per
 * element. Other dtypes and empty images take tfjs's forward kernel.
 */
import { nearestSources, type ResizeNearestAttrs, resizeNearestGrad } from '../../ops/resize_nearest.js';
import type * as tf from '../../tf.js';
import { check, cpuBackend, f32, fmt, type KernelArgs, type KernelContext, output, outputFor } from './util.js';

/**
 * out [B, outH, outW, C] from x [B, H, W, C]: each distinct output row built once from x (one view of x per
 * distinct source pixel), repeats copied.
 */
function resize(
  x: Float32Array,
  [b, h, w, c]: readonly number[],
  [outH, outW]: readonly number[],
  attrs: ResizeNearestAttrs,
  out: Float32Array,
): Float32Array {
  const rows = nearestSources(h, outH, attrs);
  const cols = nearestSources(w, outW, attrs);
  const outRow = outW * c;
  for (let n = 0; n < b; n++) {
    for (let y = 0; y < outH; y++) {
      const at = (n * outH + y) * outRow;
      if (y > 0 && rows[y] === rows[y - 1]) {
        out.copyWithin(at, at - outRow, at);
        continue;
      }
      const row = (n * h + rows[y]) * w;
      let src = x.subarray(0, 0);
      for (let j = 0; j < outW; j++) {
        if (j === 0 || cols[j] !== cols[j - 1]) src = x.subarray((row + cols[j]) * c, (row + cols[j] + 1) * c);
        out.set(src, at + j * c);
      }
    }
  }
  return out;
}

export function resizeKernels(ctx: KernelContext): tf.KernelConfig[] {
  const forward = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { images } = args.inputs as { images: tf.TensorInfo };
    const attrs = args.attrs as unknown as ResizeNearestAttrs & { size: [number, number] };
    const x = f32(backend, images);
    if (!x || x.length === 0 || images.shape.length !== 4) return ctx.fallback('ResizeNearestNeighbor')(args);
    const shape = [images.shape[0], attrs.size[0], attrs.size[1], images.shape[3]];
    const out = outputFor('ResizeNearestNeighbor', shape);
    return output(backend, shape, resize(x, images.shape, attrs.size, attrs, out));
  };
  const gradient = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { images, dy } = args.inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
    const op = 'ResizeNearestNeighborGrad';
    const [b, , , c] = images.shape;
    const fits = images.shape.length === 4 && dy.shape.length === 4 && dy.shape[0] === b && dy.shape[3] === c;
    check(op, fits, () => `dy ${fmt(dy.shape)} does not fit images ${fmt(images.shape)}`);
    const g = f32(backend, dy) ?? Float32Array.from(backend.readSync(dy.dataId) as ArrayLike<number>);
    const dx = outputFor(op, images.shape);
    const attrs = args.attrs as unknown as ResizeNearestAttrs;
    return output(backend, [...images.shape], resizeNearestGrad(g, images.shape, dy.shape.slice(1, 3), attrs, dx));
  };
  return [
    { kernelName: 'ResizeNearestNeighbor', backendName: 'native', kernelFunc: forward as tf.KernelFunc },
    { kernelName: 'ResizeNearestNeighborGrad', backendName: 'native', kernelFunc: gradient as tf.KernelFunc },
  ];
}
