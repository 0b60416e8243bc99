/**
 * Detector training progress as a run's callback: on a terminal a bar with loss, learning rate, images/s
 * and ETA; elsewhere one line per epoch. Images and annotations the data layer leaves out are named once
 * each on stderr, as it reports them (run_progress.ts has what this shares with training_progress.ts).
 */
import type { DetectionSkip } from '../data/detection/batches.js';
import type {
  DetectionBeginLogs,
  DetectionCallback,
  DetectionEpochLogs,
  DetectionStepLogs,
} from '../tasks/detection/trainer.js';
import { RunProgress } from './run_progress.js';

const figure = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));

export class DetectionProgress extends RunProgress implements DetectionCallback {
  constructor(enabled = process.stderr.isTTY) {
    super('detect train', 'AP50', 1, enabled);
  }

  onSkip(skip: DetectionSkip, split: 'train' | 'validation'): void {
    const what = skip.annotationId === undefined ? skip.path : `${skip.path} annotation ${skip.annotationId}`;
    this.nameOnce(`${skip.path}#${skip.annotationId ?? ''}`, `skipped ${what} (${split}): ${skip.reason}`);
  }

  onTrainBegin(logs: DetectionBeginLogs): void {
    const { backboneLayers } = logs;
    this.begin(logs, ...(backboneLayers ? [`backbone: ${backboneLayers} layers loaded from --backbone-weights`] : []));
  }

  onBatchEnd(_batch: number, s: DetectionStepLogs): void {
    this.advance(s);
  }

  onEpochEnd(epoch: number, e: DetectionEpochLogs): void {
    if (this.showMetric(figure(e.ap50))) return;
    this.line(
      `epoch ${epoch + 1}: step ${e.step}, train loss ${e.trainLoss.toFixed(4)}, validation AP ${figure(e.ap)}, AP50 ${figure(e.ap50)}`,
    );
  }
}
