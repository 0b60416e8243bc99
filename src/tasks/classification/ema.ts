/**
 * Exponential moving average of a model's weights (SASA.md §5: decay 0.9999 on ImageNet), used for
 * evaluation: shadow ← d · shadow + (1 - d) · w after every step, for every weight (batch-norm
 * statistics included), with d = min(decay, (1 + n) / (10 + n)) at the n-th update (TensorFlow's
 * ExponentialMovingAverage with num_updates), so short runs are not dominated by the initial weights. `swapIn` puts the averages into the model and returns a
 * function that restores the trained weights.
 */
import * as tf from '../../tf.js';

/** The moving average of every weight of a model (shadow ← d · shadow + (1 − d) · w), kept by weight name. */
export class WeightAverage {
  readonly shadow: tf.Tensor[];

  constructor(
    private readonly model: tf.LayersModel,
    readonly decay: number,
    initial?: tf.Tensor[],
  ) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`EMA decay must be in [0, 1), got ${decay}`);
    const weights = model.weights;
    if (initial && initial.length !== weights.length) {
      throw new Error(`EMA state has ${initial.length} tensors, the model has ${weights.length} weights`);
    }
    this.shadow = weights.map((w, i) => tf.keep(tf.clone(initial ? initial[i] : w.read())));
  }

  /** `n`: the number of updates before this one (the optimizer step, 0-based). */
  update(n: number): void {
    const d = Math.min(this.decay, (1 + n) / (10 + n));
    tf.tidy(() => {
      this.model.weights.forEach((w, i) => {
        const next = tf.keep(tf.add(tf.mul(this.shadow[i], d), tf.mul(w.read(), 1 - d)));
        this.shadow[i].dispose();
        this.shadow[i] = next;
      });
    });
  }

  /** Writes the averages into the model; the function returned writes the trained weights back. */
  swapIn(): () => void {
    const trained = this.model.weights.map((w) => tf.keep(tf.clone(w.read())));
    this.model.setWeights(this.shadow);
    return () => {
      this.model.setWeights(trained);
      tf.dispose(trained);
    };
  }

  /** Frees the averages. */
  dispose(): void {
    tf.dispose(this.shadow);
  }
}
