/**
 * RetinaNet's per-anchor training targets for a batch (torchvision 0.14 `RetinaNet.compute_loss` and its
 * heads' `compute_loss`), as typed arrays: each image's anchors matched to its boxes (matcher.ts), the
 * matched class of every foreground anchor, the encoded matched box (box_coder.ts), and the weights that
 * give torchvision's normalisation, with F_b the foreground anchors of image b and B the images:
 *   classification = (1/B) Σ_b (1 / max(1, F_b)) Σ_{a not ignored} Σ_k FL(x_bak, t_bak)
 *   box regression = (1/B) Σ_b (1 / max(1, F_b)) Σ_{a foreground} |r_ba - encode(g_ba, anchor_a)|_1
 */

import { encodeBoxes } from './box_coder.js';
import { boxCount } from './boxes.js';
import { type BoxCoderConfig, type MatcherConfig, RETINANET_BOX_CODER, RETINANET_MATCHER } from './config.js';
import type { DetectionTarget } from './head_outputs.js';
import { BETWEEN_THRESHOLDS, matchAnchors } from './matcher.js';

/** Flat over the batch: anchor a of image b is entry b·A + a. */
export interface LossTargets {
  /** [B·A] the class of each anchor's matched box; -1 for background and ignored anchors. */
  anchorClasses: Int32Array;
  /** [B·A] each anchor's classification weight: 0 when ignored, else 1 / (max(1, F_b) · B). */
  classificationWeights: Float32Array;
  /** [F] the foreground anchors (entries b·A + a), image by image, ascending. */
  foreground: Int32Array;
  /** [F, 4] their matched boxes encoded against their anchors. */
  regressionTargets: Float32Array;
  /** [F] 1 / (max(1, F_b) · B) of each foreground anchor's image. */
  regressionWeights: Float32Array;
  /** [B] F_b. */
  foregroundCounts: Int32Array;
}

/**
 * Options of {@link retinaNetTargets}: the matcher (default {@link RETINANET_MATCHER}), the box coder
 * (default {@link RETINANET_BOX_CODER}), or each image's matches already computed.
 */
export interface TargetOptions {
  matcher?: MatcherConfig;
  coder?: BoxCoderConfig;
  /** Each image's matches [A] (matcher.ts values), when already computed; otherwise matched here. */
  matches?: readonly Int32Array[];
}

function checkLabels(target: DetectionTarget, image: number, numClasses: number): void {
  const n = boxCount(target.boxes, `target ${image} boxes`);
  if (!(target.labels instanceof Int32Array) || target.labels.length !== n) {
    throw new Error(`target ${image} labels must be an Int32Array with one label per box (${n})`);
  }
  target.labels.forEach((label, i) => {
    if (!(label >= 0 && label < numClasses)) {
      throw new Error(`target ${image} label ${i} must be a class index in 0..${numClasses - 1}: got ${label}`);
    }
  });
}

function checkMatches(matches: Int32Array, image: number, numAnchors: number, numBoxes: number): void {
  if (!(matches instanceof Int32Array) || matches.length !== numAnchors) {
    throw new Error(`matches of image ${image} must be an Int32Array [${numAnchors}]`);
  }
  matches.forEach((m, a) => {
    if (!(m >= BETWEEN_THRESHOLDS && m < numBoxes)) {
      throw new Error(`match ${a} of image ${image} must be -2, -1 or a box index below ${numBoxes}: got ${m}`);
    }
  });
}

/** The targets of `targets` (one per image) on `anchors` [A, 4] (the same for every image of the batch). */
export function retinaNetTargets(
  targets: readonly DetectionTarget[],
  anchors: Float32Array,
  numClasses: number,
  options: TargetOptions = {},
): LossTargets {
  const { matcher = RETINANET_MATCHER, coder = RETINANET_BOX_CODER, matches } = options;
  const numImages = targets.length;
  const numAnchors = boxCount(anchors, 'anchors');
  if (numImages === 0) throw new Error('the loss needs at least one image target');
  if (matches && matches.length !== numImages) {
    throw new Error(`matches must hold one array per image (${numImages}): got ${matches.length}`);
  }
  const anchorClasses = new Int32Array(numImages * numAnchors).fill(-1);
  const classificationWeights = new Float32Array(numImages * numAnchors);
  const foregroundCounts = new Int32Array(numImages);
  const perImage = targets.map((target, b) => {
    checkLabels(target, b, numClasses);
    const matched = matches ? matches[b] : matchAnchors(target.boxes, anchors, matcher);
    if (matches) checkMatches(matched, b, numAnchors, target.labels.length);
    const foreground: number[] = [];
    for (let a = 0; a < numAnchors; a++) if (matched[a] >= 0) foreground.push(a);
    const weight = 1 / (Math.max(1, foreground.length) * numImages);
    const offset = b * numAnchors;
    for (let a = 0; a < numAnchors; a++) {
      if (matched[a] !== BETWEEN_THRESHOLDS) classificationWeights[offset + a] = weight;
      if (matched[a] >= 0) anchorClasses[offset + a] = target.labels[matched[a]];
    }
    foregroundCounts[b] = foreground.length;
    return { matched, foreground, weight, offset };
  });
  const total = foregroundCounts.reduce((sum, f) => sum + f, 0);
  const foreground = new Int32Array(total);
  const matchedBoxes = new Float32Array(total * 4);
  const foregroundAnchors = new Float32Array(total * 4);
  const regressionWeights = new Float32Array(total);
  let f = 0;
  perImage.forEach(({ matched, foreground: own, weight, offset }, b) => {
    const boxes = targets[b].boxes;
    for (const a of own) {
      foreground[f] = offset + a;
      matchedBoxes.set(boxes.subarray(matched[a] * 4, matched[a] * 4 + 4), f * 4);
      foregroundAnchors.set(anchors.subarray(a * 4, a * 4 + 4), f * 4);
      regressionWeights[f++] = weight;
    }
  });
  const regressionTargets = encodeBoxes(matchedBoxes, foregroundAnchors, coder);
  return { anchorClasses, classificationWeights, foreground, regressionTargets, regressionWeights, foregroundCounts };
}
