/**
 * Greedy non-maximum suppression (torchvision 0.14 `nms`, `batched_nms`): visit boxes by score, descending
 * (equal scores in index order, as torchvision's stable sort); keep a box unless a kept box has
 * IoU > iouThreshold with it. IoU is float32 as in torchvision's CPU kernel, compared with the threshold in
 * double. Boxes xyxy [N, 4], scores [N]; the result holds kept indices, by descending score.
 */
import { boxCount, overlap } from './boxes.js';

const f32 = Math.fround;

function checkScores(scores: ArrayLike<number>, n: number): void {
  if (scores.length !== n) throw new Error(`scores must be [N] for boxes [${n}, 4]: got length ${scores.length}`);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i])) throw new Error(`score ${i} is NaN`);
  }
}

function checkThreshold(iouThreshold: number): void {
  if (!(iouThreshold >= 0)) throw new Error(`NMS iouThreshold must be ≥ 0: got ${iouThreshold}`);
}

/** Indices 0..N-1 by descending score, ties by index. */
function scoreOrder(scores: ArrayLike<number>, n: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  return order.sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * Greedy suppression among `members` (indices in visiting order); sets kept[i] = 1 for those kept.
 * The members' boxes and areas are gathered first, so the inner loop reads contiguous memory.
 */
function suppress(boxes: Float32Array, members: ArrayLike<number>, iouThreshold: number, kept: Uint8Array): void {
  const k = members.length;
  const local = new Float32Array(k * 4);
  const areas = new Float32Array(k);
  for (let i = 0; i < k; i++) {
    for (let c = 0; c < 4; c++) local[i * 4 + c] = boxes[members[i] * 4 + c];
    areas[i] = f32(local[i * 4 + 2] - local[i * 4]) * f32(local[i * 4 + 3] - local[i * 4 + 1]);
  }
  const suppressed = new Uint8Array(k);
  for (let i = 0; i < k; i++) {
    if (suppressed[i]) continue;
    kept[members[i]] = 1;
    const x1 = local[i * 4];
    const y1 = local[i * 4 + 1];
    const x2 = local[i * 4 + 2];
    const y2 = local[i * 4 + 3];
    const area = areas[i];
    for (let j = i + 1; j < k; j++) {
      if (suppressed[j]) continue;
      const o = j * 4;
      // Without overlap the IoU is 0 (or NaN), never above the threshold (≥ 0): no division needed.
      const w = overlap(x1, x2, local[o], local[o + 2]);
      if (!(w > 0)) continue;
      const h = overlap(y1, y2, local[o + 1], local[o + 3]);
      if (!(h > 0)) continue;
      const inter = f32(w * h);
      if (f32(inter / f32(f32(area + areas[j]) - inter)) > iouThreshold) suppressed[j] = 1;
    }
  }
}

/** Kept indices of `boxes` [N, 4] with `scores` [N], by descending score. */
export function nms(boxes: Float32Array, scores: ArrayLike<number>, iouThreshold: number): Int32Array {
  const n = boxCount(boxes);
  checkScores(scores, n);
  checkThreshold(iouThreshold);
  const order = scoreOrder(scores, n);
  const kept = new Uint8Array(n);
  suppress(boxes, order, iouThreshold, kept);
  return order.filter((i) => kept[i] === 1);
}

/**
 * NMS within each class: a box is suppressed only by kept boxes of its own class (`classes` [N], integers).
 * Kept indices by descending score over all classes.
 */
export function batchedNms(
  boxes: Float32Array,
  scores: ArrayLike<number>,
  classes: ArrayLike<number>,
  iouThreshold: number,
): Int32Array {
  const n = boxCount(boxes);
  checkScores(scores, n);
  checkThreshold(iouThreshold);
  if (classes.length !== n) throw new Error(`classes must be [N] for boxes [${n}, 4]: got length ${classes.length}`);
  const order = scoreOrder(scores, n);
  const members = new Map<number, number[]>();
  for (const i of order) {
    const c = classes[i];
    if (!Number.isInteger(c)) throw new Error(`class ${i} must be an integer: got ${c}`);
    const list = members.get(c);
    if (list) list.push(i);
    else members.set(c, [i]);
  }
  const kept = new Uint8Array(n);
  for (const list of members.values()) suppress(boxes, list, iouThreshold, kept);
  return order.filter((i) => kept[i] === 1);
}
