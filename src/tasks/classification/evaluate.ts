/**
 * Classification metrics accumulated batch by batch: top-1 and top-5 accuracy, mean cross-entropy,
 * per-class accuracy and the confusion matrix (rows: true class, columns: predicted class); and the
 * evaluation of a model on an in-memory dataset or on any stream of batches.
 */

import { batches } from '../../data/batches.js';
import type { ImageDataset } from '../../data/dataset.js';
import type { DataBatch, Normalization, SkippedFile } from '../../data/source.js';
import * as tf from '../../tf.js';

/**
 * Classification metrics over `count` images: top-1 and top-5 accuracy (fractions in [0, 1]), the mean
 * cross-entropy, the accuracy per class [K] (NaN for a class without images) and the confusion matrix
 * [K, K] of image counts (rows: true class, columns: predicted class).
 */
export interface Metrics {
  count: number;
  top1: number;
  top5: number;
  loss: number;
  perClass: number[];
  confusion: number[][];
}

/** Accumulates logits [B, K] and labels [B] batch by batch into top-1/top-5 accuracy, loss and the confusion matrix. */
export class MetricsAccumulator {
  private count = 0;
  private correct1 = 0;
  private correct5 = 0;
  private lossSum = 0;
  private readonly confusion: number[][];

  constructor(readonly classes: number) {
    this.confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  }

  /** Adds a batch: logits [B, K], labels [B]. */
  add(logits: tf.Tensor2D, labels: Int32Array): void {
    const [b, k] = logits.shape;
    if (k !== this.classes) throw new Error(`logits have ${k} classes, the metrics ${this.classes}`);
    const [z, lsm] = tf.tidy(() => [logits.dataSync(), tf.logSoftmax(logits).dataSync()]);
    for (let i = 0; i < b; i++) {
      const label = labels[i];
      const row = z.subarray(i * k, (i + 1) * k);
      const target = row[label];
      let better = 0;
      let argmax = 0;
      for (let c = 0; c < k; c++) {
        if (row[c] > target || (row[c] === target && c < label)) better++;
        if (row[c] > row[argmax]) argmax = c;
      }
      if (better === 0) this.correct1++;
      if (better < 5) this.correct5++;
      this.lossSum -= lsm[i * k + label];
      this.confusion[label][argmax]++;
    }
    this.count += b;
  }

  /** The metrics of everything added so far. */
  result(): Metrics {
    const n = Math.max(1, this.count);
    return {
      count: this.count,
      top1: this.correct1 / n,
      top5: this.correct5 / n,
      loss: this.lossSum / n,
      perClass: this.confusion.map((row, c) => {
        const total = row.reduce((s, v) => s + v, 0);
        return total ? row[c] / total : Number.NaN;
      }),
      confusion: this.confusion.map((row) => [...row]),
    };
  }
}

/** Evaluates `model` on a dataset (in order, no augmentation, normalised with `stats`). */
export function evaluate(model: tf.LayersModel, ds: ImageDataset, stats: Normalization, batchSize = 256): Metrics {
  const acc = new MetricsAccumulator(ds.classes);
  for (const b of batches(ds, { batchSize, shuffle: false, ...stats })) {
    tf.tidy(() => {
      const x = tf.tensor4d(b.x, [b.size, ds.height, ds.width, ds.channels]);
      acc.add(model.apply(x, { training: false }) as tf.Tensor2D, b.y);
    });
  }
  return acc.result();
}

/**
 * Evaluates `model` on a stream of batches of `size` × `size` × `channels` images with `classes` classes;
 * also returns the files the stream skipped.
 */
export async function evaluateBatches(
  model: tf.LayersModel,
  stream: AsyncIterable<DataBatch>,
  shape: { size: number; channels: number; classes: number },
): Promise<{ metrics: Metrics; skipped: SkippedFile[] }> {
  const acc = new MetricsAccumulator(shape.classes);
  const skipped: SkippedFile[] = [];
  for await (const b of stream) {
    skipped.push(...b.skipped);
    tf.tidy(() => {
      const x = tf.tensor4d(b.x, [b.size, shape.size, shape.size, shape.channels]);
      acc.add(model.apply(x, { training: false }) as tf.Tensor2D, b.y);
    });
  }
  return { metrics: acc.result(), skipped };
}
