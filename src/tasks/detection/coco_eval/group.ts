/**
 * Ground truths and detections grouped by cell = (category k, image i), cell index k·I + i, with images
 * and categories in ascending id order (pycocotools' `params.imgIds` / `catIds`). Within a cell, ground
 * truths keep file order; detections are ordered by score, descending, equal scores in file order (a
 * stable sort, as pycocotools' mergesort), and only the first `maxDetections` count.
 */
import type { CocoDetection, CocoInstances } from '../../../data/coco/instances.js';

export interface Grouped {
  imageIds: number[];
  categoryIds: number[];
  /** Ground truths: boxes [N_gt, 4], area (the file's `area`), crowd flag, id. */
  gtBoxes: Float64Array;
  gtAreas: Float64Array;
  gtCrowd: Uint8Array;
  gtIds: Float64Array;
  /** Cell c's ground truths are gtOrder[gtStart[c] .. gtStart[c + 1]). */
  gtStart: Int32Array;
  gtOrder: Int32Array;
  /** Detections: boxes [N_dt, 4], area w·h, score. */
  dtBoxes: Float64Array;
  dtAreas: Float64Array;
  dtScores: Float64Array;
  /** Each detection's cell. */
  dtCell: Int32Array;
  /** Cell c's detections, best first, are dtOrder[dtStart[c] .. dtStart[c] + dtCount[c]). */
  dtStart: Int32Array;
  dtCount: Int32Array;
  dtOrder: Int32Array;
}

/** Groups `gt` and `detections` into cells; an image or category id the ground truth lacks is an error. */
export function groupByCell(gt: CocoInstances, detections: readonly CocoDetection[], maxDetections: number): Grouped {
  const imageIds = gt.images.map((image) => image.id).sort((a, b) => a - b);
  const categoryIds = gt.categories.map((c) => c.id).sort((a, b) => a - b);
  const imageIndex = indexOf(imageIds);
  const categoryIndex = indexOf(categoryIds);
  const numImages = imageIds.length;
  const cellOf = (imageId: number, categoryId: number, what: string) => {
    const i = imageIndex.get(imageId);
    const k = categoryIndex.get(categoryId);
    if (i === undefined) throw new Error(`${what}: image_id ${imageId} names no image of the ground truth`);
    if (k === undefined) throw new Error(`${what}: category_id ${categoryId} names no category of the ground truth`);
    return k * numImages + i;
  };
  const numCells = categoryIds.length * numImages;

  const anns = gt.annotations;
  const gtBoxes = new Float64Array(4 * anns.length);
  const gtAreas = new Float64Array(anns.length);
  const gtCrowd = new Uint8Array(anns.length);
  const gtIds = new Float64Array(anns.length);
  const gtCell = new Int32Array(anns.length);
  for (let n = 0; n < anns.length; n++) {
    const a = anns[n];
    gtBoxes.set(a.bbox, 4 * n);
    gtAreas[n] = a.area;
    gtCrowd[n] = a.iscrowd;
    gtIds[n] = a.id;
    gtCell[n] = cellOf(a.image_id, a.category_id, `annotations[${n}]`);
  }
  const [gtStart, gtOrder] = countingSort(gtCell, numCells);

  const dtBoxes = new Float64Array(4 * detections.length);
  const dtAreas = new Float64Array(detections.length);
  const dtScores = new Float64Array(detections.length);
  const dtCell = new Int32Array(detections.length);
  for (let n = 0; n < detections.length; n++) {
    const d = detections[n];
    const b = d.bbox;
    dtBoxes.set(b, 4 * n);
    dtAreas[n] = b[2] * b[3];
    dtScores[n] = d.score;
    dtCell[n] = cellOf(d.image_id, d.category_id, `detections[${n}]`);
  }
  const [dtStart, dtOrder] = countingSort(dtCell, numCells);
  const dtCount = sortCellsByScore(dtStart, dtOrder, dtScores, maxDetections);
  return {
    imageIds,
    categoryIds,
    gtBoxes,
    gtAreas,
    gtCrowd,
    gtIds,
    gtStart,
    gtOrder,
    dtBoxes,
    dtAreas,
    dtScores,
    dtCell,
    dtStart,
    dtCount,
    dtOrder,
  };
}

function indexOf(ids: number[]): Map<number, number> {
  return new Map(ids.map((id, i) => [id, i]));
}

/** Stable counting sort of items by cell: [start [C + 1], order [N]]. */
function countingSort(cellOfItem: Int32Array, numCells: number): [Int32Array, Int32Array] {
  const start = new Int32Array(numCells + 1);
  for (const c of cellOfItem) start[c + 1]++;
  for (let c = 0; c < numCells; c++) start[c + 1] += start[c];
  const next = start.slice(0, numCells);
  const order = new Int32Array(cellOfItem.length);
  for (let n = 0; n < cellOfItem.length; n++) order[next[cellOfItem[n]]++] = n;
  return [start, order];
}

/** Cells up to this size are sorted by insertion (most cells hold a few detections). */
const INSERTION_SORT_MAX = 16;

/** Sorts each cell's detections by score, descending, ties in file order; returns min(count, maxDetections) per cell. */
function sortCellsByScore(
  start: Int32Array,
  order: Int32Array,
  scores: Float64Array,
  maxDetections: number,
): Int32Array {
  const numCells = start.length - 1;
  const count = new Int32Array(numCells);
  const byScore = (a: number, b: number) => scores[b] - scores[a] || a - b;
  for (let c = 0; c < numCells; c++) {
    const from = start[c];
    const to = start[c + 1];
    if (to - from > INSERTION_SORT_MAX) order.subarray(from, to).sort(byScore);
    else insertionSortByScore(order, from, to, scores);
    count[c] = Math.min(to - from, maxDetections);
  }
  return count;
}

/** Stable: an item moves before another only for a strictly higher score (items start in file order). */
function insertionSortByScore(order: Int32Array, from: number, to: number, scores: Float64Array): void {
  for (let i = from + 1; i < to; i++) {
    const item = order[i];
    const score = scores[item];
    let j = i - 1;
    while (j >= from && scores[order[j]] < score) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = item;
  }
}
