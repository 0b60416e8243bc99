/**
 * Gradient overrides that let the native backend fuse what tfjs composes from several kernels.
 * Each falls back to tfjs's own formula on backends without the fused kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { RELU_GRAD } from '../ops/kernel_names.js';

/** True when `kernelName` has a kernel on the active backend. */
export function hasKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

let registered = false;

/** Relu's gradient dx = dy · [x > 0] in one pass (tfjs: mul(dy, cast(step(x)))). */
export function registerFusedGradients(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      const g = dy as tf.Tensor;
      return {
        x: () =>
          hasKernel(RELU_GRAD) && x.dtype === 'float32' && g.dtype === 'float32'
            ? (tf.engine().runKernel(RELU_GRAD, { dy: g, x }) as tf.Tensor)
            : tf.mul(g, tf.cast(tf.step(x), 'float32')),
      };
    },
  });
}

/** AvgPoolGrad kernels that are already the exact gradient (native registers its own here). */
export const EXACT_AVG_POOL_GRADS = new Set<tf.KernelFunc>();

/**
 * AvgPool's gradient, exact on every backend. A window cut by 'same' (or explicit) padding averages
 * only the pixels it covers, but tfjs's own AvgPoolGrad kernels divide by the full window area, so
 * there dy is first scaled by area / covered pixels. Backends whose kernel is exact run it as is.
 */
function exactAvgPoolGrad(dy: tf.Tensor4D, x: tf.Tensor4D, attrs: tf.NamedAttrMap): tf.Tensor {
  const grad = (g: tf.Tensor) => tf.engine().runKernel('AvgPoolGrad', { dy: g, input: x }, attrs) as tf.Tensor;
  const kernel = tf.getKernel('AvgPoolGrad', tf.getBackend());
  if (kernel && EXACT_AVG_POOL_GRADS.has(kernel.kernelFunc)) return grad(dy);
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.AvgPoolAttrs;
  const info = tf.backend_util.computePool2DInfo(x.shape, filterSize, strides, 1, pad, dimRoundingMode);
  const { outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth, inHeight, inWidth } = info;
  const scale = new Float32Array(outHeight * outWidth);
  let partial = false;
  for (let i = 0; i < outHeight; i++) {
    const top = i * strideHeight - info.padInfo.top;
    const rows = Math.min(inHeight, top + filterHeight) - Math.max(0, top);
    for (let j = 0; j < outWidth; j++) {
      const left = j * strideWidth - info.padInfo.left;
      const cols = Math.min(inWidth, left + filterWidth) - Math.max(0, left);
      scale[i * outWidth + j] = (filterHeight * filterWidth) / Math.max(1, rows * cols);
      partial ||= rows * cols !== filterHeight * filterWidth;
    }
  }
  if (!partial) return grad(dy);
  return tf.tidy(() => grad(tf.mul(dy, tf.tensor4d(scale, [1, outHeight, outWidth, 1]))));
}

tf.registerGradient({
  kernelName: 'AvgPool',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as tf.Tensor4D[];
    return { x: () => exactAvgPoolGrad(dy as tf.Tensor4D, x, attrs) };
  },
});
