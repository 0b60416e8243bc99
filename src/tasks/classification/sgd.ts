/**
 * SGD with Nesterov momentum (PyTorch's and tfjs's formulation), with its state named by weight so
 * that a checkpoint restores it exactly:
 *   g ← g + λ·w (weights of rank ≥ 2 only),  v ← μ·v + g,  w ← w − lr·(g + μ·v).
 */
import * as tf from '@tensorflow/tfjs';

export class NesterovSgd {
  /** Velocity per weight name (LayerVariable.originalName). */
  readonly velocity = new Map<string, tf.Tensor>();

  constructor(
    readonly momentum = 0.9,
    readonly weightDecay = 1e-4,
  ) {
    if (!(momentum >= 0 && momentum < 1)) throw new Error(`momentum must be in [0, 1), got ${momentum}`);
    if (!(weightDecay >= 0)) throw new Error(`weight decay must be >= 0, got ${weightDecay}`);
  }

  /** Applies one update to `weights` given their gradients (same order). */
  apply(weights: tf.LayerVariable[], grads: tf.Tensor[], lr: number): void {
    tf.tidy(() => {
      weights.forEach((w, i) => {
        const name = w.originalName;
        const value = w.read();
        const g =
          this.weightDecay > 0 && w.shape.length >= 2 ? tf.add(grads[i], tf.mul(value, this.weightDecay)) : grads[i];
        const previous = this.velocity.get(name);
        const v = tf.keep(previous ? tf.add(tf.mul(previous, this.momentum), g) : g.clone());
        previous?.dispose();
        this.velocity.set(name, v);
        w.write(tf.sub(value, tf.mul(tf.add(g, tf.mul(v, this.momentum)), lr)));
      });
    });
  }

  dispose(): void {
    tf.dispose([...this.velocity.values()]);
    this.velocity.clear();
  }
}
