/**
 * What a training checkpoint needs of an optimizer: its per-weight state as named groups
 * (`velocity` for SGD, `adam_m`, `adam_v`, `adam_step` for AdamW), each weight name → tensor, so that
 * classification/checkpoint.ts stores it as `<group>/<weight>` and puts it back exactly.
 */
import type * as tf from '../../tf.js';

/** An optimizer whose state a checkpoint stores and restores: Sgd (`velocity`) and AdamW. */
export interface StatefulOptimizer {
  /** The groups this optimizer keeps, in checkpoint order. */
  readonly groups: readonly string[];
  /** Per group, its tensors by weight name (LayerVariable.originalName); the optimizer owns them. */
  readonly state: ReadonlyMap<string, Map<string, tf.Tensor>>;
  /** Applies one update to `weights` given their gradients (same order) at learning rate `lr`. */
  apply(weights: tf.LayerVariable[], grads: tf.Tensor[], lr: number): void;
  /** Frees the state. */
  dispose(): void;
}

/** A fresh map per group. */
export function emptyState(groups: readonly string[]): Map<string, Map<string, tf.Tensor>> {
  return new Map(groups.map((g) => [g, new Map<string, tf.Tensor>()]));
}
