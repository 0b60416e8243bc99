/**
 * Per-cell matching (pycocotools' `evaluateImg`), for every area range and IoU threshold at once: the
 * cell's IoU matrix is computed once and reused A·T times.
 */
import type { Grouped } from './group.js';
import { boxIous } from './iou.js';
import type { CocoEvalParams } from './params.js';

/** A detection's outcome at one (area range, IoU threshold). */
export const FALSE_POSITIVE = 0;
export const TRUE_POSITIVE = 1;
/** Matched to an ignored ground truth (crowd or outside the area range), or unmatched and itself outside it. */
export const IGNORED = 2;

export interface Matches {
  /** [N_dt, A, T]: the outcome of the detection at dtOrder position p, at area range a and threshold t. */
  outcomes: Uint8Array;
  /** [A, cells]: ground truths that count (not crowd, area in range) per cell. */
  gtCounts: Int32Array;
}

/** Highest IoU threshold used, as pycocotools: min(t, 1 − 1e-10). */
const MAX_IOU_THRESHOLD = 1 - 1e-10;

export function matchAllCells(g: Grouped, params: CocoEvalParams): Matches {
  const numAreas = params.areaRanges.length;
  const numCells = g.gtStart.length - 1;
  const numDt = g.dtOrder.length;
  const outcomes = new Uint8Array(numAreas * params.iouThresholds.length * numDt);
  const gtCounts = new Int32Array(numAreas * numCells);
  const scratch = new CellScratch();
  for (let c = 0; c < numCells; c++) {
    const numGt = g.gtStart[c + 1] - g.gtStart[c];
    if (numGt === 0 && g.dtCount[c] === 0) continue;
    matchCell(g, params, c, scratch, outcomes, gtCounts);
  }
  return { outcomes, gtCounts };
}

/** Reusable per-cell buffers, grown on demand. */
class CellScratch {
  ious = new Float64Array(256);
  gtIgnored = new Uint8Array(16);
  gtRank = new Int32Array(16);
  gtTaken = new Uint8Array(16);

  fit(numDt: number, numGt: number): void {
    if (this.ious.length < numDt * numGt) this.ious = new Float64Array(2 * numDt * numGt);
    if (this.gtIgnored.length < numGt) {
      this.gtIgnored = new Uint8Array(2 * numGt);
      this.gtRank = new Int32Array(2 * numGt);
      this.gtTaken = new Uint8Array(2 * numGt);
    }
  }
}

function matchCell(
  g: Grouped,
  params: CocoEvalParams,
  cell: number,
  s: CellScratch,
  outcomes: Uint8Array,
  gtCounts: Int32Array,
): void {
  const gtFrom = g.gtStart[cell];
  const numGt = g.gtStart[cell + 1] - gtFrom;
  const dtFrom = g.dtStart[cell];
  const numDt = g.dtCount[cell];
  const numCells = g.gtStart.length - 1;
  const T = params.iouThresholds.length;
  const A = params.areaRanges.length;
  if (numGt === 0 || numDt === 0) {
    unmatchedCell(g, params, cell, outcomes, gtCounts);
    return;
  }
  s.fit(numDt, numGt);
  boxIous(g.dtBoxes, g.dtOrder, dtFrom, numDt, g.gtBoxes, g.gtOrder, gtFrom, numGt, g.gtCrowd, s.ious);
  for (let a = 0; a < A; a++) {
    const { min, max } = params.areaRanges[a];
    gtCounts[a * numCells + cell] = rankGroundTruths(g, gtFrom, numGt, min, max, s);
    for (let t = 0; t < T; t++) {
      const threshold = Math.min(params.iouThresholds[t], MAX_IOU_THRESHOLD);
      s.gtTaken.fill(0, 0, numGt);
      for (let d = 0; d < numDt; d++) {
        const m = bestMatch(s, g, gtFrom, numGt, d, threshold);
        const dtArea = g.dtAreas[g.dtOrder[dtFrom + d]];
        const outside = dtArea < min || dtArea > max;
        let outcome = outside ? IGNORED : FALSE_POSITIVE;
        if (m >= 0) {
          s.gtTaken[m] = 1;
          // pycocotools records the match by the ground truth's id, so a match to id 0 reads as none.
          if (s.gtIgnored[m]) outcome = IGNORED;
          else if (g.gtIds[g.gtOrder[gtFrom + m]] !== 0) outcome = TRUE_POSITIVE;
        }
        outcomes[((dtFrom + d) * A + a) * T + t] = outcome;
      }
    }
  }
}

/**
 * A cell without ground truths or without detections: nothing to match. Its detections are false
 * positives, or ignored when their area is outside the range; its ground truths only count.
 */
function unmatchedCell(
  g: Grouped,
  params: CocoEvalParams,
  cell: number,
  outcomes: Uint8Array,
  gtCounts: Int32Array,
): void {
  const numCells = g.gtStart.length - 1;
  const T = params.iouThresholds.length;
  const A = params.areaRanges.length;
  const dtFrom = g.dtStart[cell];
  const numDt = g.dtCount[cell];
  for (let a = 0; a < A; a++) {
    const { min, max } = params.areaRanges[a];
    let counted = 0;
    for (let j = g.gtStart[cell]; j < g.gtStart[cell + 1]; j++) {
      const n = g.gtOrder[j];
      if (g.gtCrowd[n] === 0 && g.gtAreas[n] >= min && g.gtAreas[n] <= max) counted++;
    }
    gtCounts[a * numCells + cell] = counted;
    for (let d = 0; d < numDt; d++) {
      const dtArea = g.dtAreas[g.dtOrder[dtFrom + d]];
      const outcome = dtArea < min || dtArea > max ? IGNORED : FALSE_POSITIVE;
      for (let t = 0; t < T; t++) outcomes[((dtFrom + d) * A + a) * T + t] = outcome;
    }
  }
}

/**
 * Marks the cell's ground truths ignored (crowd, or area outside [min, max]) and ranks them: counted
 * ones first, each group in file order (pycocotools' stable sort on the ignore flag). Returns the count.
 */
function rankGroundTruths(g: Grouped, gtFrom: number, numGt: number, min: number, max: number, s: CellScratch): number {
  let counted = 0;
  for (let j = 0; j < numGt; j++) {
    const n = g.gtOrder[gtFrom + j];
    const area = g.gtAreas[n];
    const ignored = g.gtCrowd[n] === 1 || area < min || area > max;
    s.gtIgnored[j] = ignored ? 1 : 0;
    if (!ignored) s.gtRank[counted++] = j;
  }
  let r = counted;
  for (let j = 0; j < numGt; j++) if (s.gtIgnored[j]) s.gtRank[r++] = j;
  return counted;
}

/**
 * The ground truth (cell position) detection d matches, or −1: the highest IoU ≥ threshold among those
 * not yet taken (crowds can be taken again), trying counted ones first and stopping at the ignored ones
 * once a counted match is found; on equal IoUs the later one in rank order wins (pycocotools' `<`).
 */
function bestMatch(s: CellScratch, g: Grouped, gtFrom: number, numGt: number, d: number, threshold: number): number {
  let best = threshold;
  let m = -1;
  const row = d * numGt;
  for (let r = 0; r < numGt; r++) {
    const j = s.gtRank[r];
    if (s.gtTaken[j] && g.gtCrowd[g.gtOrder[gtFrom + j]] !== 1) continue;
    if (m > -1 && !s.gtIgnored[m] && s.gtIgnored[j]) break;
    const iou = s.ious[row + j];
    if (iou < best) continue;
    best = iou;
    m = j;
  }
  return m;
}
