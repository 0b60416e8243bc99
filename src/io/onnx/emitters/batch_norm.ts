/**
 * BatchNorm (inference: the moving statistics) → folded into the producer when it can take it,
 *   scale = gamma / sqrt(var + ε), shift = beta - mean · scale,
 * otherwise Mul and Add per channel; then the shortcut added (a residual layer's second input) and Relu when the
 * layer has them.
 */

import type { BatchNorm } from '../../../layers/batch_norm.js';
import type * as tf from '../../../tf.js';
import { type Emitter, weightOf } from './emitter.js';

/** The per-channel affine map of an inference batch norm whose weights are `layer`'s `${prefix}gamma` etc. */
export function batchNormAffine(
  layer: tf.layers.Layer,
  epsilon: number,
  prefix = '',
): { scale: Float32Array; shift: Float32Array } {
  const [gamma, beta, mean, variance] = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map(
    (n) => weightOf(layer, `${prefix}${n}`).data,
  );
  const scale = new Float32Array(gamma.length);
  const shift = new Float32Array(gamma.length);
  for (let c = 0; c < gamma.length; c++) {
    const s = gamma[c] / Math.sqrt(variance[c] + epsilon);
    scale[c] = s;
    shift[c] = beta[c] - mean[c] * s;
  }
  return { scale, shift };
}

export const emitBatchNorm: Emitter = (ctx) => {
  const layer = ctx.layer as BatchNorm;
  const g = ctx.graph;
  const { scale, shift } = batchNormAffine(layer, layer.options.epsilon);
  const fold = ctx.foldInto(0);
  let y: string;
  if (fold) y = fold(scale, shift);
  else {
    const rank = ctx.inputShapes[0].length + 1;
    const dims = rank === 4 ? [1, scale.length, 1, 1] : [1, scale.length];
    const scaled = g.op('Mul', [ctx.inputs[0], g.floats(`${layer.name}.scale`, dims, scale)], `${layer.name}.scaled`);
    y = g.op('Add', [scaled, g.floats(`${layer.name}.shift`, dims, shift)], layer.name);
  }
  if (layer.residual) y = g.op('Add', [y, ctx.inputs[1]], `${layer.name}.add`);
  return { output: layer.relu ? g.op('Relu', [y], `${layer.name}.relu`) : y };
};
