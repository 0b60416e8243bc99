/**
 * AdamW (Loshchilov & Hutter 2019, as PyTorch's torch.optim.AdamW) with its state named by weight, so that a
 * checkpoint restores it exactly. Per weight, with its own step count t:
 *   t ← t + 1,  w ← w·(1 − lr·λ)  (decoupled weight decay, weights of rank ≥ 2 only),
 *   m ← β₁·m + (1 − β₁)·g,  v ← β₂·v + (1 − β₂)·g²,
 *   w ← w − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).
 */
import * as tf from '../../tf.js';
import { emptyState, type StatefulOptimizer } from './optimizer_state.js';

/** AdamW's hyperparameters; defaults PyTorch's betas (0.9, 0.999) and ε 1e-8, and sasa's weight decay 1e-4. */
export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
}

const GROUPS = ['adam_m', 'adam_v', 'adam_step'] as const;

/** AdamW's update (the formula above) and its per-weight state, for detect train's `--optimizer adamw`. */
export class AdamW implements StatefulOptimizer {
  readonly groups = GROUPS;
  readonly state = emptyState(GROUPS);
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** adam_step's values as numbers, so that a step reads no tensor back (filled from the tensors after a restore). */
  private readonly counts = new Map<string, number>();

  constructor(o: AdamWOptions = {}) {
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 1e-4;
    for (const [name, v] of [
      ['beta1', this.beta1],
      ['beta2', this.beta2],
    ] as const) {
      if (!(v >= 0 && v < 1)) throw new Error(`AdamW: ${name} must be in [0, 1), got ${v}`);
    }
    if (!(this.epsilon > 0)) throw new Error(`AdamW: epsilon must be > 0, got ${this.epsilon}`);
    if (!(this.weightDecay >= 0)) throw new Error(`weight decay must be >= 0, got ${this.weightDecay}`);
  }

  apply(weights: tf.LayerVariable[], grads: tf.Tensor[], lr: number): void {
    const [ms, vs, steps] = GROUPS.map((g) => this.state.get(g) as Map<string, tf.Tensor>);
    const { beta1, beta2, epsilon } = this;
    tf.tidy(() => {
      weights.forEach((w, i) => {
        const name = w.originalName;
        const g = grads[i];
        const t = (this.counts.get(name) ?? steps.get(name)?.dataSync()[0] ?? 0) + 1;
        this.counts.set(name, t);
        const m = tf.add(tf.mul(ms.get(name) ?? tf.zerosLike(g), beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(vs.get(name) ?? tf.zerosLike(g), beta2), tf.mul(tf.square(g), 1 - beta2));
        const decay = w.shape.length >= 2 ? this.weightDecay : 0;
        const decayed = decay > 0 ? tf.mul(w.read(), 1 - lr * decay) : w.read();
        const denominator = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - beta2 ** t)), epsilon);
        w.write(tf.sub(decayed, tf.mul(tf.div(m, denominator), lr / (1 - beta1 ** t))));
        this.replace(ms, name, m);
        this.replace(vs, name, v);
        this.replace(steps, name, tf.scalar(t));
      });
    });
  }

  private replace(group: Map<string, tf.Tensor>, name: string, next: tf.Tensor): void {
    group.get(name)?.dispose();
    group.set(name, tf.keep(next));
  }

  dispose(): void {
    this.counts.clear();
    for (const group of this.state.values()) {
      tf.dispose([...group.values()]);
      group.clear();
    }
  }
}
