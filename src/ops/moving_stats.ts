/**
 * A batch norm's moving statistics after one training batch, as a single op:
 *   movingMean' = decay · movingMean + (1 − decay) · mean,
 *   movingVariance' = decay · movingVariance + (1 − decay) · (unbiased · variance),
 * every product and sum rounded to float32 as the tfjs ops that spell it out round them. All four inputs
 * [C] (any one shape), float32 → { mean', variance' }. Kernel SasaMovingStats: on the native backend one
 * loop over the C values (backend/kernels/moving_stats.ts); elsewhere the kernel is those tfjs ops
 * (composed_kernels.ts). Either way one tape node that saves nothing, where the ops spelt out in a
 * training step were seven taped kernels saving fourteen tensors (each save an Identity kernel): ~1 000
 * kernel calls of a ResNet-50 RetinaNet step, for 53 batch norms. Not differentiable (statistics).
 */
import * as tf from '../tf.js';
import { type ComposedKernel, ensureKernels, tensorInput } from './composed_kernels.js';
import { MOVING_STATS, type MovingStatsAttrs } from './kernel_names.js';

/** The formula in tfjs ops: inputs movingMean, movingVariance, mean, variance → [mean', variance']. */
const composed: tf.KernelFunc = ({ inputs, attrs }) => {
  const [m, v, mean, variance] = ['movingMean', 'movingVariance', 'mean', 'variance'].map((n) =>
    tensorInput(inputs, n),
  );
  const { decay, unbiased } = attrs as unknown as MovingStatsAttrs;
  return tf.tidy(() => [
    tf.add(tf.mul(m, decay), tf.mul(mean, 1 - decay)),
    tf.add(tf.mul(v, decay), tf.mul(tf.mul(variance, unbiased), 1 - decay)),
  ]);
};

const KERNELS: readonly ComposedKernel[] = [{ kernelName: MOVING_STATS, kernelFunc: composed }];

/** The updated moving mean and variance (new tensors; the inputs are left as they are). */
export function movingStatsUpdate(
  movingMean: tf.Tensor,
  movingVariance: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  decay: number,
  unbiased: number,
): { mean: tf.Tensor; variance: tf.Tensor } {
  const named = { movingMean, movingVariance, mean, variance };
  for (const [name, t] of Object.entries(named)) {
    if (!(t instanceof tf.Tensor)) throw new Error(`movingStatsUpdate: ${name} must be a tf.Tensor, got ${typeof t}`);
    if (t.dtype !== 'float32') throw new Error(`movingStatsUpdate: ${name} must be float32, got ${t.dtype}`);
    if (!tf.util.arraysEqual(t.shape, movingMean.shape))
      throw new Error(
        `movingStatsUpdate: ${name} ${JSON.stringify(t.shape)} must have movingMean's shape ${JSON.stringify(movingMean.shape)}`,
      );
  }
  for (const [name, value] of [
    ['decay', decay],
    ['unbiased', unbiased],
  ] as const)
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new Error(`movingStatsUpdate: ${name} must be a finite number, got ${String(value)}`);
  ensureKernels(KERNELS);
  const attrs: MovingStatsAttrs = { decay, unbiased };
  const [m, v] = tf.engine().runKernel(MOVING_STATS, named, attrs) as tf.Tensor[];
  return { mean: m, variance: v };
}
