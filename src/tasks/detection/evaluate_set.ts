/**
 * A RetinaNet run over a split: its images in order, batched and padded as in training (no augmentation),
 * detections mapped back to each original image as a COCO results list, and the COCO evaluation of them
 * against the split's ground truth (coco_eval/; each box's area is its width × height, crowd regions
 * already left out by the data layer).
 */

import type { CocoDetection, CocoInstances } from '../../data/coco/instances.js';
import type { DetectionSet } from '../../data/detection/annotations.js';
import { type DetectionBatch, type DetectionSkip, detectionBatches } from '../../data/detection/batches.js';
import * as tf from '../../tf.js';
import type { Size2 } from './boxes.js';
import { type CocoEvaluation, cocoEvaluate } from './coco_eval/evaluate.js';
import { toCocoDetections } from './coco_results.js';
import type { RetinaNet } from './retinanet.js';

export interface EvaluateSetOptions {
  batchSize: number;
  /** Longer side after resizing (a multiple of 128). */
  size: number;
  /** Called with each image or annotation the data layer leaves out. */
  onSkip?: (skip: DetectionSkip) => void;
}

export interface SetEvaluation {
  results: CocoDetection[];
  /** null when the split has no ground truth box to evaluate against. */
  evaluation: CocoEvaluation | null;
  skipped: DetectionSkip[];
}

/** Images [B, H, W, 3] of a batch and each image's [height, width] before padding. */
export function batchImages(b: DetectionBatch): { images: tf.Tensor4D; sizes: Size2[] } {
  const sizes = Array.from({ length: b.size }, (_, i) => [b.imageSizes[i * 2], b.imageSizes[i * 2 + 1]] as const);
  return { images: tf.tensor4d(b.x, [b.size, b.height, b.width, 3]), sizes };
}

/** A split's ground truth as COCO instances: boxes xyxy → bbox xywh, area w × h, class i → category ids[i]. */
export function setInstances(set: DetectionSet): CocoInstances {
  const { ids, names } = set.categories;
  const annotations: CocoInstances['annotations'] = [];
  for (const image of set.images) {
    image.labels.forEach((label, j) => {
      const [x1, y1, x2, y2] = image.boxes.subarray(j * 4, j * 4 + 4);
      annotations.push({
        id: annotations.length + 1,
        image_id: image.id,
        category_id: ids[label],
        bbox: [x1, y1, x2 - x1, y2 - y1],
        area: (x2 - x1) * (y2 - y1),
        iscrowd: 0,
      });
    });
  }
  return {
    images: set.images.map((i) => ({ id: i.id, width: i.width, height: i.height, file_name: i.path })),
    annotations,
    categories: ids.map((id, i) => ({ id, name: names[i] })),
  };
}

/** Detections of every image of `set` as COCO results. */
export async function detectSet(
  net: RetinaNet,
  set: DetectionSet,
  options: EvaluateSetOptions,
): Promise<{ results: CocoDetection[]; skipped: DetectionSkip[] }> {
  const results: CocoDetection[] = [];
  const skipped: DetectionSkip[] = [];
  const batches = detectionBatches(set, {
    batchSize: options.batchSize,
    shorterSide: options.size,
    maxSize: options.size,
    augment: false,
  });
  for await (const b of batches) {
    for (const s of b.skipped) options.onSkip?.(s);
    skipped.push(...b.skipped);
    if (b.size === 0) continue;
    const { images, sizes } = batchImages(b);
    try {
      const detections = await net.detect(images, sizes);
      results.push(...toCocoDetections(detections, b, set.categories.ids));
    } finally {
      images.dispose();
    }
  }
  return { results, skipped };
}

/** The detections of `set` and their COCO evaluation. */
export async function evaluateSet(
  net: RetinaNet,
  set: DetectionSet,
  options: EvaluateSetOptions,
): Promise<SetEvaluation> {
  const { results, skipped } = await detectSet(net, set, options);
  const gt = setInstances(set);
  const evaluation = gt.annotations.length > 0 ? cocoEvaluate(gt, results) : null;
  return { results, evaluation, skipped };
}
