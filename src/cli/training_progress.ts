/**
 * Training progress as a run's callback: on a terminal a bar with loss, learning rate, images/s and
 * ETA; elsewhere one line per epoch (and the resume point, with the options it changed), so logs
 * stay readable. Files a streamed source skips are named once each, and each epoch's count of them
 * is printed with the epoch. The bar stops at the end of training (run_progress.ts).
 */
import type { SkippedFile, Split } from '../data/source.js';
import type { ClassificationCallback, EpochLogs, StepLogs, TrainBeginLogs } from '../tasks/classification/trainer.js';
import { RunProgress } from './run_progress.js';

export class TrainingProgress extends RunProgress implements ClassificationCallback {
  constructor(enabled = process.stderr.isTTY) {
    super('train', 'val', 0, enabled);
  }

  onSkip(file: SkippedFile, split: Split): void {
    this.nameOnce(file.path, `skipped ${file.path} (${split}): ${file.reason}`);
  }

  onTrainBegin(logs: TrainBeginLogs): void {
    this.begin(logs);
  }

  onBatchEnd(_batch: number, s: StepLogs): void {
    this.advance(s);
  }

  onEpochEnd(epoch: number, e: EpochLogs): void {
    const top1 = e.validation ? `${(100 * e.validation.top1).toFixed(2)} %` : 'n/a';
    const n = e.skipped + e.validationSkipped;
    const skipped = n ? `, ${n} unreadable file${n > 1 ? 's' : ''} skipped (${e.validationSkipped} in validation)` : '';
    if (this.showMetric(top1)) {
      if (skipped) this.line(`epoch ${epoch + 1}${skipped}`);
    } else this.line(`epoch ${epoch + 1}: train loss ${e.trainLoss.toFixed(4)}, validation top-1 ${top1}${skipped}`);
  }
}
