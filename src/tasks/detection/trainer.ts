/**
 * RetinaNet training (SASA.md §5, torchvision's detection recipe at a small scale): SGD with momentum and
 * weight decay, linear warm-up then cosine decay, the global gradient norm clipped, random horizontal
 * flips; checkpoints every N steps and at every epoch end, and an exact resume (the data order and the
 * flips are functions of (seed, epoch, image), the initial weights of the seed; the checkpoint holds the
 * weights, batch-norm statistics, SGD velocities and the position in the epoch's order). After each
 * epoch the validation split is detected and COCO-evaluated (AP, AP50 in the metrics).
 *
 * Callbacks, in order: the NaN stop, the metrics log, the caller's (progress…), the checkpointer.
 * Files in `outDir`: checkpoint.safetensors, metrics.jsonl, model/ (saved_detector.ts), summary.json,
 * loss.png and map.png.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DetectionSkip } from '../../data/detection/batches.js';
import { detectionBatches } from '../../data/detection/batches.js';
import type { DetectionData } from '../../data/detection/spec.js';
import { writeFileAtomic, writing } from '../../io/files.js';
import { CallbackList, type TrainingCallback } from '../training/callbacks.js';
import { CheckpointHistory } from '../training/checkpoint_history.js';
import { Checkpointer } from '../training/checkpointer.js';
import { MetricsLog, type MetricsRecords } from '../training/metrics_log.js';
import { NanStop } from '../training/nan_stop.js';
import type { OptionChange } from '../training/resume_options.js';
import { METRICS, MODEL_DIR, removeRunLeftovers, SUMMARY } from '../training/run_folder.js';
import { learningRate } from '../training/schedule.js';
import { writeDetectionCurves } from './curves.js';
import { batchImages, evaluateSet } from './evaluate_set.js';
import { detectorMetadata, saveDetector } from './saved_detector.js';
import type { DetectorTrainOptions } from './train_options.js';
import { type DetectionRun, type DetectionRunStart, prepareDetectionRun, saveDetectionRun } from './train_run.js';

export interface DetectionBeginLogs {
  step: number;
  totalSteps: number;
  resumed: boolean;
  params: number;
  changes: OptionChange[];
  backboneLayers: number;
}

export interface DetectionStepLogs {
  step: number;
  totalSteps: number;
  epoch: number;
  batch: number;
  loss: number;
  classification: number;
  boxRegression: number;
  lr: number;
  imagesPerSecond: number;
}

export interface DetectionEpochLogs {
  epoch: number;
  step: number;
  trainLoss: number;
  /** COCO AP and AP50 of the validation split; null when it holds no box. */
  ap: number | null;
  ap50: number | null;
  /** Images and annotations left out this epoch (training, validation). */
  skipped: number;
  validationSkipped: number;
}

export interface DetectionTrainResult {
  steps: number;
  seconds: number;
  ap: number | null;
  ap50: number | null;
  /** The 12 COCO numbers of the last validation (null: none). */
  stats: number[] | null;
  modelDir: string;
}

export interface DetectionCallback
  extends TrainingCallback<DetectionBeginLogs, DetectionStepLogs, DetectionEpochLogs, DetectionTrainResult> {
  /** An image or annotation the data layer left out (as it reports it). */
  onSkip?(skip: DetectionSkip, split: 'train' | 'validation'): void;
}

export interface DetectionTrainRun extends DetectionRunStart {
  callbacks?: DetectionCallback[];
  /** Fail on the first training image that cannot be read, naming it, instead of skipping it. */
  strict?: boolean;
}

const RECORDS: MetricsRecords<DetectionStepLogs, DetectionEpochLogs> = {
  batch: (s) => ({
    type: 'step',
    step: s.step,
    epoch: s.epoch,
    batch: s.batch,
    loss: s.loss,
    classification: s.classification,
    box_regression: s.boxRegression,
    lr: s.lr,
  }),
  epoch: (e) => ({
    type: 'epoch',
    step: e.step,
    epoch: e.epoch,
    train_loss: e.trainLoss,
    val_ap: e.ap,
    val_ap50: e.ap50,
    skipped: e.skipped,
    val_skipped: e.validationSkipped,
  }),
};

type Skip = (skip: DetectionSkip, split: 'train' | 'validation') => void;

async function trainEpoch(
  run: DetectionRun,
  list: CallbackList<unknown, DetectionStepLogs, unknown, unknown>,
  onSkip: Skip,
  strict: boolean,
) {
  const { state, schedule, options, step } = run;
  const batches = detectionBatches(run.data.train, {
    batchSize: options.batchSize,
    shorterSide: options.size,
    maxSize: options.size,
    augment: options.augment,
    shuffle: true,
    seed: options.seed,
    epoch: state.epoch,
    from: state.cursor,
    strict,
  });
  for await (const b of batches) {
    for (const s of b.skipped) onSkip(s, 'train');
    state.skipped += b.skipped.length;
    state.cursor = b.next;
    if (b.size === 0) continue;
    const t0 = performance.now();
    const lr = learningRate(schedule, state.step);
    const { images } = batchImages(b);
    const targets = b.boxes.map((boxes, i) => ({ boxes, labels: b.labels[i] }));
    const losses = step.run(images, targets, [b.height, b.width], lr);
    images.dispose();
    state.step++;
    state.batch++;
    state.lossSum += losses.loss;
    state.lossCount++;
    await list.onBatchEnd(state.batch, {
      step: state.step,
      totalSteps: schedule.totalSteps,
      epoch: state.epoch,
      batch: state.batch,
      ...losses,
      lr,
      imagesPerSecond: (b.size * 1000) / (performance.now() - t0),
    });
  }
}

