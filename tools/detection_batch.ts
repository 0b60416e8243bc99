/**
 * What the detection tools start from: a seeded detector (RetinaNet wrapper) and the first batch of the
 * shapes training split (seed 0, no augmentation) at a square size, as the loss wants it.
 */
import { type DetectionBatch, detectionBatches } from '../src/data/detection/batches.js';
import { openDetectionData, parseDetectionSpec } from '../src/data/detection/spec.js';
import { buildDetector } from '../src/models/detection/builder.js';
import type { DetectorConfig } from '../src/models/detection/config.js';
import type { Size2 } from '../src/tasks/detection/boxes.js';
import { batchImages } from '../src/tasks/detection/evaluate_set.js';
import { type RetinaNet, retinaNetOf } from '../src/tasks/detection/retinanet.js';
import type * as tf from '../src/tf.js';

export interface ShapesBatch {
  net: RetinaNet;
  batch: DetectionBatch;
  /** [B, H, W, 3] and each image's size, as batchImages gives them. */
  images: tf.Tensor4D;
  sizes: Size2[];
  /** Per image: its boxes and labels. */
  targets: { boxes: Float32Array; labels: Int32Array }[];
  /** The batch's [height, width]. */
  imageSize: [number, number];
}

/** The detector of `config` (weights seeded 0) and the first `batchSize` shapes training images at `size`². */
export async function shapesBatch(config: DetectorConfig, batchSize: number, size: number): Promise<ShapesBatch> {
  const data = await openDetectionData(parseDetectionSpec('shapes'), { seed: 0 });
  const net = retinaNetOf(buildDetector(config, { seed: 0 }), config);
  const batches = detectionBatches(data.train, { batchSize, shorterSide: size, maxSize: size, augment: false });
  const first = await batches.next();
  if (first.done) throw new Error('the shapes training split gave no batch');
  const batch = first.value;
  const { images, sizes } = batchImages(batch);
  const targets = batch.boxes.map((boxes, i) => ({ boxes, labels: batch.labels[i] }));
  return { net, batch, images, sizes, targets, imageSize: [batch.height, batch.width] };
}
