/**
 * SasaMovingStats (ops/moving_stats.ts): inputs movingMean, movingVariance, mean, variance [C]; attrs decay,
 * unbiased → [movingMean', movingVariance'], one JS loop over the C values (a batch norm's channels: no
 * addon call pays for itself), each product and sum rounded to float32 as the composed tfjs ops round them.
 */

import { MOVING_STATS, type MovingStatsAttrs } from '../../ops/kernel_names.js';
import type * as tf from '../../tf.js';
import { check, cpuBackend, floatsOf, type KernelArgs, output } from './util.js';

export function movingStatsKernels(): tf.KernelConfig[] {
  const movingStats: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const inputs = args.inputs as Record<'movingMean' | 'movingVariance' | 'mean' | 'variance', tf.TensorInfo>;
    const [m, v, mean, variance] = (['movingMean', 'movingVariance', 'mean', 'variance'] as const).map((name) =>
      floatsOf(MOVING_STATS, args, inputs[name], name),
    );
    check(
      MOVING_STATS,
      v.length === m.length && mean.length === m.length && variance.length === m.length,
      () => 'movingMean, movingVariance, mean and variance must have one size',
    );
    const a = args.attrs as unknown as MovingStatsAttrs;
    const f = Math.fround;
    const decay = f(a.decay);
    const rest = f(1 - a.decay);
    const unbiased = f(a.unbiased);
    const mOut = new Float32Array(m.length);
    const vOut = new Float32Array(m.length);
    for (let i = 0; i < m.length; i++) {
      mOut[i] = f(m[i] * decay) + f(mean[i] * rest);
      vOut[i] = f(v[i] * decay) + f(f(variance[i] * unbiased) * rest);
    }
    const shape = inputs.movingMean.shape;
    return [output(backend, shape, mOut), output(backend, shape, vOut)];
  };
  return [{ kernelName: MOVING_STATS, backendName: 'native', kernelFunc: movingStats }];
}
