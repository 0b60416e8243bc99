/**
 * Image-classification training (SASA.md §5) on a DataSource (in memory, or an image folder streamed
 * from disk): Nesterov SGD, weight decay not on BN and biases, linear warm-up then cosine decay, label
 * smoothing, an exponential moving average of the weights used for evaluation, a seeded validation
 * split, checkpoints written atomically every N steps and at every epoch end, and an exact resume: the
 * data order and the augmentation are functions of (seed, epoch, index), the model's initial weights
 * of the seed, and the checkpoint holds the weights, BN statistics, SGD velocities, weight averages
 * and position (the batch and the position in the epoch's order, which files skipped by a streamed
 * source shift). A resume may change the optimisation options (options.ts, RESUME_RULES); it then
 * continues exactly under the new ones.
 *
 * The run is made of parts — prepare.ts (checks, resume, model), epoch.ts (one epoch), evaluate_run.ts,
 * finalise.ts (test, export, summary) — and tfjs-style callbacks, in this order: the NaN stop, the
 * metrics log, the caller's callbacks (progress, curves…), the checkpointer.
 *
 * Files in `outDir`: checkpoint.safetensors, metrics.jsonl (one line per step and per epoch),
 * model/ (the final evaluation weights as tfjs model files) and summary.json. A new run that fails
 * before its first checkpoint removes what it created (run_folder.ts removeRunLeftovers): a failed
 * run leaves a checkpoint to resume from, or nothing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource, SkippedFile, Split } from '../../data/source.js';
import type { LoadedData } from '../../data/spec.js';
import { CallbackList } from '../training/callbacks.js';
import { CheckpointHistory } from '../training/checkpoint_history.js';
import { Checkpointer } from '../training/checkpointer.js';
import { MetricsLog } from '../training/metrics_log.js';
import { NanStop } from '../training/nan_stop.js';
import { METRICS, removeRunLeftovers } from '../training/run_folder.js';
import { type ClassificationCallback, METRICS_RECORDS, resumeRecord, type TrainResult } from './callbacks.js';
import { closeEpoch, trainEpoch } from './epoch.js';
import type { Metrics } from './evaluate.js';
import { finaliseRun } from './finalise.js';
import type { TrainOptions } from './options.js';
import { prepareRun, type Run, type RunStart, saveRun } from './prepare.js';

export type {
  ClassificationCallback,
  EpochLogs,
  StepLogs,
  TrainBeginLogs,
  TrainResult,
} from './callbacks.js';
export type { TrainOptions } from './options.js';

/**
 * How {@link train} runs, besides its options: resume or not, the options a resume was given, and the
 * caller's callbacks.
 */
export interface TrainRun extends RunStart {
  /** Called after the NaN stop and the metrics log, before the checkpointer. */
  callbacks?: ClassificationCallback[];
}

/**
 * Trains (or, with `resume`, continues) a classifier on `input` (an in-memory dataset or any DataSource);
 * returns the model with its evaluation weights.
 */
export async function train(
  requested: TrainOptions,
  input: LoadedData | DataSource,
  outDir: string,
  { callbacks = [], ...start }: TrainRun = {},
): Promise<TrainResult> {
  const run = await prepareRun(requested, input, outDir, start);
  try {
    return await trainRun(run, callbacks);
  } catch (err) {
    if (run.resumedAt === null && !existsSync(run.checkpointPath)) removeRunLeftovers(outDir, run.folder);
    throw err;
  }
}

/** The epochs and the end of a prepared run. */
async function trainRun(run: Run, callbacks: ClassificationCallback[]): Promise<TrainResult> {
  const metrics = new MetricsLog(join(run.outDir, METRICS), METRICS_RECORDS);
  metrics.start(run.resumedAt === null ? null : { step: run.resumedAt, epoch: run.state.epoch });
  if (run.changes.length) metrics.append(resumeRecord(run.state.step, run.changes));
  const checkpoints = new CheckpointHistory(run.checkpointPath, run.resumedAt);
  const list = new CallbackList([
    new NanStop(checkpoints, run.options.lr),
    metrics,
    ...callbacks,
    new Checkpointer(run.options.checkpointEvery, () => checkpoints.save(run.state.step, () => saveRun(run))),
  ]);
  const onSkip = (file: SkippedFile, split: Split) => {
    for (const c of callbacks) c.onSkip?.(file, split);
  };
  await list.onTrainBegin({
    step: run.state.step,
    totalSteps: run.schedule.totalSteps,
    resumed: run.resumedAt !== null,
    params: run.model.countParams(),
    options: run.options,
    changes: run.changes,
  });
  const started = performance.now();
  let validation: Metrics | null | undefined;
  while (run.state.epoch < run.options.epochs) {
    await list.onEpochBegin(run.state.epoch);
    await trainEpoch(run, list, onSkip);
    const logs = await closeEpoch(run, onSkip);
    validation = logs.validation;
    await list.onEpochEnd(logs.epoch, logs);
  }
  const result = await finaliseRun(run, validation, (performance.now() - started) / 1000, onSkip);
  await list.onTrainEnd(result);
  return result;
}
