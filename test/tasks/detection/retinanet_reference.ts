/** RetinaNet's losses in float64, written as torchvision 0.14 writes them: the test's independent reference. */
import type { FocalLossConfig } from '../../../src/tasks/detection/config.js';
import type { DetectionTarget } from '../../../src/tasks/detection/head_outputs.js';

/** sigmoid_focal_loss per element: BCE-with-logits · (1 - p_t)^γ · α_t, p = sigmoid(x). */
export function focalRef(x: number, t: number, { alpha, gamma }: FocalLossConfig): number {
  const p = 1 / (1 + Math.exp(-x));
  const ce = Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
  const pt = p * t + (1 - p) * (1 - t);
  const alphaT = alpha >= 0 ? alpha * t + (1 - alpha) * (1 - t) : 1;
  return alphaT * ce * (1 - pt) ** gamma;
}

/** BoxCoder (weights 1) encode of box g against anchor a, float64. */
function encodeRef(g: ArrayLike<number>, a: ArrayLike<number>): number[] {
  const aw = a[2] - a[0];
  const ah = a[3] - a[1];
  const gw = g[2] - g[0];
  const gh = g[3] - g[1];
  const dx = (g[0] + gw / 2 - (a[0] + aw / 2)) / aw;
  const dy = (g[1] + gh / 2 - (a[1] + ah / 2)) / ah;
  return [dx, dy, Math.log(gw / aw), Math.log(gh / ah)];
}

export interface LossProblem {
  numClasses: number;
  anchors: Float32Array;
  targets: DetectionTarget[];
  matches: Int32Array[];
  focal: FocalLossConfig;
}

/**
 * torchvision's normalisation of both heads' losses: the mean over images of Σ_j term(b, j, m) / max(1, the
 * image's foreground anchors), m = anchor j's match (≥ 0 a ground-truth index, −1 background, −2 ignored).
 */
function perImageMean(p: LossProblem, term: (b: number, j: number, m: number) => number): number {
  let total = 0;
  p.matches.forEach((matches, b) => {
    let sum = 0;
    let foreground = 0;
    matches.forEach((m, j) => {
      if (m >= 0) foreground++;
      sum += term(b, j, m);
    });
    total += sum / Math.max(1, foreground);
  });
  return total / p.matches.length;
}

/** RetinaNetClassificationHead.compute_loss on logits [B·A·K]: the focal loss of every anchor not ignored. */
export function classificationRef(p: LossProblem, logits: ArrayLike<number>): number {
  const k = p.numClasses;
  const a = p.anchors.length / 4;
  return perImageMean(p, (b, j, m) => {
    if (m === -2) return 0;
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const t = m >= 0 && p.targets[b].labels[m] === c ? 1 : 0;
      sum += focalRef(logits[(b * a + j) * k + c], t, p.focal);
    }
    return sum;
  });
}

/** RetinaNetRegressionHead.compute_loss ("l1") on deltas [B·A·4]: the L1 distance of foreground anchors' deltas. */
export function boxRegressionRef(p: LossProblem, deltas: ArrayLike<number>): number {
  const a = p.anchors.length / 4;
  return perImageMean(p, (b, j, m) => {
    if (m < 0) return 0;
    const target = encodeRef(p.targets[b].boxes.subarray(m * 4, m * 4 + 4), p.anchors.subarray(j * 4, j * 4 + 4));
    let sum = 0;
    for (let c = 0; c < 4; c++) sum += Math.abs(deltas[(b * a + j) * 4 + c] - target[c]);
    return sum;
  });
}
