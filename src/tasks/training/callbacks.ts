/**
 * Training callbacks in the shape of tfjs-layers' `Callback` / `CallbackList`: optional hooks called
 * in list order and awaited, at the start of training, before each epoch, after each batch (optimizer
 * step), after each epoch and at the end. A hook that throws stops training; what the callbacks after
 * it in the list would have done for that event (e.g. a checkpoint) is not done. The log types are
 * the task's (classification: StepLogs, EpochLogs), so detection can reuse the list as it is.
 */
export interface TrainingCallback<Begin, Batch, Epoch, End> {
  onTrainBegin?(logs: Begin): void | Promise<void>;
  /** `epoch`: 0-based. */
  onEpochBegin?(epoch: number): void | Promise<void>;
  /** `batch`: 1-based count of batches done in the epoch (with the step, the epoch and the loss in `logs`). */
  onBatchEnd?(batch: number, logs: Batch): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Epoch): void | Promise<void>;
  onTrainEnd?(logs: End): void | Promise<void>;
}

/** Calls each event on every callback in order, awaiting each. */
export class CallbackList<Begin, Batch, Epoch, End> {
  constructor(readonly callbacks: readonly TrainingCallback<Begin, Batch, Epoch, End>[]) {}

  async onTrainBegin(logs: Begin): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin?.(logs);
  }

  async onEpochBegin(epoch: number): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin?.(epoch);
  }

  async onBatchEnd(batch: number, logs: Batch): Promise<void> {
    for (const c of this.callbacks) await c.onBatchEnd?.(batch, logs);
  }

  async onEpochEnd(epoch: number, logs: Epoch): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd?.(epoch, logs);
  }

  async onTrainEnd(logs: End): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd?.(logs);
  }
}
