/**
 * The model tests' own counts, read off built layers and independent of src/models/count*.ts: trainable
 * parameters, and the FLOPs of the attention layers (SASA.md §4), which the classifier and the detector
 * tests both add up.
 */
import type * as tf from '../../src/tf.js';

/** Trainable parameters of `m`: the sizes of its trainable weights, summed. */
export const trainableCount = (m: tf.LayersModel): number =>
  m.trainableWeights.reduce((s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);

/**
 * FLOPs of one call of an attention layer (`cls` LocalSelfAttention2D or AttentionStem, `cfg` its config) on
 * [*, h, w, dIn]: 2·(projections)·dIn·dOut + 2·k²·dOut per logit term and the weighted sum, per pixel; 0 for
 * any other class.
 */
export function attentionFlops(cls: string, cfg: Record<string, unknown>, h: number, w: number, dIn: number): number {
  if (cls === 'LocalSelfAttention2D') {
    const dOut = cfg.filters as number;
    const k2 = (cfg.kernelSize as number) ** 2;
    const qk = cfg.logits !== 'qr';
    const qr = cfg.positional === 'relative' && cfg.logits !== 'qk';
    return h * w * (2 * (qk ? 3 : 2) * dIn * dOut + 2 * k2 * dOut * (1 + (qk ? 1 : 0) + (qr ? 1 : 0)));
  }
  if (cls === 'AttentionStem') {
    const d = cfg.filters as number;
    const values = cfg.values === 'mixture' ? (cfg.mixtures as number) : cfg.values === 'conv' ? 9 : 1;
    const s2 = (cfg.block as number) ** 2;
    return h * w * (2 * (2 + values) * dIn * d + 2 * s2 * d * (cfg.relative ? 3 : 2));
  }
  return 0;
}
