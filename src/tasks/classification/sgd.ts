/**
 * SGD with momentum, Nesterov by default (PyTorch's formulation, ops/sgd_update.ts), with its state
 * named by weight so that a checkpoint restores it exactly:
 *   g ← g + λ·w (weights of rank ≥ 2 only),  v ← μ·v + g,  w ← w − lr·(g + μ·v)  (plain: w ← w − lr·v).
 */

import { sgdUpdate } from '../../ops/sgd_update.js';
import * as tf from '../../tf.js';
import type { StatefulOptimizer } from '../training/optimizer_state.js';

/** The CLI trainer's SGD state and update (formula above); SgdOptimizer is the same update as a tf.Optimizer. */
export class Sgd implements StatefulOptimizer {
  /** Velocity per weight name (LayerVariable.originalName). */
  readonly velocity = new Map<string, tf.Tensor>();
  readonly groups = ['velocity'] as const;
  readonly state: ReadonlyMap<string, Map<string, tf.Tensor>> = new Map([['velocity', this.velocity]]);

  constructor(
    readonly momentum = 0.9,
    readonly weightDecay = 1e-4,
    readonly nesterov = true,
  ) {
    if (!(momentum >= 0 && momentum < 1)) throw new Error(`momentum must be in [0, 1), got ${momentum}`);
    if (!(weightDecay >= 0)) throw new Error(`weight decay must be >= 0, got ${weightDecay}`);
  }

  /** Applies one update to `weights` given their gradients (same order). */
  apply(weights: tf.LayerVariable[], grads: tf.Tensor[], lr: number): void {
    tf.tidy(() => {
      weights.forEach((w, i) => {
        const name = w.originalName;
        const previous = this.velocity.get(name);
        const next = sgdUpdate(w.read(), previous ?? tf.zerosLike(grads[i]), grads[i], {
          lr,
          momentum: this.momentum,
          weightDecay: w.shape.length >= 2 ? this.weightDecay : 0,
          nesterov: this.nesterov,
        });
        previous?.dispose();
        this.velocity.set(name, tf.keep(next.v));
        w.write(next.w);
      });
    });
  }

  /** Frees the velocities. */
  dispose(): void {
    tf.dispose([...this.velocity.values()]);
    this.velocity.clear();
  }
}
