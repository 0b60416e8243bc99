/**
 * RetinaNet's head outputs → detections (torchvision 0.14 `RetinaNet.postprocess_detections`). Per image,
 * per pyramid level: the scores s = sigmoid(x) of every (anchor, class), flattened anchor-major; those with
 * s > scoreThreshold; of them the topkCandidates highest; their boxes decoded from the deltas and anchors
 * and clipped to the image. Then over all levels, NMS within each class, and the detectionsPerImage
 * highest-scoring boxes kept (by descending score). Scores are float32 as torch's.
 */
import type { AnchorSet } from './anchors.js';
import { decodeBoxes } from './box_coder.js';
import { boxCount, clipBoxesToImage, type Size2 } from './boxes.js';
import {
  type BoxCoderConfig,
  type DetectionConfig,
  type NmsConfig,
  RETINANET_BOX_CODER,
  RETINANET_DETECTIONS,
  RETINANET_NMS,
} from './config.js';
import { outputsShape, type RetinaNetOutputs } from './head_outputs.js';
import { batchedNms } from './nms.js';

const f32 = Math.fround;

/** An image's detections, by descending score: boxes xyxy [N * 4] (pixels of the batch), scores [N], labels [N]. */
export interface Detections {
  boxes: Float32Array;
  scores: Float32Array;
  labels: Int32Array;
}

/**
 * Options of {@link postprocessDetections} and {@link detectImage}: score threshold and box counts (default
 * {@link RETINANET_DETECTIONS}), NMS (default {@link RETINANET_NMS}) and box coder (default
 * {@link RETINANET_BOX_CODER}).
 */
export interface PostprocessOptions {
  detections?: DetectionConfig;
  nms?: NmsConfig;
  coder?: BoxCoderConfig;
}

/** One image's outputs as typed arrays: logits [A * K] and deltas [A * 4], anchors in the same order. */
export interface ImageOutputs {
  logits: Float32Array;
  deltas: Float32Array;
  numClasses: number;
}

interface Candidates {
  /** Entries a·K + k of the level's scores (anchor a within the level). */
  entries: Int32Array;
  scores: Float32Array;
}

function checkDetectionConfig(config: DetectionConfig): void {
  const { scoreThreshold, topkCandidates, detectionsPerImage } = config;
  if (!(scoreThreshold >= 0 && scoreThreshold < 1)) {
    throw new Error(`detections scoreThreshold must be in [0, 1): got ${scoreThreshold}`);
  }
  for (const [name, value] of [
    ['topkCandidates', topkCandidates],
    ['detectionsPerImage', detectionsPerImage],
  ] as const) {
    if (!(Number.isInteger(value) && value >= 0))
      throw new Error(`detections ${name} must be an integer ≥ 0: got ${value}`);
  }
}

/**
 * The scores > threshold of `logits` [n] (sigmoid in float32). Logits below the threshold's logit (less a
 * margin for float32 rounding) are passed over without a sigmoid.
 */
function scoresAbove(logits: Float32Array, threshold: number): Candidates {
  const cutoff = Math.log(threshold / (1 - threshold)) - 1e-3;
  const limit = f32(threshold);
  const entries: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    if (!(logits[i] > cutoff)) continue;
    const score = f32(1 / (1 + Math.exp(-logits[i])));
    if (score > limit) {
      entries.push(i);
      scores.push(score);
    }
  }
  return { entries: Int32Array.from(entries), scores: Float32Array.from(scores) };
}

/** The k highest-scoring candidates (all when there are at most k; on a tie at the cut, the lower entries). */
function topK(candidates: Candidates, k: number): Candidates {
  const n = candidates.scores.length;
  if (n <= k) return candidates;
  if (k === 0) return { entries: new Int32Array(0), scores: new Float32Array(0) };
  const cut = candidates.scores.slice().sort()[n - k];
  let ties = k - candidates.scores.filter((s) => s > cut).length;
  const entries = new Int32Array(k);
  const scores = new Float32Array(k);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const s = candidates.scores[i];
    if (s > cut || (s === cut && ties-- > 0)) {
      entries[o] = candidates.entries[i];
      scores[o++] = s;
    }
  }
  return { entries, scores };
}

