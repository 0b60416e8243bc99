/**
 * RetinaNet's box-level defaults as data (torchvision 0.14, `models/detection/retinanet.py`): the anchors,
 * the box coder, the anchor matcher and the non-maximum suppression. A detector config overrides any of
 * them by passing its own object of the same type (these are frozen: spread one to change a field).
 */

/** Anchors per pyramid level: one entry of `strides` and `sizes` per level, the ratios shared by all. */
export interface AnchorConfig {
  /** Nominal stride of each level (P3…P7: 8…128); the feature size is ceil(image size / stride). */
  strides: readonly number[];
  /** Anchor side lengths (square-equivalent, pixels) per level. */
  sizes: readonly (readonly number[])[];
  /** Aspect ratios height / width, the same at every level. */
  aspectRatios: readonly number[];
}

/** The box coder: deltas (dx, dy, dw, dh) scaled by `weights`; dw, dh clamped at `clip` before exp. */
export interface BoxCoderConfig {
  weights: readonly [number, number, number, number];
  clip: number;
}

/** Anchor-to-ground-truth matching on IoU (torchvision's `Matcher`). */
export interface MatcherConfig {
  /** IoU ≥ this: matched to its best ground-truth box. */
  highThreshold: number;
  /** IoU < this: background (-1); in between: ignored (-2). */
  lowThreshold: number;
  /** Give every ground-truth box its best anchors (ties included) even below `highThreshold`. */
  allowLowQualityMatches: boolean;
}

/** Non-maximum suppression: a box is dropped when its IoU with a kept, higher-scoring box is greater than this. */
export interface NmsConfig {
  iouThreshold: number;
}

/** A base size and its two intermediate octave scales, truncated as torchvision does: x, int(x·2^(1/3)), int(x·2^(2/3)). */
export function octaveSizes(base: number): number[] {
  return [base, Math.trunc(base * 2 ** (1 / 3)), Math.trunc(base * 2 ** (2 / 3))];
}

/** P3–P7 anchors of base sides `bases` (one per level) with three octave scales each, ratios 0.5, 1, 2. */
export function anchorsOfSizes(bases: readonly number[]): AnchorConfig {
  return Object.freeze({
    strides: Object.freeze([8, 16, 32, 64, 128]),
    sizes: Object.freeze(bases.map((base) => Object.freeze(octaveSizes(base)))),
    aspectRatios: Object.freeze([0.5, 1, 2]),
  });
}

/** P3–P7: sizes 32…512 with three scales each, ratios 0.5, 1, 2 (9 anchors per location). */
export const RETINANET_ANCHORS: AnchorConfig = anchorsOfSizes([32, 64, 128, 256, 512]);

/** Weights (1, 1, 1, 1) and torchvision's clip log(1000 / 16). */
export const RETINANET_BOX_CODER: BoxCoderConfig = Object.freeze({
  weights: Object.freeze([1, 1, 1, 1] as const),
  clip: Math.log(1000 / 16),
});

/** `Matcher(0.5, 0.4, allow_low_quality_matches=True)`. */
export const RETINANET_MATCHER: MatcherConfig = Object.freeze({
  highThreshold: 0.5,
  lowThreshold: 0.4,
  allowLowQualityMatches: true,
});

/** RetinaNet's post-processing NMS threshold. */
export const RETINANET_NMS: NmsConfig = Object.freeze({ iouThreshold: 0.5 });

/** The sigmoid focal loss (Lin et al. 2017): FL = -α_t (1 - p_t)^γ log p_t; α < 0 leaves α_t out. */
export interface FocalLossConfig {
  alpha: number;
  gamma: number;
}

/** torchvision's `sigmoid_focal_loss` defaults, as RetinaNet trains with: α 0.25, γ 2. */
export const RETINANET_FOCAL_LOSS: FocalLossConfig = Object.freeze({ alpha: 0.25, gamma: 2 });

/** Turning head outputs into detections (torchvision `RetinaNet.postprocess_detections`); NMS is `NmsConfig`. */
export interface DetectionConfig {
  /** A (class, anchor) score sigmoid(logit) must exceed this. */
  scoreThreshold: number;
  /** At most this many candidates per pyramid level, the highest scores, before NMS. */
  topkCandidates: number;
  /** At most this many detections per image, the highest scores, after NMS. */
  detectionsPerImage: number;
}

/** RetinaNet's defaults: score > 0.05, 1000 candidates per level, 300 detections per image. */
export const RETINANET_DETECTIONS: DetectionConfig = Object.freeze({
  scoreThreshold: 0.05,
  topkCandidates: 1000,
  detectionsPerImage: 300,
});
