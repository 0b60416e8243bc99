/**
 * Precision and recall per (IoU threshold, category, area range, maxDets), as pycocotools' `accumulate`:
 * a category's detections from all images, ordered by score (descending; ties in image order, then the
 * image's own order), are walked once per (a, t, m); precision is made monotone from the right and read
 * at the recall thresholds (101-point interpolation); −1 marks a category with no counted ground truth.
 *
 * Only true positives move recall, and between two of them precision only falls, so the interpolated
 * precision at a recall threshold is the running maximum over the true positives from the first one
 * whose recall reaches it: pycocotools' value, from one division per true positive.
 */
import type { Grouped } from './group.js';
import { FALSE_POSITIVE, type Matches, TRUE_POSITIVE } from './match.js';
import type { CocoEvalParams } from './params.js';

/** numpy's `np.spacing(1)`, added to precision's denominator as pycocotools does. */
const SPACING_1 = Number.EPSILON;

/**
 * pycocotools' `accumulate` result (flat, row-major): precision [T, R, K, A, M] and recall [T, K, A, M]
 * over IoU thresholds T, recall thresholds R, categories K, area ranges A and maxDets M.
 */
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
    const curves = new Curves(T, ranked.positions.length);
    for (let a = 0; a < A; a++) {
      let counted = 0;
      for (let i = 0; i < numImages; i++) counted += matches.gtCounts[a * numCells + k * numImages + i];
      if (counted === 0) continue;
      for (let m = 0; m < M; m++) {
        curves.walk(ranked, matches.outcomes, a, A, params.maxDetections[m]);
        for (let t = 0; t < T; t++) {
          recall[((t * K + k) * A + a) * M + m] = curves.nd ? curves.tp[t] / counted : 0;
          const at = ((t * R * K + k) * A + a) * M + m;
          curves.samplePrecision(t, counted, params.recallThresholds, precision, at, K * A * M);
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
  const gathered = new Int32Array(total);
  let n = 0;
  for (let i = 0; i < numImages; i++) {
    const cell = k * numImages + i;
    for (let r = 0; r < g.dtCount[cell]; r++) gathered[n++] = g.dtStart[cell] + r;
  }
  const scores = new Float64Array(total);
  for (let j = 0; j < total; j++) scores[j] = g.dtScores[g.dtOrder[gathered[j]]];
  const order = Int32Array.from(gathered.keys());
  order.sort((i, j) => scores[j] - scores[i] || i - j);
  const positions = new Int32Array(total);
  const ranks = new Int32Array(total);
  for (let j = 0; j < total; j++) {
    const p = gathered[order[j]];
    positions[j] = p;
    ranks[j] = p - g.dtStart[g.dtCell[g.dtOrder[p]]];
  }
  return { positions, ranks };
}

/** Per IoU threshold: true and false positives down the ranked detections, precision at each true positive. */
class Curves {
  /** Detections walked (rank in image below maxDet), the same for every threshold. */
  nd = 0;
  readonly tp: Int32Array;
  readonly fp: Int32Array;
  /** [T, n + 1]: row t, entry k = precision k / (k + fp + ε) at threshold t's k-th true positive (1-based). */
  readonly tpPrecision: Float64Array;

  constructor(
    private readonly T: number,
    private readonly n: number,
  ) {
    this.tp = new Int32Array(T);
    this.fp = new Int32Array(T);
    this.tpPrecision = new Float64Array(T * (n + 1));
  }

  /** One pass over the ranked detections for area range a, all thresholds at once (outcomes [N_dt, A, T]). */
  walk(ranked: Ranked, outcomes: Uint8Array, a: number, A: number, maxDet: number): void {
    const { T, n, tp, fp, tpPrecision } = this;
    tp.fill(0);
    fp.fill(0);
    let nd = 0;
    for (let j = 0; j < n; j++) {
      if (ranked.ranks[j] >= maxDet) continue;
      nd++;
      const base = (ranked.positions[j] * A + a) * T;
      for (let t = 0; t < T; t++) {
        const o = outcomes[base + t];
        if (o === TRUE_POSITIVE) {
          const k = ++tp[t];
          tpPrecision[t * (n + 1) + k] = k / (fp[t] + k + SPACING_1);
        } else if (o === FALSE_POSITIVE) fp[t]++;
      }
    }
    this.nd = nd;
  }

  /**
   * Interpolated precision at each recall threshold r (written to precision[at + r·stride]): the maximum
   * precision at or after the first true positive k with recall k / counted ≥ r; 0 if none reaches it.
   */
  samplePrecision(
    t: number,
    counted: number,
    recallThresholds: readonly number[],
    precision: Float64Array,
    at: number,
    stride: number,
  ): void {
    const row = t * (this.n + 1);
    const tp = this.tp[t];
    const p = this.tpPrecision;
    for (let k = tp - 1; k > 0; k--) if (p[row + k + 1] > p[row + k]) p[row + k] = p[row + k + 1];
    let k = 1;
    for (let r = 0; r < recallThresholds.length; r++) {
      while (k <= tp && k / counted < recallThresholds[r]) k++;
      precision[at + r * stride] = k <= tp ? p[row + k] : 0;
    }
  }
}
