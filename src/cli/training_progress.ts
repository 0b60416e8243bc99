/**
 * Training progress as a run's callback: on a terminal a bar with loss, learning rate, images/s and
 * ETA; elsewhere one line per epoch (and the resume point, with the options it changed), so logs
 * stay readable. Files a streamed source skips are named once each, and each epoch's count of them
 * is printed with the epoch. The bar stops at the end of training.
 */
import cliProgress from 'cli-progress';
import type { SkippedFile, Split } from '../data/source.js';
import type { ClassificationCallback, EpochLogs, StepLogs, TrainBeginLogs } from '../tasks/classification/trainer.js';
import { describeChanges } from '../tasks/training/resume_options.js';

export class TrainingProgress implements ClassificationCallback {
  private bar: cliProgress.SingleBar | null = null;
  private readonly named = new Set<string>();

  constructor(private readonly enabled = process.stderr.isTTY) {}

  private line(text: string): void {
    process.stderr.write(`${this.bar ? '\n' : ''}${text}\n`);
  }

  onSkip(file: SkippedFile, split: Split): void {
    if (this.named.has(file.path)) return;
    this.named.add(file.path);
    this.line(`skipped ${file.path} (${split}): ${file.reason}`);
  }

  onTrainBegin({ step, totalSteps, resumed, changes }: TrainBeginLogs): void {
    if (resumed) process.stderr.write(`resuming at step ${step} of ${totalSteps}\n`);
    if (changes.length) process.stderr.write(`resuming with changed options: ${describeChanges(changes)}\n`);
    if (!this.enabled) return;
    this.bar = new cliProgress.SingleBar(
      {
        format:
          'train [{bar}] {value}/{total} | epoch {epoch} | loss {loss} | lr {lr} | {ips} img/s | val {val} | ETA {eta_formatted}',
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(totalSteps, step, { epoch: '-', loss: '-', lr: '-', ips: '-', val: '-' });
  }

  onBatchEnd(_batch: number, s: StepLogs): void {
    this.bar?.update(s.step, {
      epoch: s.epoch + 1,
      loss: s.loss.toFixed(4),
      lr: s.lr.toExponential(2),
      ips: s.imagesPerSecond.toFixed(0),
    });
  }

  onEpochEnd(epoch: number, e: EpochLogs): void {
    const top1 = e.validation ? `${(100 * e.validation.top1).toFixed(2)} %` : 'n/a';
    const n = e.skipped + e.validationSkipped;
    const skipped = n ? `, ${n} unreadable file${n > 1 ? 's' : ''} skipped (${e.validationSkipped} in validation)` : '';
    if (this.bar) {
      this.bar.update({ val: top1 });
      if (skipped) this.line(`epoch ${epoch + 1}${skipped}`);
    } else this.line(`epoch ${epoch + 1}: train loss ${e.trainLoss.toFixed(4)}, validation top-1 ${top1}${skipped}`);
  }

  onTrainEnd(): void {
    this.bar?.stop();
  }
}
