/**
 * The checkpoint cadence as a callback: `save` every `every` optimizer steps and at every epoch end
 * (after the loop has moved its position to the next epoch, so a resume starts there). It goes last
 * in the callback list, so a callback that stops training at a step leaves the previous checkpoint.
 */
import type { TrainingCallback } from './callbacks.js';

export class Checkpointer implements TrainingCallback<unknown, { step: number }, unknown, unknown> {
  constructor(
    readonly every: number,
    private readonly save: () => Promise<void>,
  ) {}

  async onBatchEnd(_batch: number, logs: { step: number }): Promise<void> {
    if (logs.step % this.every === 0) await this.save();
  }

  async onEpochEnd(): Promise<void> {
    await this.save();
  }
}
