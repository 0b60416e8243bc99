/**
 * RetinaNet's training losses (torchvision 0.14 `RetinaNetHead.compute_loss`, default box loss "l1"), on
 * the head outputs of a batch, differentiable in both; targets come from loss_targets.ts:
 *   classification = Σ_{b,a} w_ba Σ_k FL(x_bak, t_bak)   (focal_loss.ts; w_ba = 0 for ignored anchors)
 *   boxRegression  = Σ_{f foreground} v_f Σ_c |r_fc - target_fc|
 * with w, v = 1 / (max(1, F_b) · B): per image normalised by its foreground anchors, then averaged.
 */
import * as tf from '../../tf.js';
import { boxCount } from './boxes.js';
import { type FocalLossConfig, RETINANET_FOCAL_LOSS } from './config.js';
import { weightedFocalLoss } from './focal_loss.js';
import { type DetectionTarget, outputsShape, type RetinaNetOutputs } from './head_outputs.js';
import { type LossTargets, retinaNetTargets, type TargetOptions } from './loss_targets.js';

/**
 * RetinaNet's two training losses, scalars (formulas in tasks/detection/retinanet_loss.ts): the focal
 * classification loss and the L1 box regression loss, each normalised per image by its foreground anchors
 * and averaged over the images.
 */
export interface RetinaNetLosses {
  classification: tf.Scalar;
  boxRegression: tf.Scalar;
}

/**
 * Options of {@link retinaNetLoss}: those of {@link retinaNetTargets}, and the focal loss's α and γ
 * (default {@link RETINANET_FOCAL_LOSS}).
 */
export interface RetinaNetLossOptions extends TargetOptions, Partial<FocalLossConfig> {}

/** The focal loss of clsLogits [B, A, K], summed over classes, weighted per anchor and summed. */
function classificationLoss(clsLogits: tf.Tensor3D, targets: LossTargets, focal: FocalLossConfig): tf.Scalar {
  return weightedFocalLoss(clsLogits, targets.anchorClasses, targets.classificationWeights, focal);
}

/**
 * The L1 loss of boxRegression [B, A, 4] against the encoded targets, weighted per anchor (0 off the
 * foreground). Dense [B, A, 4] targets rather than a gather of the foreground rows: tfjs's gather gradient
 * (an unsorted segment sum) costs O(rows · foreground).
 */
function boxRegressionLoss(boxRegression: tf.Tensor3D, targets: LossTargets): tf.Scalar {
  const [b, a] = boxRegression.shape;
  const dense = new Float32Array(b * a * 4);
  const weights = new Float32Array(b * a);
  targets.foreground.forEach((row, f) => {
    dense.set(targets.regressionTargets.subarray(f * 4, f * 4 + 4), row * 4);
    weights[row] = targets.regressionWeights[f];
  });
  const error = tf.sum(tf.abs(tf.sub(boxRegression, tf.tensor3d(dense, [b, a, 4]))), 2);
  return tf.sum(tf.mul(error, tf.tensor2d(weights, [b, a])));
}

/**
 * RetinaNet's two losses for `outputs` (B images) against `targets` (one per image), with `anchors` [A, 4]
 * xyxy the same for every image (generateAnchors of the padded batch size, as torchvision makes them).
 * Options inject the matcher, box coder, focal α and γ, or precomputed matches (defaults: RetinaNet's).
 */
export function retinaNetLoss(
  outputs: RetinaNetOutputs,
  targets: readonly DetectionTarget[],
  anchors: Float32Array,
  options: RetinaNetLossOptions = {},
): RetinaNetLosses {
  const [b, , k] = outputsShape(outputs, boxCount(anchors, 'anchors'));
  if (targets.length !== b) throw new Error(`targets must hold one entry per image (${b}): got ${targets.length}`);
  const focal = {
    alpha: options.alpha ?? RETINANET_FOCAL_LOSS.alpha,
    gamma: options.gamma ?? RETINANET_FOCAL_LOSS.gamma,
  };
  const lossTargets = retinaNetTargets(targets, anchors, k, options);
  return tf.tidy(() => ({
    classification: classificationLoss(outputs.clsLogits, lossTargets, focal),
    boxRegression: boxRegressionLoss(outputs.boxRegression, lossTargets),
  }));
}
