/**
 * The per-annotation rules of a ground-truth instances file, each with its one message wording: an
 * annotation is bad when its image_id or category_id names nothing in the file, its bbox is not four finite
 * numbers with width and height > 0, the box does not overlap its image or reaches more than
 * GT_BOX_TOLERANCE_PX beyond it, or its `area` (a finite number ≥ 0) or `iscrowd` (0 or 1) is missing or
 * invalid. readCocoInstances throws or collects these (its `badAnnotations` option); the detections reader
 * words the checks it shares the same way.
 */
import { boxProblem, type JsonObject, numberProblem, show } from './fields.js';
import type { CocoBox, CocoImage } from './instances.js';

/**
 * How far (pixels) a ground-truth box may reach beyond its image on any side: real COCO boxes exceed
 * their image by a fraction of a pixel. Training targets are clipped to the image.
 */
export const GT_BOX_TOLERANCE_PX = 1;

/** The field a bad annotation fails on, and why (the message without the entry's name). */
export interface AnnotationProblem {
  field: 'image_id' | 'category_id' | 'bbox' | 'area' | 'iscrowd';
  reason: string;
}

/** `source` names where the ids live: 'this file' or 'the ground truth'. */
export function unknownImage(id: number, source: string): string {
  return `'image_id' ${id} names no image of ${source}`;
}

export function unknownCategory(id: number, source: string): string {
  return `'category_id' ${id} names no category of ${source}`;
}

/** Why a valid `box` cannot be on `image`: no overlap with it; undefined when it overlaps. */
export function outsideImage(box: CocoBox, image: CocoImage): string | undefined {
  const [x, y, w, h] = box;
  if (x < image.width && y < image.height && x + w > 0 && y + h > 0) return undefined;
  return `'bbox' ${show(box)} lies entirely outside image ${image.id} (${image.width}×${image.height})`;
}

/** Why a valid `box` is not a ground truth of `image`: outside it, or beyond it by more than the tolerance. */
function beyondImage(box: CocoBox, image: CocoImage): string | undefined {
  const t = GT_BOX_TOLERANCE_PX;
  const [x, y, w, h] = box;
  if (x >= -t && y >= -t && x + w <= image.width + t && y + h <= image.height + t) return outsideImage(box, image);
  return `'bbox' ${show(box)} reaches beyond image ${image.id} (${image.width}×${image.height}) by more than ${t} px`;
}

/**
 * The first problem of annotation `ann` (its id, image_id and category_id already integer ids), or
 * undefined for a good one. `image` is the image its image_id names, if any.
 */
export function annotationProblem(
  ann: JsonObject,
  image: CocoImage | undefined,
  categoryIds: ReadonlySet<number>,
): AnnotationProblem | undefined {
  if (!image) return { field: 'image_id', reason: unknownImage(ann.image_id as number, 'this file') };
  const categoryId = ann.category_id as number;
  if (!categoryIds.has(categoryId)) return { field: 'category_id', reason: unknownCategory(categoryId, 'this file') };
  const box = boxProblem(ann.bbox) ?? beyondImage(ann.bbox as CocoBox, image);
  if (box) return { field: 'bbox', reason: box };
  if (ann.area === undefined) {
    return { field: 'area', reason: `'area' is missing (the evaluation's small/medium/large ranges read it)` };
  }
  const area = numberProblem(ann.area, 'area', 'non-negative');
  if (area) return { field: 'area', reason: area };
  if (ann.iscrowd !== 0 && ann.iscrowd !== 1) {
    return { field: 'iscrowd', reason: `'iscrowd' must be 0 or 1, got ${show(ann.iscrowd)}` };
  }
  return undefined;
}
