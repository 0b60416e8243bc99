/**
 * Detections → a COCO results list: each box moved from the batch's pixels back to its original image
 * (divided by the image's scale, as torchvision's `transform.postprocess` multiplies by original / resized)
 * and written xywh, each class index mapped to its category id.
 */
import type { CocoDetection } from '../../data/coco/instances.js';
import type { Detections } from './postprocess.js';

/** Where each image of a batch came from: its COCO id and its resize factors [B * 2] (scaleX, scaleY). */
export interface BatchImages {
  imageIds: readonly number[];
  scales: Float32Array;
}

/**
 * COCO detections of `detections` (one per image of `images`, not flipped): box (x1, y1, x2, y2) →
 * [x1 / sx, y1 / sy, (x2 - x1) / sx, (y2 - y1) / sy], category `categoryIds[label]`.
 */
export function toCocoDetections(
  detections: readonly Detections[],
  images: BatchImages,
  categoryIds: readonly number[],
): CocoDetection[] {
  const { imageIds, scales } = images;
  if (imageIds.length !== detections.length || scales.length !== detections.length * 2) {
    throw new Error(
      `detections of ${detections.length} images need as many imageIds (got ${imageIds.length}) and scales [${detections.length * 2}] (got ${scales.length})`,
    );
  }
  const results: CocoDetection[] = [];
  detections.forEach(({ boxes, scores, labels }, i) => {
    const sx = scales[i * 2];
    const sy = scales[i * 2 + 1];
    if (!(sx > 0 && sy > 0)) throw new Error(`scale of image ${imageIds[i]} must be positive: got (${sx}, ${sy})`);
    if (boxes.length !== scores.length * 4 || labels.length !== scores.length) {
      throw new Error(`detections of image ${imageIds[i]}: boxes, scores and labels must agree in count`);
    }
    labels.forEach((label, d) => {
      const categoryId = categoryIds[label];
      if (categoryId === undefined) {
        throw new Error(
          `detection ${d} of image ${imageIds[i]}: label ${label} has no category id (${categoryIds.length} known)`,
        );
      }
      const [x1, y1, x2, y2] = boxes.subarray(d * 4, d * 4 + 4);
      results.push({
        image_id: imageIds[i],
        category_id: categoryId,
        bbox: [x1 / sx, y1 / sy, (x2 - x1) / sx, (y2 - y1) / sy],
        score: scores[d],
      });
    });
  });
  return results;
}
