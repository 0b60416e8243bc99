/**
 * Nearest-neighbour resizing, NHWC: which input pixel each output pixel copies, and the gradient that follows
 * from it. One map serves the native backend's kernels (backend/kernels/resize.ts) and the gradient kernel
 * registered here for tfjs's pure-JS `cpu` backend, in place of tfjs 4.22's own, which is wrong twice:
 *   - it reads dy at the images' batch offset b·H·W·C instead of dy's b·outH·outW·C, so every image after the
 *     first gets sums of the wrong pixels;
 *   - it ignores halfPixelCenters (and so sends the gradient to the wrong pixels wherever that attribute moves
 *     the source, e.g. downscaling).
 * registerResizeNearestGrad puts it in place; importing this file registers nothing.
 */
import * as tf from '../tf.js';

/** The ResizeNearestNeighbor attributes that move the source pixel (tfjs's op refuses both at once). */
export interface ResizeNearestAttrs {
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

/**
 * For each of `outSize` output positions along one axis, the input position (of `inSize`) it copies: the
 * formula of tfjs's cpu ResizeNearestNeighbor, in the same float64 arithmetic.
 */
export function nearestSources(inSize: number, outSize: number, attrs: ResizeNearestAttrs): Int32Array {
  const { alignCorners, halfPixelCenters } = attrs;
  const corners = alignCorners && outSize > 1;
  const ratio = (corners ? inSize - 1 : inSize) / (corners ? outSize - 1 : outSize);
  const sources = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const frac = halfPixelCenters ? ratio * (o + 0.5) : ratio * o;
    const nearest = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
    sources[o] = halfPixelCenters ? Math.max(0, nearest) : nearest;
  }
  return sources;
}

/**
 * The gradient of ResizeNearestNeighbor [B, H, W, C] → [B, outH, outW, C]: dx [B, H, W, C] with each input
 * pixel's sum of dy over the output pixels that copy it (dy in row-major order, a row of C channels at a time).
 * Writes every element of `dx` and returns it.
 */
export function resizeNearestGrad(
  dy: Float32Array,
  [b, h, w, c]: readonly number[],
  [outH, outW]: readonly number[],
  attrs: ResizeNearestAttrs,
  dx: Float32Array,
): Float32Array {
  const rows = nearestSources(h, outH, attrs);
  const cols = nearestSources(w, outW, attrs);
  dx.fill(0);
  if (dx.length === 0) return dx;
  let from = 0;
  for (let n = 0; n < b; n++) {
    for (let y = 0; y < outH; y++) {
      const row = (n * h + rows[y]) * w;
      for (let x = 0; x < outW; x++, from += c) {
        const to = (row + cols[x]) * c;
        for (let k = 0; k < c; k++) dx[to + k] += dy[from + k];
      }
    }
  }
  return dx;
}

/** What the kernel uses of a backend (tfjs's cpu backend, and every backend, has both). */
type Backend = tf.KernelBackend & {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo;
};

/** ResizeNearestNeighborGrad on values read back to the CPU: inputs images [B, H, W, C] and dy [B, outH, outW, C]. */
const resizeNearestGradKernel: tf.KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as Backend;
  const { images, dy } = inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
  const [batch, , , channels] = images.shape;
  if (images.shape.length !== 4 || dy.shape.length !== 4 || dy.shape[0] !== batch || dy.shape[3] !== channels) {
    throw new Error(`ResizeNearestNeighborGrad: dy [${dy.shape}] does not fit images [${images.shape}]`);
  }
  const values = backend.readSync(dy.dataId);
  const g = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  const dx = new Float32Array(images.shape.reduce((n, d) => n * d, 1));
  resizeNearestGrad(g, images.shape, dy.shape.slice(1, 3), attrs as unknown as ResizeNearestAttrs, dx);
  return backend.makeTensorInfo(images.shape, 'float32', dx);
};

/**
 * Registers the gradient kernel above for `backendName` (tfjs's `cpu` by default) in place of whatever is
 * registered there under ResizeNearestNeighborGrad. initBackend calls it; so does a web page that starts `cpu`.
 */
export function registerResizeNearestGrad(backendName = 'cpu'): void {
  if (tf.getKernel('ResizeNearestNeighborGrad', backendName))
    tf.unregisterKernel('ResizeNearestNeighborGrad', backendName);
  tf.registerKernel({ kernelName: 'ResizeNearestNeighborGrad', backendName, kernelFunc: resizeNearestGradKernel });
}
