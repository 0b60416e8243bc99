/**
 * The divergence stop as a callback (tfjs' TerminateOnNaN, but also for a loss that explodes while
 * still finite, and with a message that says what to do). The loss explodes a few steps before it is
 * NaN, so the checkpoint may already hold the weights that made it: those are rolled back
 * (checkpoint_history.ts), and `--resume --lr smaller` starts from weights that gave a sane loss.
 */

import type { TrainingCallback } from './callbacks.js';
import type { CheckpointHistory, Rollback } from './checkpoint_history.js';

/** Raised when the loss stops being finite or blows up; the checkpoint kept holds sane weights. */
export class DivergedError extends Error {}

/** A loss above this many times the first one of the process is a blow-up (training lowers its loss). */
export const BLOW_UP_FACTOR = 100;

export interface LossLogs {
  /** Optimizer steps done, this one included. */
  step: number;
  epoch: number;
  batch: number;
  loss: number;
}

/**
 * Throws DivergedError on a non-finite loss or one above BLOW_UP_FACTOR × the first loss this process
 * saw, naming the step, after rolling the checkpoint back past the weights that made it, and advising
 * a lower learning rate than `lr` (the run's peak rate) with a resume, or a new start when no
 * checkpoint is left. It goes first in the callback list, so the diverged step is neither logged nor
 * checkpointed.
 */
export class NanStop implements TrainingCallback<unknown, LossLogs, unknown, unknown> {
  private firstLoss: number | null = null;

  constructor(
    private readonly checkpoints: CheckpointHistory,
    private readonly lr: number,
  ) {}

  onBatchEnd(batch: number, logs: LossLogs): void {
    const { loss } = logs;
    if (this.firstLoss === null && Number.isFinite(loss)) this.firstLoss = loss;
    const limit = BLOW_UP_FACTOR * Math.abs(this.firstLoss ?? 0);
    if (Number.isFinite(loss) && (this.firstLoss === null || loss <= limit)) return;
    const what = Number.isFinite(loss)
      ? `the loss exploded to ${loss} (over ${BLOW_UP_FACTOR} × the first step's ${this.firstLoss})`
      : `the loss became ${loss}`;
    throw new DivergedError(
      `${what} at step ${logs.step} (epoch ${logs.epoch + 1}, batch ${batch}); training stopped and ${this.advice(this.checkpoints.rollBack(logs.step))}`,
    );
  }

  private advice(rollback: Rollback): string {
    const path = this.checkpoints.path;
    const resume = `lower the learning rate (${this.lr}) and resume (--resume --lr), or start again`;
    if (rollback === 'kept') return `${path} keeps the last good state — ${resume}`;
    if (rollback === 'previous') return `${path} is back at the checkpoint before the blow-up — ${resume}`;
    return `no checkpoint from before the blow-up is left — start again with a lower learning rate than ${this.lr}`;
  }
}