/** Rows `rows` of `values` [N, 4] → [rows.length, 4]. */
function gatherRows(values: Float32Array, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * 4);
  for (let i = 0; i < rows.length; i++) out.set(values.subarray(rows[i] * 4, rows[i] * 4 + 4), i * 4);
  return out;
}

/** Concatenates typed arrays of one kind. */
function concat<T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function checkImageOutputs(outputs: ImageOutputs, anchors: AnchorSet): number {
  const numAnchors = boxCount(anchors.boxes, 'anchors');
  const perLevel = anchors.perLevel.reduce((sum, n) => sum + n, 0);
  if (perLevel !== numAnchors)
    throw new Error(`anchors perLevel sums to ${perLevel}, but there are ${numAnchors} anchors`);
  const { logits, deltas, numClasses } = outputs;
  if (!(Number.isInteger(numClasses) && numClasses >= 1)) throw new Error(`numClasses must be ≥ 1: got ${numClasses}`);
  if (logits.length !== numAnchors * numClasses) {
    throw new Error(`logits must be [${numAnchors}, ${numClasses}]: got length ${logits.length}`);
  }
  if (deltas.length !== numAnchors * 4)
    throw new Error(`deltas must be [${numAnchors}, 4]: got length ${deltas.length}`);
  return numClasses;
}

/** One image's detections from its outputs, its anchors (with their levels) and its size [height, width]. */
export function detectImage(
  outputs: ImageOutputs,
  anchors: AnchorSet,
  imageSize: Size2,
  options: PostprocessOptions = {},
): Detections {
  const { detections = RETINANET_DETECTIONS, nms = RETINANET_NMS, coder = RETINANET_BOX_CODER } = options;
  checkDetectionConfig(detections);
  const k = checkImageOutputs(outputs, anchors);
  const boxes: Float32Array[] = [];
  const scores: Float32Array[] = [];
  const labels: Int32Array[] = [];
  let first = 0;
  for (const count of anchors.perLevel) {
    const level = outputs.logits.subarray(first * k, (first + count) * k);
    const kept = topK(scoresAbove(level, detections.scoreThreshold), detections.topkCandidates);
    const rows = Int32Array.from(kept.entries, (e) => first + Math.floor(e / k));
    const decoded = decodeBoxes(gatherRows(outputs.deltas, rows), gatherRows(anchors.boxes, rows), coder);
    boxes.push(clipBoxesToImage(decoded, imageSize));
    scores.push(kept.scores);
    labels.push(Int32Array.from(kept.entries, (e) => e % k));
    first += count;
  }
  const allBoxes = concat(boxes, (n) => new Float32Array(n));
  const allScores = concat(scores, (n) => new Float32Array(n));
  const allLabels = concat(labels, (n) => new Int32Array(n));
  const keep = batchedNms(allBoxes, allScores, allLabels, nms.iouThreshold).subarray(0, detections.detectionsPerImage);
  return {
    boxes: gatherRows(allBoxes, keep),
    scores: Float32Array.from(keep, (i) => allScores[i]),
    labels: Int32Array.from(keep, (i) => allLabels[i]),
  };
}

/**
 * Detections of every image of a batch: `outputs` [B, A, ·], `anchors` (A, the same for every image) and
 * each image's size [height, width] before padding (boxes are clipped to it).
 */
export async function postprocessDetections(
  outputs: RetinaNetOutputs,
  anchors: AnchorSet,
  imageSizes: readonly Size2[],
  options: PostprocessOptions = {},
): Promise<Detections[]> {
  const [b, a, k] = outputsShape(outputs, boxCount(anchors.boxes, 'anchors'));
  if (imageSizes.length !== b)
    throw new Error(`imageSizes must hold one [height, width] per image (${b}): got ${imageSizes.length}`);
  const logits = (await outputs.clsLogits.data()) as Float32Array;
  const deltas = (await outputs.boxRegression.data()) as Float32Array;
  return imageSizes.map((size, i) =>
    detectImage(
      {
        logits: logits.subarray(i * a * k, (i + 1) * a * k),
        deltas: deltas.subarray(i * a * 4, (i + 1) * a * 4),
        numClasses: k,
      },
      anchors,
      size,
      options,
    ),
  );
}
