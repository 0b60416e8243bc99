/**
 * Detector training progress as a run's callback: on a terminal a bar with loss, learning rate, images/s
 * and ETA; elsewhere one line per epoch. Images and annotations the data layer leaves out are named once
 * each on stderr, as it reports them.
 */
import cliProgress from 'cli-progress';
import type { DetectionSkip } from '../data/detection/batches.js';
import type {
  DetectionBeginLogs,
  DetectionCallback,
  DetectionEpochLogs,
  DetectionStepLogs,
} from '../tasks/detection/trainer.js';
import { describeChanges } from '../tasks/training/resume_options.js';

const figure = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));

export class DetectionProgress implements DetectionCallback {
  private bar: cliProgress.SingleBar | null = null;
  private readonly named = new Set<string>();

  constructor(private readonly enabled = process.stderr.isTTY) {}

  private line(text: string): void {
    process.stderr.write(`${this.bar ? '\n' : ''}${text}\n`);
  }

  onSkip(skip: DetectionSkip, split: 'train' | 'validation'): void {
    const key = `${skip.path}#${skip.annotationId ?? ''}`;
    if (this.named.has(key)) return;
    this.named.add(key);
    const what = skip.annotationId === undefined ? skip.path : `${skip.path} annotation ${skip.annotationId}`;
    this.line(`skipped ${what} (${split}): ${skip.reason}`);
  }

  onTrainBegin({ step, totalSteps, resumed, changes, backboneLayers }: DetectionBeginLogs): void {
    if (resumed) process.stderr.write(`resuming at step ${step} of ${totalSteps}\n`);
    if (changes.length) process.stderr.write(`resuming with changed options: ${describeChanges(changes)}\n`);
    if (backboneLayers) process.stderr.write(`backbone: ${backboneLayers} layers loaded from --backbone-weights\n`);
    if (!this.enabled) return;
    this.bar = new cliProgress.SingleBar(
      {
        format:
          'detect train [{bar}] {value}/{total} | epoch {epoch} | loss {loss} | lr {lr} | {ips} img/s | AP50 {ap50} | ETA {eta_formatted}',
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(totalSteps, step, { epoch: '-', loss: '-', lr: '-', ips: '-', ap50: '-' });
  }

  onBatchEnd(_batch: number, s: DetectionStepLogs): void {
    this.bar?.update(s.step, {
      epoch: s.epoch + 1,
      loss: s.loss.toFixed(4),
      lr: s.lr.toExponential(2),
      ips: s.imagesPerSecond.toFixed(1),
    });
  }

  onEpochEnd(epoch: number, e: DetectionEpochLogs): void {
    if (this.bar) this.bar.update({ ap50: figure(e.ap50) });
    else {
      process.stderr.write(
        `epoch ${epoch + 1}: step ${e.step}, train loss ${e.trainLoss.toFixed(4)}, validation AP ${figure(e.ap)}, AP50 ${figure(e.ap50)}\n`,
      );
    }
  }

  onTrainEnd(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
