/**
 * One epoch of a classification run: the optimizer steps from the run's position to the end of the
 * epoch's order (each followed by onBatchEnd), then the validation with the evaluation weights and
 * the move of the position to the next epoch.
 */
import * as tf from '../../tf.js';
import { learningRate } from '../training/schedule.js';
import type { EpochLogs, OnSkip, RunCallbacks } from './callbacks.js';
import { evaluateRun } from './evaluate_run.js';
import type { Run } from './prepare.js';

/** Trains the rest of the current epoch; the state moves with every step. Throws when no image could be read. */
export async function trainEpoch(run: Run, callbacks: RunCallbacks, onSkip: OnSkip): Promise<void> {
  const { data, prepared, state, schedule, step, ema } = run;
  const [h, w, c] = [data.size, data.size, data.channels];
  for await (const b of prepared.trainBatches(state.epoch, { batch: state.batch, cursor: state.cursor })) {
    for (const f of b.skipped) onSkip(f, 'train');
    const t0 = performance.now();
    const lr = learningRate(schedule, state.step);
    const loss = tf.tidy(() => step.run(tf.tensor4d(b.x, [b.size, h, w, c]), tf.tensor1d(b.y, 'int32'), lr));
    ema?.update(state.step);
    state.step++;
    state.batch++;
    state.cursor = b.next;
    state.skipped += b.skipped.length;
    state.lossSum += loss;
    state.lossCount++;
    const imagesPerSecond = (b.size * 1000) / (performance.now() - t0);
    await callbacks.onBatchEnd(state.batch, {
      step: state.step,
      totalSteps: schedule.totalSteps,
      epoch: state.epoch,
      batch: state.batch,
      loss,
      lr,
      imagesPerSecond,
    });
  }
  if (state.lossCount === 0) {
    throw new Error(
      `${data.name}: not one training image of epoch ${state.epoch + 1} could be read, so there is nothing to train on; --strict stops at the first bad file and names it`,
    );
  }
}

/** Validates the epoch just trained, moves the state to the next epoch, and returns the epoch's logs. */
export async function closeEpoch(run: Run, onSkip: OnSkip): Promise<EpochLogs> {
  const { state } = run;
  const checked = run.prepared.splits.includes('validation') ? await evaluateRun(run, 'validation', onSkip) : null;
  const logs: EpochLogs = {
    epoch: state.epoch,
    step: state.step,
    trainLoss: state.lossCount ? state.lossSum / state.lossCount : Number.NaN,
    validation: checked?.metrics ?? null,
    skipped: state.skipped,
    validationSkipped: checked?.skipped.length ?? 0,
    streamed: run.data.streamed,
  };
  Object.assign(state, { epoch: state.epoch + 1, batch: 0, cursor: 0, skipped: 0, lossSum: 0, lossCount: 0 });
  return logs;
}
