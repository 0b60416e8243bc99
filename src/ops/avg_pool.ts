/**
 * avgPool: average pooling of x [B, H, W, C] whose gradient is exact where the padding cuts a
 * window. The forward (tfjs's AvgPool, on every backend) averages only the pixels a window covers;
 * tfjs's own AvgPoolGrad kernels divide by the full window area instead, so sasa's layers use this
 * op rather than change tfjs's AvgPool gradient for everyone.
 * Kernels: SasaAvgPool (x → y: the backend's AvgPool) and SasaAvgPoolGrad (dy, input → dx): the
 * native backend's is its exact AvgPoolGrad; elsewhere the composed one scales dy by
 * area / covered pixels per window and runs the backend's AvgPoolGrad.
 */
import * as tf from '../tf.js';
import { type ComposedKernel, ensureKernels, tensorInput } from './composed_kernels.js';
import { AVG_POOL, AVG_POOL_GRAD } from './kernel_names.js';

/** avgPool's padding: 'valid', 'same', or that many pixels on every side. */
export type Pad = 'valid' | 'same' | number;

/** Inputs x → y: tfjs's AvgPool with the same attributes. */
const composedForward: tf.KernelFunc = ({ inputs, attrs }) =>
  tf.engine().runKernel('AvgPool', { x: tensorInput(inputs, 'x') }, attrs as tf.NamedAttrMap) as tf.Tensor;

/** dy scaled by area / covered pixels of each output's window: [1, outH, outW, 1], or null when no window is cut. */
function windowScale(xShape: number[], attrs: tf.AvgPoolAttrs): tf.Tensor4D | null {
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  const shape = xShape as [number, number, number, number];
  const info = tf.backend_util.computePool2DInfo(shape, filterSize, strides, 1, pad, dimRoundingMode);
  const { outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth, inHeight, inWidth } = info;
  const scale = new Float32Array(outHeight * outWidth);
  let cut = false;
  for (let i = 0; i < outHeight; i++) {
    const top = i * strideHeight - info.padInfo.top;
    const rows = Math.min(inHeight, top + filterHeight) - Math.max(0, top);
    for (let j = 0; j < outWidth; j++) {
      const left = j * strideWidth - info.padInfo.left;
      const cols = Math.min(inWidth, left + filterWidth) - Math.max(0, left);
      scale[i * outWidth + j] = (filterHeight * filterWidth) / Math.max(1, rows * cols);
      cut ||= rows * cols !== filterHeight * filterWidth;
    }
  }
  return cut ? tf.tensor4d(scale, [1, outHeight, outWidth, 1]) : null;
}

/** Inputs dy, input → dx: tfjs's AvgPoolGrad on dy scaled where the padding cuts a window. */
const composedBackward: tf.KernelFunc = ({ inputs, attrs }) => {
  const [dy, input] = ['dy', 'input'].map((n) => tensorInput(inputs, n));
  return tf.tidy(() => {
    const scale = windowScale(input.shape, attrs as unknown as tf.AvgPoolAttrs);
    const scaled = scale ? tf.mul(dy, scale) : dy;
    return tf.engine().runKernel('AvgPoolGrad', { dy: scaled, input }, attrs as tf.NamedAttrMap) as tf.Tensor;
  });
};

const KERNELS: readonly ComposedKernel[] = [
  { kernelName: AVG_POOL, kernelFunc: composedForward },
  { kernelName: AVG_POOL_GRAD, kernelFunc: composedBackward },
];

tf.registerGradient({
  kernelName: AVG_POOL,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    return { x: () => tf.engine().runKernel(AVG_POOL_GRAD, { dy: dy as tf.Tensor, input: x }, attrs) as tf.Tensor };
  },
});

/**
 * Average pooling of x [B, H, W, C] over filterSize windows → [B, H', W', C] (tfjs's avgPool's
 * arguments and output), differentiable with the exact gradient at windows cut by the padding.
 */
export function avgPool(
  x: tf.Tensor4D,
  filterSize: [number, number] | number,
  strides: [number, number] | number,
  pad: Pad,
): tf.Tensor4D {
  if (!(x instanceof tf.Tensor) || x.rank !== 4 || x.dtype !== 'float32') {
    throw new Error(
      `avgPool: x must be a float32 [B, H, W, C] tf.Tensor, got ${x instanceof tf.Tensor ? `[${x.shape}] ${x.dtype}` : typeof x}`,
    );
  }
  ensureKernels(KERNELS);
  return tf.engine().runKernel(AVG_POOL, { x }, { filterSize, strides, pad }) as tf.Tensor4D;
}
