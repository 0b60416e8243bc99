/**
 * What a RetinaNet head gives, for a batch of B images with A anchors each (levels concatenated, in the
 * order of `generateAnchors`) and K classes; and the training targets of an image.
 */
import type * as tf from '../../tf.js';

/**
 * RetinaNet's head outputs for B images with A anchors each (the levels concatenated) and K classes: class
 * logits [B, A, K] and box deltas [B, A, 4].
 */
export interface RetinaNetOutputs {
  /** [B, A, K] class logits (sigmoid per class, no background class). */
  clsLogits: tf.Tensor3D;
  /** [B, A, 4] box deltas (dx, dy, dw, dh) relative to each anchor (see box_coder.ts). */
  boxRegression: tf.Tensor3D;
}

/** An image's ground truth: boxes xyxy [N * 4] in the batch's pixels and their class indices [N] (0..K-1). */
export interface DetectionTarget {
  boxes: Float32Array;
  labels: Int32Array;
}

/** The batch shape [B, A, K] of `outputs`, checked against each other and `numAnchors` (A). */
export function outputsShape(outputs: RetinaNetOutputs, numAnchors: number): [number, number, number] {
  const { clsLogits, boxRegression } = outputs;
  if (clsLogits.rank !== 3) throw new Error(`clsLogits must be [B, A, K]: got [${clsLogits.shape}]`);
  const [b, a, k] = clsLogits.shape;
  if (
    boxRegression.rank !== 3 ||
    boxRegression.shape[0] !== b ||
    boxRegression.shape[1] !== a ||
    boxRegression.shape[2] !== 4
  ) {
    throw new Error(
      `boxRegression must be [${b}, ${a}, 4] for clsLogits [${clsLogits.shape}]: got [${boxRegression.shape}]`,
    );
  }
  if (a !== numAnchors) throw new Error(`the outputs hold ${a} anchors per image but there are ${numAnchors} anchors`);
  if (!(k >= 1)) throw new Error(`clsLogits must have at least one class: got [${clsLogits.shape}]`);
  return [b, a, k];
}
