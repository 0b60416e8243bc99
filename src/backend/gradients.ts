/**
 * Gradient overrides that let the native backend fuse what tfjs composes from several kernels,
 * registered when the native backend is (registerFusedGradients, from native.ts), not at import.
 * Each falls back to tfjs's own formula on backends without the fused kernel.
 */

import { RELU_GRAD } from '../ops/kernel_names.js';
import * as tf from '../tf.js';

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
