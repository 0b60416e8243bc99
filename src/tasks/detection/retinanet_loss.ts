/**
 * RetinaNet's training losses (torchvision 0.14 `RetinaNetHead.compute_loss`, default box loss "l1"), on
 * the head outputs of a batch, differentiable in both; targets come from loss_targets.ts:
 *   classification = Σ_{b,a} w_ba Σ_k FL(x_bak, t_bak)   (focal_loss.ts; w_ba = 0 for ignored anchors)
 *   boxRegression  = Σ_{f foreground} v_f Σ_c |r_fc - target_fc|
 * with w, v = 1 / (max(1, F_b) · B): per image normalised by its foreground anchors, then averaged.
 */
import * as tf from '@tensorflow/tfjs';
import { boxCount } from './boxes.js';
import { type FocalLossConfig, RETINANET_FOCAL_LOSS } from './config.js';
import { sigmoidFocalLossOfClasses } from './focal_loss.js';
import { type DetectionTarget, outputsShape, type RetinaNetOutputs } from './head_outputs.js';
import { type LossTargets, retinaNetTargets, type TargetOptions } from './loss_targets.js';

export interface RetinaNetLosses {
  classification: tf.Scalar;
  boxRegression: tf.Scalar;
}

export interface RetinaNetLossOptions extends TargetOptions, Partial<FocalLossConfig> {}

/** The focal loss of clsLogits [B, A, K], summed over classes, weighted per anchor and summed. */
function classificationLoss(clsLogits: tf.Tensor3D, targets: LossTargets, focal: FocalLossConfig): tf.Scalar {
  const [b, a] = clsLogits.shape;
  const classes = tf.tensor2d(targets.anchorClasses, [b, a], 'int32');
  const weights = tf.tensor2d(targets.classificationWeights, [b, a]);
  const perAnchor = tf.sum(sigmoidFocalLossOfClasses(clsLogits, classes, focal), 2);
  return tf.sum(tf.mul(perAnchor, weights));
}

/** The L1 loss of the foreground rows of boxRegression [B, A, 4] against their encoded targets, weighted. */
function boxRegressionLoss(boxRegression: tf.Tensor3D, targets: LossTargets): tf.Scalar {
  const [b, a] = boxRegression.shape;
  const f = targets.foreground.length;
  const rows = tf.gather(tf.reshape(boxRegression, [b * a, 4]), tf.tensor1d(targets.foreground, 'int32'));
  const error = tf.sum(tf.abs(tf.sub(rows, tf.tensor2d(targets.regressionTargets, [f, 4]))), 1);
  return tf.sum(tf.mul(error, tf.tensor1d(targets.regressionWeights)));
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
