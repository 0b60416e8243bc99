/**
 * Classification metrics accumulated batch by batch: top-1 and top-5 accuracy, mean cross-entropy,
 * per-class accuracy and the confusion matrix (rows: true class, columns: predicted class).
 */
import * as tf from '@tensorflow/tfjs';

export interface Metrics {
  count: number;
  top1: number;
  top5: number;
  loss: number;
  perClass: number[];
  confusion: number[][];
}

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
