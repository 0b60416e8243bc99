/** The NaN stop as a callback (tfjs' TerminateOnNaN, but with a message that says what to do). */
import { existsSync } from 'node:fs';
import type { TrainingCallback } from './callbacks.js';

/** Raised when the loss stops being finite; the last checkpoint is left as it was. */
export class DivergedError extends Error {}

export interface LossLogs {
  /** Optimizer steps done, this one included. */
  step: number;
  epoch: number;
  batch: number;
  loss: number;
}

/**
 * Throws DivergedError on a non-finite loss, naming the step and advising a lower learning rate than
 * `lr` (the run's peak rate) and a resume from `checkpointPath` (or a new start, before the first
 * checkpoint). It goes first in the callback list,
 * so the diverged step is neither logged nor checkpointed.
 */
export class NanStop implements TrainingCallback<unknown, LossLogs, unknown, unknown> {
  constructor(
    private readonly checkpointPath: string,
    private readonly lr: number,
  ) {}

  onBatchEnd(batch: number, logs: LossLogs): void {
    if (Number.isFinite(logs.loss)) return;
    const advice = existsSync(this.checkpointPath)
      ? `${this.checkpointPath} keeps the last good state — lower the learning rate (${this.lr}) and resume (--resume --lr), or start again`
      : `no checkpoint was written yet — start again with a lower learning rate than ${this.lr}`;
    throw new DivergedError(
      `the loss became ${logs.loss} at step ${logs.step} (epoch ${logs.epoch + 1}, batch ${batch}); training stopped and ${advice}`,
    );
  }
}
