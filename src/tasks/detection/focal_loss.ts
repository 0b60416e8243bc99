/**
 * The sigmoid focal loss (Lin et al. 2017; torchvision 0.14 `sigmoid_focal_loss`, reduction "none") for
 * binary targets t ∈ {0, 1}, with p = sigmoid(x) and p_t = p·t + (1 - p)(1 - t):
 *   FL(x, t) = α_t · (1 - p_t)^γ · (-log p_t),  α_t = α·t + (1 - α)(1 - t)  (α < 0: α_t = 1).
 * Computed in the numerically stable log-sigmoid form on z = (1 - 2t)·x, the logit of 1 - p_t:
 *   -log p_t = softplus(z),  (1 - p_t)^γ = exp(γ · logSigmoid(z)),
 * so no sigmoid is subtracted from 1 or logged, and large |x| neither overflows nor loses the gradient.
 * `sigmoidFocalLoss` / `sigmoidFocalLossOfClasses` are tfjs ops; `weightedFocalLoss` is the weighted sum
 * RetinaNet trains with, fused with its gradient (tested equal to the ops).
 */
import { type FocalLossRows, hostKernels } from '../../backend/host_kernels.js';
import * as tf from '../../tf.js';
import { type FocalLossConfig, RETINANET_FOCAL_LOSS } from './config.js';

function checkFocal(config: FocalLossConfig): void {
  if (!(config.alpha <= 1 && Number.isFinite(config.alpha))) {
    throw new Error(`focal loss alpha must be in [0, 1] (or negative to leave it out): got ${config.alpha}`);
  }
  if (!(config.gamma >= 0 && Number.isFinite(config.gamma))) {
    throw new Error(`focal loss gamma must be a finite number ≥ 0: got ${config.gamma}`);
  }
}

/** FL per element from z = (1 - 2t)·x (`signedLogits`) and α_t (`alphaT`, null for 1). */
function focalTerms(signedLogits: tf.Tensor, alphaT: tf.Tensor | null, gamma: number): tf.Tensor {
  const crossEntropy = tf.softplus(signedLogits);
  const modulated =
    gamma === 0 ? crossEntropy : tf.mul(tf.exp(tf.mul(tf.logSigmoid(signedLogits), gamma)), crossEntropy);
  return alphaT === null ? modulated : tf.mul(alphaT, modulated);
}

/** FL(logits, targets) element-wise: `targets` of the same shape, 0 or 1 (float32). */
export function sigmoidFocalLoss(
  logits: tf.Tensor,
  targets: tf.Tensor,
  config: FocalLossConfig = RETINANET_FOCAL_LOSS,
): tf.Tensor {
  checkFocal(config);
  if (!tf.util.arraysEqual(logits.shape, targets.shape)) {
    throw new Error(`focal loss targets [${targets.shape}] must have the shape of the logits [${logits.shape}]`);
  }
  const { alpha, gamma } = config;
  return tf.tidy(() => {
    const t = tf.cast(targets, 'float32');
    const signed = tf.mul(logits, tf.sub(1, tf.mul(t, 2)));
    const alphaT = alpha < 0 ? null : tf.add(tf.mul(t, 2 * alpha - 1), 1 - alpha);
    return focalTerms(signed, alphaT, gamma);
  });
}

/** [..., K] of `on` at each entry's class and `off` elsewhere (none where the class is -1), float32. */
function classMap(classes: tf.Tensor, numClasses: number, on: number, off: number): tf.Tensor {
  if (numClasses >= 2) return tf.oneHot(classes, numClasses, on, off, 'float32');
  const hit = tf.cast(tf.expandDims(tf.equal(classes, 0), -1), 'float32');
  return tf.add(tf.mul(hit, on - off), off);
}

/**
 * FL element-wise for logits [..., K] against one-hot targets: `classes` [...] (int32) holds each row's
 * class in 0..K-1, or -1 for a row whose targets are all 0. The targets are never materialised as 0/1:
 * the sign 1 - 2t and α_t come straight from one-hot maps.
 */
