/**
 * Training callbacks in the shape of tfjs-layers' `Callback` / `CallbackList`: optional hooks called
 * in list order and awaited, at the start of training, before each epoch, after each batch (optimizer
 * step), after each epoch and at the end. A hook that throws stops training; what the callbacks after
 * it in the list would have done for that event (e.g. a checkpoint) is not done. The log types are
 * the task's (classification: StepLogs, EpochLogs), so detection can reuse the list as it is.
 */
export interface TrainingCallback<Begin, Batch, Epoch, End> {
  /** Before the first epoch (or the resumed one). */
  onTrainBegin?(logs: Begin): void | Promise<void>;
  /** `epoch`: 0-based. */
  onEpochBegin?(epoch: number): void | Promise<void>;
  /** `batch`: 1-based count of batches done in the epoch (with the step, the epoch and the loss in `logs`). */
  onBatchEnd?(batch: number, logs: Batch): void | Promise<void>;
  /** After each epoch (`epoch`: 0-based), with its metrics. */
  onEpochEnd?(epoch: number, logs: Epoch): void | Promise<void>;
  /** When training ends, with its result. */
  onTrainEnd?(logs: End): void | Promise<void>;
}

/** Calls each event on every callback in order, awaiting each. */
export class CallbackList<Begin, Batch, Epoch, End> {
  constructor(readonly callbacks: readonly TrainingCallback<Begin, Batch, Epoch, End>[]) {}

  /** Calls onTrainBegin on each callback. */
  async onTrainBegin(logs: Begin): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin?.(logs);
  }

  /** Calls onEpochBegin on each callback. */
  async onEpochBegin(epoch: number): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin?.(epoch);
  }

  /** Calls onBatchEnd on each callback. */
  async onBatchEnd(batch: number, logs: Batch): Promise<void> {
    for (const c of this.callbacks) await c.onBatchEnd?.(batch, logs);
  }

  /** Calls onEpochEnd on each callback. */
  async onEpochEnd(epoch: number, logs: Epoch): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd?.(epoch, logs);
  }

  /** Calls onTrainEnd on each callback. */
  async onTrainEnd(logs: End): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd?.(logs);
  }
}
