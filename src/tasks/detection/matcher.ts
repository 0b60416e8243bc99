/**
 * Anchor matching on IoU (torchvision 0.14 `Matcher`, as RetinaNet uses it). For each anchor n, its best
 * ground-truth box g(n) = argmax_m q[m, n] (first on ties; a NaN wins, as torch's max) with quality
 * v(n) = q[g(n), n]:
 *   v ≥ high → g(n);  low ≤ v < high → BETWEEN_THRESHOLDS (-2, ignored);  v < low → BELOW_LOW_THRESHOLD (-1).
 * With low-quality matches allowed, every ground-truth box m then gives each anchor n with q[m, n] equal to
 * max_n' q[m, n'] (ties included) back its g(n) — note g(n), not m, as torchvision does; a ground-truth
 * box that overlaps no anchor (row maximum 0) so hands every anchor back its g(n).
 * Thresholds compare in float32 like torch's comparisons of a float32 tensor with a Python float.
 * The quality matrix is read one ground-truth row at a time, so IoU never needs the whole [M, N].
 */
import { boxAreas, boxCount, iouRow } from './boxes.js';
import { type MatcherConfig, RETINANET_MATCHER } from './config.js';

/** Match value of an anchor whose best IoU is below the low threshold (background). */
export const BELOW_LOW_THRESHOLD = -1;
/** Match value of an anchor whose best IoU is between the thresholds (ignored by the losses). */
export const BETWEEN_THRESHOLDS = -2;

function checkMatcher(config: MatcherConfig): void {
  const { lowThreshold: low, highThreshold: high } = config;
  if (!(low <= high)) throw new Error(`matcher lowThreshold (${low}) must be ≤ highThreshold (${high})`);
}

/** max of a row, NaN if it holds one (torch's max). */
function rowMax(row: Float32Array): number {
  let best = row[0];
  for (let j = 1; j < row.length && !Number.isNaN(best); j++) {
    if (row[j] > best || Number.isNaN(row[j])) best = row[j];
  }
  return best;
}

/** Where row g's quality beats the best so far (or is the first NaN), it becomes the best and g the index. */
function keepBest(row: Float32Array, g: number, best: Float32Array, index: Int32Array): void {
  for (let j = 0; j < row.length; j++) {
    const v = row[j];
    if (v > best[j] || (Number.isNaN(v) && !Number.isNaN(best[j]))) {
      best[j] = v;
      index[j] = g;
    }
  }
}

/** The matcher over M rows of N qualities; `rowOf(m)` gives row m (it may reuse one buffer). */
function matchRows(m: number, n: number, rowOf: (g: number) => Float32Array, config: MatcherConfig): Int32Array {
  const index = new Int32Array(n);
  const best = new Float32Array(n);
  const lowQuality: number[] = [];
  for (let g = 0; g < m; g++) {
    const row = rowOf(g);
    if (g === 0) best.set(row);
    else keepBest(row, g, best, index);
    if (!config.allowLowQualityMatches) continue;
    const highest = rowMax(row);
    for (let j = 0; j < n; j++) if (row[j] === highest) lowQuality.push(j);
  }
  const matches = index.slice();
  const low = Math.fround(config.lowThreshold);
  const high = Math.fround(config.highThreshold);
  for (let j = 0; j < n; j++) {
    if (best[j] < low) matches[j] = BELOW_LOW_THRESHOLD;
    else if (best[j] < high) matches[j] = BETWEEN_THRESHOLDS;
  }
  for (const j of lowQuality) matches[j] = index[j];
  return matches;
}

/**
 * Matches [N] (Int32Array: ground-truth index, BETWEEN_THRESHOLDS or BELOW_LOW_THRESHOLD) from a quality
 * matrix q [M, N] (row-major; M ground-truth boxes, N anchors), M, N ≥ 1.
 */
export function matchQuality(
  quality: Float32Array,
  numBoxes: number,
  numAnchors: number,
  config: MatcherConfig = RETINANET_MATCHER,
): Int32Array {
  checkMatcher(config);
  if (!(Number.isInteger(numBoxes) && numBoxes >= 1 && Number.isInteger(numAnchors) && numAnchors >= 1)) {
    throw new Error(`match quality needs at least one box and one anchor: got [${numBoxes}, ${numAnchors}]`);
  }
  if (quality.length !== numBoxes * numAnchors) {
    throw new Error(`match quality must be [${numBoxes}, ${numAnchors}]: got length ${quality.length}`);
  }
  const rowOf = (g: number) => quality.subarray(g * numAnchors, (g + 1) * numAnchors);
  return matchRows(numBoxes, numAnchors, rowOf, config);
}

/**
 * RetinaNet's training match of `anchors` [N, 4] to ground-truth `boxes` [M, 4] (xyxy): the matcher on
 * IoU [M, N] (computed a row at a time); with no ground-truth box, every anchor is background (-1). Like
 * RetinaNet, refuses a ground-truth box without positive width and height.
 */
export function matchAnchors(
  boxes: Float32Array,
  anchors: Float32Array,
  config: MatcherConfig = RETINANET_MATCHER,
): Int32Array {
  checkMatcher(config);
  const m = boxCount(boxes, 'ground-truth boxes');
  const n = boxCount(anchors, 'anchors');
  if (n === 0) throw new Error('anchors must hold at least one box');
  for (let g = 0; g < m; g++) {
    const b = g * 4;
    if (!(boxes[b + 2] > boxes[b] && boxes[b + 3] > boxes[b + 1])) {
      const box = Array.from(boxes.subarray(b, b + 4));
      throw new Error(`ground-truth box ${g} [${box}] must have positive width and height (x1 < x2, y1 < y2)`);
    }
  }
  if (m === 0) return new Int32Array(n).fill(BELOW_LOW_THRESHOLD);
  const areas = boxAreas(boxes);
  const anchorAreas = boxAreas(anchors, 'anchors');
  const row = new Float32Array(n);
  return matchRows(
    m,
    n,
    (g) => {
      iouRow(boxes, g, areas[g], anchors, anchorAreas, row);
      return row;
    },
    config,
  );
}