export function sigmoidFocalLossOfClasses(
  logits: tf.Tensor,
  classes: tf.Tensor,
  config: FocalLossConfig = RETINANET_FOCAL_LOSS,
): tf.Tensor {
  checkFocal(config);
  const numClasses = logits.shape[logits.rank - 1];
  if (!tf.util.arraysEqual(classes.shape, logits.shape.slice(0, -1)) || classes.dtype !== 'int32') {
    throw new Error(
      `focal loss classes must be int32 [${logits.shape.slice(0, -1)}]: got ${classes.dtype} [${classes.shape}]`,
    );
  }
  const { alpha, gamma } = config;
  return tf.tidy(() => {
    const signed = tf.mul(logits, classMap(classes, numClasses, -1, 1));
    const alphaT = alpha < 0 ? null : classMap(classes, numClasses, alpha, 1 - alpha);
    return focalTerms(signed, alphaT, gamma);
  });
}

/**
 * FL of one element from x, its target t (0/1), α_t and γ, in float64 (log-sigmoid form); its derivative
 * dFL/dx times `weight` goes to slopes[i]. With z = (1 - 2t)·x:
 *   d/dz σ(z)^γ softplus(z) = σ^γ (γ (1 - σ) softplus(z) + σ),  dz/dx = 1 - 2t.
 */
function focalWithSlope(
  x: number,
  t: number,
  alphaT: number,
  gamma: number,
  weight: number,
  slopes: Float32Array,
  i: number,
): number {
  const sign = t === 1 ? -1 : 1;
  const z = sign * x;
  const e = Math.exp(-Math.abs(z));
  const softplus = Math.max(z, 0) + Math.log1p(e);
  const sigmoid = z >= 0 ? 1 / (1 + e) : e / (1 + e);
  const oneMinusSigmoid = z >= 0 ? e / (1 + e) : 1 / (1 + e);
  const modulation = gamma === 2 ? sigmoid * sigmoid : gamma === 0 ? 1 : sigmoid ** gamma;
  slopes[i] = weight * sign * alphaT * modulation * (gamma * oneMinusSigmoid * softplus + sigmoid);
  return alphaT * modulation * softplus;
}

/** The JS path of focalLossRows (backend/host_kernels.ts): Σ_r w_r Σ_j FL(x_rj, [j = c_r]), slopes as it. */
export const focalLossRowsJs: FocalLossRows = (values, classes, weights, slopes, rows, k, alpha, gamma) => {
  const alphaOf = (t: number) => (alpha < 0 ? 1 : t === 1 ? alpha : 1 - alpha);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    if (weights[r] === 0) continue;
    let rowSum = 0;
    for (let j = 0, i = r * k; j < k; j++, i++) {
      const t = classes[r] === j ? 1 : 0;
      rowSum += focalWithSlope(values[i], t, alphaOf(t), gamma, weights[r], slopes, i);
    }
    total += weights[r] * rowSum;
  }
  return total;
};

/**
 * Σ_r w_r Σ_k FL(x_rk, [k = c_r]) over the rows r of logits [..., K], with `classes` [rows] (-1: no class)
 * and `weights` [rows] as typed arrays: the same loss as summing `sigmoidFocalLossOfClasses`, computed
 * with its gradient in one float64 pass over the logits, kept for the backward pass (on RetinaNet's
 * [1, 49k, 80] the tensor form's element-wise kernels took 2–3 s, the JS pass 0.6–0.9 s, on a loaded machine;
 * the addon's pass, where it loaded, splits the rows over its threads). Rows of weight 0 are skipped and get a
 * zero gradient. It reads the logits synchronously (dataSync).
 */
export function weightedFocalLoss(
  logits: tf.Tensor,
  classes: Int32Array,
  weights: Float32Array,
  config: FocalLossConfig = RETINANET_FOCAL_LOSS,
): tf.Scalar {
  checkFocal(config);
  const k = logits.shape[logits.rank - 1];
  if (!(logits.rank >= 1 && k >= 1))
    throw new Error(`focal loss logits must be [..., K] with K ≥ 1: got [${logits.shape}]`);
  const rows = logits.size / k;
  if (classes.length !== rows || weights.length !== rows) {
    throw new Error(
      `focal loss classes (${classes.length}) and weights (${weights.length}) need one entry per row of logits [${logits.shape}]`,
    );
  }
  const { alpha, gamma } = config;
  const rowsPass = hostKernels.focalLossRows ?? focalLossRowsJs;
  const run = tf.customGrad(((x: tf.Tensor) => {
    const values = x.dataSync() as Float32Array;
    const slopes = new Float32Array(values.length);
    const total = rowsPass(values, classes, weights, slopes, rows, k, alpha, gamma);
    return { value: tf.scalar(total), gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor(slopes, x.shape)) };
  }) as Parameters<typeof tf.customGrad>[0]);
  return run(logits) as tf.Scalar;
}