async function validate(run: DetectionRun, onSkip: Skip) {
  if (run.data.validation.images.length === 0) return { evaluation: null, skipped: 0 };
  const { evaluation, skipped } = await evaluateSet(run.net, run.data.validation, {
    batchSize: run.options.batchSize,
    size: run.options.size,
    onSkip: (s) => onSkip(s, 'validation'),
  });
  return { evaluation, skipped: skipped.length };
}

/**
 * Trains (or, with `resume`, continues) a RetinaNet on `data` (named `dataName` in the checkpoint) into
 * `outDir`; returns the final validation figures.
 */
export async function trainDetector(
  requested: DetectorTrainOptions,
  data: DetectionData,
  dataName: string,
  outDir: string,
  { callbacks = [], strict = false, ...start }: DetectionTrainRun = {},
): Promise<DetectionTrainResult> {
  const run = await prepareDetectionRun(requested, data, dataName, outDir, start);
  try {
    return await trainDetectionRun(run, callbacks, strict);
  } catch (err) {
    // a new run that failed before its first checkpoint leaves nothing behind
    if (run.resumedAt === null && !existsSync(run.checkpointPath)) removeRunLeftovers(outDir, run.folder);
    throw err;
  }
}

/** The epochs and the end of a prepared run. */
async function trainDetectionRun(
  run: DetectionRun,
  callbacks: DetectionCallback[],
  strict: boolean,
): Promise<DetectionTrainResult> {
  const { outDir } = run;
  const metrics = new MetricsLog(join(outDir, METRICS), RECORDS);
  metrics.start(run.resumedAt === null ? null : { step: run.resumedAt, epoch: run.state.epoch });
  if (run.changes.length) {
    const changed = Object.fromEntries(run.changes.map((c) => [c.option, [c.from, c.to]]));
    metrics.append({ type: 'resume', step: run.state.step, changed });
  }
  const checkpoints = new CheckpointHistory(run.checkpointPath, run.resumedAt);
  const list = new CallbackList<DetectionBeginLogs, DetectionStepLogs, DetectionEpochLogs, DetectionTrainResult>([
    new NanStop(checkpoints, run.options.lr),
    metrics,
    ...callbacks,
    new Checkpointer(run.options.checkpointEvery, () => checkpoints.save(run.state.step, () => saveDetectionRun(run))),
  ]);
  const onSkip: Skip = (s, split) => {
    for (const c of callbacks) c.onSkip?.(s, split);
  };
  await list.onTrainBegin({
    step: run.state.step,
    totalSteps: run.schedule.totalSteps,
    resumed: run.resumedAt !== null,
    params: run.net.model.countParams(),
    changes: run.changes,
    backboneLayers: run.backboneLayers.length,
  });
  const started = performance.now();
  /** The last validation's 12 COCO numbers (null: no boxes; undefined: no epoch ended in this process). */
  let stats: number[] | null | undefined;
  const { state } = run;
  try {
    while (state.epoch < run.options.epochs) {
      await list.onEpochBegin(state.epoch);
      await trainEpoch(run, list, onSkip, strict);
      const validation = await validate(run, onSkip);
      stats = validation.evaluation?.stats ?? null;
      const logs: DetectionEpochLogs = {
        epoch: state.epoch,
        step: state.step,
        trainLoss: state.lossCount ? state.lossSum / state.lossCount : Number.NaN,
        ap: stats?.[0] ?? null,
        ap50: stats?.[1] ?? null,
        skipped: state.skipped,
        validationSkipped: validation.skipped,
      };
      Object.assign(state, { epoch: state.epoch + 1, batch: 0, cursor: 0, skipped: 0, lossSum: 0, lossCount: 0 });
      await list.onEpochEnd(logs.epoch, logs);
    }
    // a run resumed after its last epoch (killed while finishing) validates as that epoch did
    if (stats === undefined) stats = (await validate(run, onSkip)).evaluation?.stats ?? null;
    const result = await finalise(run, stats, (performance.now() - started) / 1000);
    await list.onTrainEnd(result);
    return result;
  } finally {
    run.step.optimizer.dispose();
    run.net.model.dispose();
  }
}

/** Saves the model folder, the curves and summary.json. */
async function finalise(run: DetectionRun, stats: number[] | null, seconds: number): Promise<DetectionTrainResult> {
  const modelDir = join(run.outDir, MODEL_DIR);
  const detector = { ...run.options.detector, inputSize: run.options.size };
  await saveDetector(modelDir, run.net.model, detectorMetadata(detector, run.data.categories, run.options.size));
  await writeDetectionCurves(run.outDir, detector.name ?? 'detector');
  const result = { steps: run.state.step, seconds, ap: stats?.[0] ?? null, ap50: stats?.[1] ?? null, stats, modelDir };
  const summary = { ...result, options: run.options, data: run.state.run.data, categories: run.data.categories };
  const path = join(run.outDir, SUMMARY);
  const text = `${JSON.stringify(summary, null, 2)}\n`;
  await writing(path, 'the summary', () => writeFileAtomic(path, [Buffer.from(text)]));
  return result;
}
