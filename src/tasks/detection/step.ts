/**
 * One training step of a RetinaNet: forward in training mode, loss = classification + box regression
 * (retinanet_loss.ts), gradients of every trainable weight, the global gradient norm clipped
 *   g ← g · min(1, clipNorm / ‖g‖₂)   (‖g‖₂ over all weights; clipNorm 0: no clipping)
 * and an SGD update with momentum (torchvision's detection recipe: not Nesterov; weight decay on weights
 * of rank ≥ 2 only), or AdamW's (training/adamw.ts). A non-finite loss leaves every weight, statistic and
 * optimizer state untouched.
 */

import { keepPoolWithinPeak, trimHeapWithinPeak } from '../../backend/buffer_pool.js';
import { valueAndGrads } from '../../ops/value_and_grads.js';
import * as tf from '../../tf.js';
import { Sgd } from '../classification/sgd.js';
import { AdamW } from '../training/adamw.js';
import type { StatefulOptimizer } from '../training/optimizer_state.js';
import type { Size2 } from './boxes.js';
import type { DetectionTarget } from './head_outputs.js';
import type { RetinaNet } from './retinanet.js';

export interface DetectionStepOptions {
  /** Default 'sgd'. */
  optimizer?: 'sgd' | 'adamw';
  /** SGD's momentum. Default 0.9. */
  momentum?: number;
  weightDecay?: number;
  /** Largest global gradient norm; 0 turns clipping off. Default 0. */
  clipNorm?: number;
}

/** The losses of a step, before its update. */
export interface StepLosses {
  loss: number;
  classification: number;
  boxRegression: number;
}

export interface DetectionStep {
  optimizer: StatefulOptimizer;
  run(images: tf.Tensor4D, targets: readonly DetectionTarget[], batchSize: Size2, lr: number): StepLosses;
}

/** grads scaled by min(1, clipNorm / ‖grads‖₂). */
function clipByGlobalNorm(grads: tf.Tensor[], clipNorm: number): tf.Tensor[] {
  if (!(clipNorm > 0)) return grads;
  const norm = Math.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]);
  if (!(norm > clipNorm)) return grads;
  return grads.map((g) => tf.mul(g, clipNorm / norm));
}

/**
 * The step of `retinanet`. Its memory is what limits RetinaNet training (torchvision's step at 512² needs ~2.3 GB),
 * so from here on the process's buffer pool keeps within its peak (keepPoolWithinPeak).
 */
export function makeDetectionStep(retinanet: RetinaNet, options: DetectionStepOptions = {}): DetectionStep {
  keepPoolWithinPeak();
  const weightDecay = options.weightDecay ?? 1e-4;
  const optimizer =
    options.optimizer === 'adamw' ? new AdamW({ weightDecay }) : new Sgd(options.momentum ?? 0.9, weightDecay, false);
  const clipNorm = options.clipNorm ?? 0;
  const trainable = retinanet.model.trainableWeights;
  const statistics = retinanet.model.nonTrainableWeights;
  return {
    optimizer,
    run(images, targets, batchSize, lr) {
      return tf.tidy(() => {
        const saved = statistics.map((w) => w.read().clone());
        let parts = [0, 0];
        const { value, grads } = valueAndGrads(
          () => {
            const losses = retinanet.computeLoss(retinanet.forward(images, true), targets, batchSize);
            parts = [losses.classification.dataSync()[0], losses.boxRegression.dataSync()[0]];
            return tf.add(losses.classification, losses.boxRegression) as tf.Scalar;
          },
          trainable.map((w) => w.read()),
        );
        const loss = value.dataSync()[0];
        const losses = { loss, classification: parts[0], boxRegression: parts[1] };
        if (!Number.isFinite(loss)) {
          statistics.forEach((w, i) => {
            w.write(saved[i]);
          });
          return losses;
        }
        trimHeapWithinPeak();
        optimizer.apply(trainable, clipByGlobalNorm(grads, clipNorm), lr);
        return losses;
      });
    },
  };
}
