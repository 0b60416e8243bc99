/**
 * One SGD training step of a classifier (SASA.md §5): forward in training mode (batch-norm batch
 * statistics, moving statistics updated), smoothed cross-entropy, gradients of every trainable
 * weight, L2 weight decay added to the gradients of weights of rank ≥ 2 only (not batch norm, not
 * biases), and Nesterov momentum: tf.train.momentum(lr, momentum, useNesterov = true).
 */
import * as tf from '@tensorflow/tfjs';
import { smoothedCrossEntropy } from './loss.js';

export interface StepOptions {
  momentum?: number;
  weightDecay?: number;
  labelSmoothing?: number;
}

export interface TrainStep {
  optimizer: tf.MomentumOptimizer;
  /** Runs one step at learning rate `lr`; returns the loss (before the update). */
  run(x: tf.Tensor4D, labels: tf.Tensor1D, lr: number): number;
}

/** True for the weights that get weight decay: rank ≥ 2 (kernels, projections, tables). */
export const decays = (w: tf.LayerVariable) => w.shape.length >= 2;

export function makeTrainStep(model: tf.LayersModel, options: StepOptions = {}): TrainStep {
  const momentum = options.momentum ?? 0.9;
  const weightDecay = options.weightDecay ?? 1e-4;
  const smoothing = options.labelSmoothing ?? 0;
  if (!(weightDecay >= 0)) throw new Error(`weight decay must be >= 0, got ${weightDecay}`);
  const optimizer = tf.train.momentum(0, momentum, true);
  const trainable = model.trainableWeights;
  const variables = trainable.map((w) => w.read() as tf.Variable);
  return {
    optimizer,
    run(x, labels, lr) {
      optimizer.setLearningRate(lr);
      return tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => smoothedCrossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, labels, smoothing),
          variables,
        );
        if (weightDecay > 0) {
          trainable.forEach((w, i) => {
            const name = variables[i].name;
            if (decays(w)) grads[name] = tf.add(grads[name], tf.mul(variables[i], weightDecay));
          });
        }
        optimizer.applyGradients(grads as unknown as Record<string, tf.Variable>);
        return value.dataSync()[0];
      });
    },
  };
}
