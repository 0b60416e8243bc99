/**
 * Softmax cross-entropy with label smoothing ε over K classes:
 *   loss = mean_b ( -Σ_c q_bc · log softmax(z_b)_c ),  q = (1 - ε) · onehot(y) + ε / K.
 * logits [B, K], labels [B] int32.
 */
import * as tf from '../../tf.js';

/** The mean smoothed cross-entropy (formula above) of logits [B, K] against labels [B] int32, with ε = `smoothing`. */
export function smoothedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, smoothing = 0): tf.Scalar {
  if (!(smoothing >= 0 && smoothing < 1)) throw new Error(`label smoothing must be in [0, 1), got ${smoothing}`);
  const [b, k] = logits.shape;
  if (labels.shape[0] !== b) {
    throw new Error(`labels [${labels.shape}] must have one entry per row of logits [${logits.shape}]`);
  }
  return tf.tidy(() => {
    const target = tf.add(tf.mul(tf.oneHot(labels, k), 1 - smoothing), smoothing / k);
    return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}
