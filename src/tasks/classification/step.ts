/**
 * One training step of a classifier (SASA.md §5): forward in training mode (batch-norm batch
 * statistics, moving statistics updated), smoothed cross-entropy, gradients of every trainable
 * weight, and a Nesterov SGD update (sgd.ts: weight decay on weights of rank ≥ 2 only, so not on
 * batch norm or biases).
 */

import { valueAndGrads } from '../../ops/value_and_grads.js';
import * as tf from '../../tf.js';
import { smoothedCrossEntropy } from './loss.js';
import { Sgd } from './sgd.js';

/**
 * Options of {@link makeTrainStep}; their defaults live there: momentum 0.9, weight decay 1e-4, no label
 * smoothing.
 */
export interface StepOptions {
  /** Nesterov momentum μ. */
  momentum?: number;
  /** λ of the L2 term, on weights of rank ≥ 2 only. */
  weightDecay?: number;
  /** ε of the smoothed cross-entropy (tasks/classification/loss.ts). */
  labelSmoothing?: number;
}

/** A classifier's training step ({@link makeTrainStep}) and the optimizer whose velocities it updates. */
export interface TrainStep {
  optimizer: Sgd;
  /**
   * Runs one step at learning rate `lr` and returns the loss (before the update). A non-finite loss
   * leaves every weight and the optimizer state untouched.
   */
  run(x: tf.Tensor4D, labels: tf.Tensor1D, lr: number): number;
}

/** True for the weights that get weight decay: rank ≥ 2 (kernels, projections, tables). */
export const decays = (w: tf.LayerVariable) => w.shape.length >= 2;

/** A training step for `model` (input [B, H, W, C] → logits [B, K]) with its own Sgd (momentum, weight decay, smoothing). */
export function makeTrainStep(model: tf.LayersModel, options: StepOptions = {}): TrainStep {
  const smoothing = options.labelSmoothing ?? 0;
  const optimizer = new Sgd(options.momentum ?? 0.9, options.weightDecay ?? 1e-4);
  const trainable = model.trainableWeights;
  const statistics = model.nonTrainableWeights;
  return {
    optimizer,
    run(x, labels, lr) {
      return tf.tidy(() => {
        const saved = statistics.map((w) => w.read().clone());
        const { value, grads } = valueAndGrads(
          () => smoothedCrossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, labels, smoothing),
          trainable.map((w) => w.read()),
        );
        const loss = value.dataSync()[0];
        if (!Number.isFinite(loss)) {
          statistics.forEach((w, i) => {
            w.write(saved[i]);
          });
          return loss;
        }
        optimizer.apply(trainable, grads, lr);
        return loss;
      });
    },
  };
}
