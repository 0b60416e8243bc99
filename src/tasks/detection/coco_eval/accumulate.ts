/**
 * Precision and recall per (IoU threshold, category, area range, maxDets), as pycocotools' `accumulate`:
 * a category's detections from all images, ordered by score (descending; ties in image order, then the
 * image's own order), are walked once per (a, m, t); precision is made monotone from the right and read
 * at the recall thresholds (101-point interpolation); −1 marks a category with no counted ground truth.
 */
import type { Grouped } from './group.js';
import { FALSE_POSITIVE, type Matches, TRUE_POSITIVE } from './match.js';
import type { CocoEvalParams } from './params.js';

/** numpy's `np.spacing(1)`, added to precision's denominator as pycocotools does. */
const SPACING_1 = Number.EPSILON;

export interface Accumulated {
  /** [T, R, K, A, M], row-major, as pycocotools' `eval['precision']`; −1 where undefined. */
  precision: Float64Array;
  /** [T, K, A, M], as `eval['recall']`; −1 where undefined. */
  recall: Float64Array;
  /** The sizes T, R, K, A, M. */
  shape: [number, number, number, number, number];
}

export function accumulate(g: Grouped, matches: Matches, params: CocoEvalParams): Accumulated {
  const T = params.iouThresholds.length;
  const R = params.recallThresholds.length;
  const K = g.categoryIds.length;
  const A = params.areaRanges.length;
  const M = params.maxDetections.length;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const numImages = g.imageIds.length;
  const numCells = K * numImages;
  for (let k = 0; k < K; k++) {
    const ranked = rankCategory(g, k);
    const rc = new Float64Array(ranked.positions.length);
    const pr = new Float64Array(ranked.positions.length);
    for (let a = 0; a < A; a++) {
      let counted = 0;
      for (let i = 0; i < numImages; i++) counted += matches.gtCounts[a * numCells + k * numImages + i];
      if (counted === 0) continue;
      for (let m = 0; m < M; m++) {
        for (let t = 0; t < T; t++) {
          const outcomes = matches.outcomes.subarray((a * T + t) * g.dtOrder.length);
          const nd = curve(ranked, outcomes, params.maxDetections[m], counted, rc, pr);
          recall[((t * K + k) * A + a) * M + m] = nd ? rc[nd - 1] : 0;
          const at = (r: number) => (((t * R + r) * K + k) * A + a) * M + m;
          samplePrecision(rc, pr, nd, params.recallThresholds, (r, value) => {
            precision[at(r)] = value;
          });
        }
      }
    }
  }
  return { precision, recall, shape: [T, R, K, A, M] };
}

/** A category's kept detections (dtOrder positions) in accumulate order, with each one's rank in its image. */
interface Ranked {
  positions: Int32Array;
  ranks: Int32Array;
}

function rankCategory(g: Grouped, k: number): Ranked {
  const numImages = g.imageIds.length;
  let total = 0;
  for (let i = 0; i < numImages; i++) total += g.dtCount[k * numImages + i];
  const positions = new Int32Array(total);
  let n = 0;
  for (let i = 0; i < numImages; i++) {
    const cell = k * numImages + i;
    for (let r = 0; r < g.dtCount[cell]; r++) positions[n++] = g.dtStart[cell] + r;
  }
  const score = (p: number) => g.dtScores[g.dtOrder[p]];
  positions.sort((p, q) => score(q) - score(p) || p - q);
  const ranks = new Int32Array(total);
  for (let j = 0; j < total; j++) ranks[j] = positions[j] - g.dtStart[g.dtCell[g.dtOrder[positions[j]]]];
  return { positions, ranks };
}

/**
 * Cumulative recall tp/N and precision tp/(tp + fp + ε) down the ranked detections whose image rank is
 * below maxDet; ignored detections keep their place with unchanged counts. Returns their number nd.
 */
function curve(
  ranked: Ranked,
  outcomes: Uint8Array,
  maxDet: number,
  counted: number,
  rc: Float64Array,
  pr: Float64Array,
): number {
  let tp = 0;
  let fp = 0;
  let nd = 0;
  for (let j = 0; j < ranked.positions.length; j++) {
    if (ranked.ranks[j] >= maxDet) continue;
    const o = outcomes[ranked.positions[j]];
    if (o === TRUE_POSITIVE) tp++;
    else if (o === FALSE_POSITIVE) fp++;
    rc[nd] = tp / counted;
    pr[nd] = tp / (fp + tp + SPACING_1);
    nd++;
  }
  return nd;
}

/**
 * Interpolated precision at each recall threshold: the highest precision at any recall ≥ it, read at
 * the first detection whose recall reaches it; 0 past the last reached recall. Overwrites `pr`.
 */
function samplePrecision(
  rc: Float64Array,
  pr: Float64Array,
  nd: number,
  recallThresholds: readonly number[],
  write: (r: number, value: number) => void,
): void {
  for (let i = nd - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
  let at = 0;
  for (let r = 0; r < recallThresholds.length; r++) {
    while (at < nd && rc[at] < recallThresholds[r]) at++;
    write(r, at < nd ? pr[at] : 0);
  }
}
