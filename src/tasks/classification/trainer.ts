/**
 * Image-classification training (SASA.md §5) on a DataSource (in memory, or an image folder streamed
 * from disk): Nesterov SGD, weight decay
 * not on BN and biases, linear warm-up then cosine decay, label smoothing, an exponential moving
 * average of the weights used for evaluation, a seeded validation split, checkpoints written
 * atomically every N steps and at every epoch end, and an exact resume: the data order and the
 * augmentation are functions of (seed, epoch, index), the model's initial weights of the seed, and
 * the checkpoint holds the weights, BN statistics, SGD velocities, weight averages and position (the
 * batch and the position in the epoch's order, which files skipped by a streamed source shift).
 *
 * Files in `outDir`: checkpoint.safetensors, metrics.jsonl (one line per step and per epoch),
 * model/ (the final evaluation weights as tfjs model files) and summary.json.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { memorySource } from '../../data/memory_source.js';
import type { DataSource, SkippedFile, Split } from '../../data/source.js';
import type { LoadedData } from '../../data/spec.js';
import { saveModelFiles } from '../../io/model_files.js';
import { buildModel } from '../../models/builder.js';
import { type ModelConfig, resolveConfig } from '../../models/config.js';
import { readCheckpoint, restoreCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';
import { WeightAverage } from './ema.js';
import { evaluateBatches, type Metrics } from './evaluate.js';
import { checkSchedule, learningRate, type Schedule } from './schedule.js';
import { makeTrainStep } from './step.js';

export interface TrainOptions {
  model: ModelConfig;
  epochs: number;
  batchSize: number;
  /** Peak learning rate (after warm-up). */
  lr: number;
  warmupEpochs: number;
  momentum: number;
  weightDecay: number;
  labelSmoothing: number;
  /** 0 turns the weight average off. */
  emaDecay: number;
  seed: number;
  /** Fraction of the training set held out for validation (the paper: 4 %). */
  validationFraction: number;
  /** Steps between checkpoints (and at every epoch end). */
  checkpointEvery: number;
  augment: boolean;
}

export interface StepInfo {
  step: number;
  totalSteps: number;
  epoch: number;
  batch: number;
  loss: number;
  lr: number;
  imagesPerSecond: number;
}

export interface EpochInfo {
  epoch: number;
  step: number;
  trainLoss: number;
  validation: Metrics | null;
  /** Files a streamed source skipped this epoch: training files, and validation files. */
  skipped: number;
  validationSkipped: number;
}

export interface TrainHooks {
  onStep?(info: StepInfo): void;
  onEpoch?(info: EpochInfo): void;
  /** Called for each file a streamed source skips (missing or undecodable), with the split it belongs to. */
  onSkip?(file: SkippedFile, split: Split): void;
  /** Called once before the first step with where training starts. */
  onStart?(info: { step: number; totalSteps: number; resumed: boolean; params: number }): void;
}

export interface TrainResult {
  model: tf.LayersModel;
  test: Metrics | null;
  validation: Metrics | null;
  steps: number;
  seconds: number;
  stats: { mean: number[]; std: number[] };
}

export const CHECKPOINT = 'checkpoint.safetensors';
export const METRICS = 'metrics.jsonl';

/** Raised when the loss stops being finite; the last checkpoint is left as it was. */
export class DivergedError extends Error {}

function checkOptions(o: TrainOptions): void {
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  };
  positive('epochs', o.epochs);
  positive('batch size', o.batchSize);
  positive('checkpoint interval', o.checkpointEvery);
  if (!(o.validationFraction >= 0 && o.validationFraction < 1)) {
    throw new Error(`validation fraction must be in [0, 1), got ${o.validationFraction}`);
  }
  if (!(o.warmupEpochs >= 0 && o.warmupEpochs <= o.epochs)) {
    throw new Error(`warm-up epochs must be from 0 to the epochs (${o.epochs}), got ${o.warmupEpochs}`);
  }
}

/** Throws, naming the data, unless the model takes the data's images and classes. */
function checkFits(model: ModelConfig, data: DataSource): void {
  const { inputSize, inputChannels, classes } = resolveConfig(model);
  if (inputSize !== data.size || inputChannels !== data.channels || classes !== data.classes) {
    throw new Error(
      `${data.name}: the model takes ${inputSize}×${inputSize}×${inputChannels} images and ${classes} classes, ` +
        `the data gives ${data.size}×${data.size}×${data.channels} and ${data.classes} (a folder's size is --image-size)`,
    );
  }
}

/** Drops metric lines past `step` (logged after the checkpoint a resumed run continues from). */
function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const keep = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        return (JSON.parse(line) as { step: number }).step <= step;
      } catch {
        return false;
      }
    });
  writeFileSync(path, keep.map((l) => `${l}\n`).join(''));
}

/**
 * Trains (or, with `resume`, continues) a classifier on `input` (an in-memory dataset or any DataSource);
 * returns the model with its evaluation weights.
 */
export async function train(
  requested: TrainOptions,
  input: LoadedData | DataSource,
  outDir: string,
  { resume = false, hooks = {} }: { resume?: boolean; hooks?: TrainHooks } = {},
): Promise<TrainResult> {
  const data = 'prepare' in input ? input : memorySource(input);
  mkdirSync(outDir, { recursive: true });
  const checkpointPath = join(outDir, CHECKPOINT);
  const metricsPath = join(outDir, METRICS);
  const checkpoint = resume ? await readCheckpoint(checkpointPath) : null;
  const o = checkpoint ? (checkpoint.state.run.options as TrainOptions) : requested;
  checkOptions(o);
  if (checkpoint && checkpoint.state.run.data !== data.name) {
    throw new Error(`${checkpointPath}: the checkpoint trained on '${checkpoint.state.run.data}', not '${data.name}'`);
  }
  checkFits(o.model, data);
  const prepared = await data.prepare({
    validationFraction: o.validationFraction,
    seed: o.seed,
    batchSize: o.batchSize,
    augment: o.augment,
  });
  if (prepared.counts.train < o.batchSize) {
    throw new Error(`batch size ${o.batchSize} is larger than the ${prepared.counts.train} training images`);
  }
  const stats = prepared.normalization;
  const model = buildModel(o.model, { seed: o.seed });
  const step = makeTrainStep(model, o);
  const ema = o.emaDecay > 0 ? new WeightAverage(model, o.emaDecay) : null;
  const perEpoch = prepared.stepsPerEpoch;
  const schedule: Schedule = {
    base: o.lr,
    warmupSteps: Math.round(o.warmupEpochs * perEpoch),
    totalSteps: o.epochs * perEpoch,
  };
  checkSchedule(schedule);
  const state: Required<TrainState> = {
    step: 0,
    epoch: 0,
    batch: 0,
    lossSum: 0,
    lossCount: 0,
    cursor: 0,
    skipped: 0,
    run: { options: o, data: data.name },
  };
  if (checkpoint) {
    restoreCheckpoint(checkpointPath, checkpoint, model, step.optimizer, ema);
    const { step: s, epoch, batch, lossSum, lossCount, cursor = batch * o.batchSize, skipped = 0 } = checkpoint.state;
    Object.assign(state, { step: s, epoch, batch, lossSum, lossCount, cursor, skipped });
    truncateMetrics(metricsPath, state.step);
  } else writeFileSync(metricsPath, '');
  const log = (record: Record<string, unknown>) => appendFileSync(metricsPath, `${JSON.stringify(record)}\n`);
  const save = () => saveCheckpoint(checkpointPath, model, step.optimizer, ema, state);
  const shape = { size: data.size, channels: data.channels, classes: data.classes };
  /** Metrics of `split` with the model's weights as they are; skipped files go to onSkip. */
  const evaluateSplit = async (split: Split) => {
    const r = await evaluateBatches(model, prepared.evalBatches(split), shape);
    for (const f of r.skipped) hooks.onSkip?.(f, split);
    return r;
  };
  /** The same with the evaluation weights (the average, when kept) swapped in. */
  const evaluateAveraged = async (split: Split) => {
    const restore = ema?.swapIn();
    try {
      return await evaluateSplit(split);
    } finally {
      restore?.();
    }
  };
  hooks.onStart?.({
    step: state.step,
    totalSteps: schedule.totalSteps,
    resumed: Boolean(checkpoint),
    params: model.countParams(),
  });
  const started = performance.now();
  const [h, w, c] = [data.size, data.size, data.channels];
  const hasValidation = prepared.splits.includes('validation');
  let validationMetrics: Metrics | null = null;
  while (state.epoch < o.epochs) {
    for await (const b of prepared.trainBatches(state.epoch, { batch: state.batch, cursor: state.cursor })) {
      for (const f of b.skipped) hooks.onSkip?.(f, 'train');
      const t0 = performance.now();
      const lr = learningRate(schedule, state.step);
      const loss = tf.tidy(() => step.run(tf.tensor4d(b.x, [b.size, h, w, c]), tf.tensor1d(b.y, 'int32'), lr));
      if (!Number.isFinite(loss)) {
        throw new DivergedError(
          `the loss became ${loss} at step ${state.step + 1} (epoch ${state.epoch + 1}, batch ${state.batch + 1}); ` +
            `training stopped and ${checkpointPath} keeps the last good state — lower the learning rate (${o.lr}) and resume, or start again`,
        );
      }
      ema?.update(state.step);
      state.step++;
      state.batch++;
      state.cursor = b.next;
      state.skipped += b.skipped.length;
      state.lossSum += loss;
      state.lossCount++;
      const imagesPerSecond = (b.size * 1000) / (performance.now() - t0);
      log({ type: 'step', step: state.step, epoch: state.epoch, loss, lr, images_per_s: imagesPerSecond });
      hooks.onStep?.({
        step: state.step,
        totalSteps: schedule.totalSteps,
        epoch: state.epoch,
        batch: state.batch,
        loss,
        lr,
        imagesPerSecond,
      });
      if (state.step % o.checkpointEvery === 0) await save();
    }
    const checked = hasValidation ? await evaluateAveraged('validation') : null;
    validationMetrics = checked?.metrics ?? null;
    const validationSkipped = checked?.skipped.length ?? 0;
    const trainLoss = state.lossCount ? state.lossSum / state.lossCount : Number.NaN;
    log({
      type: 'epoch',
      step: state.step,
      epoch: state.epoch,
      train_loss: trainLoss,
      ...(validationMetrics
        ? { val_top1: validationMetrics.top1, val_top5: validationMetrics.top5, val_loss: validationMetrics.loss }
        : {}),
      ...(data.streamed ? { skipped: state.skipped, ...(checked ? { val_skipped: validationSkipped } : {}) } : {}),
    });
    hooks.onEpoch?.({
      epoch: state.epoch,
      step: state.step,
      trainLoss,
      validation: validationMetrics,
      skipped: state.skipped,
      validationSkipped,
    });
    state.epoch++;
    state.batch = 0;
    state.cursor = 0;
    state.skipped = 0;
    state.lossSum = 0;
    state.lossCount = 0;
    await save();
  }
  const seconds = (performance.now() - started) / 1000;
  if (ema) model.setWeights(ema.shadow);
  ema?.dispose();
  step.optimizer.dispose();
  const tested = prepared.splits.includes('test') ? await evaluateSplit('test') : null; // the average is in place
  const test = tested?.metrics ?? null;
  const metadata = { config: o.model, classNames: data.classNames, normalization: stats, data: data.name };
  await saveModelFiles(model, join(outDir, 'model'), metadata);
  const summary = { data: data.name, steps: state.step, seconds, validation: validationMetrics, test, options: o };
  const skipped = data.streamed && tested ? { test_skipped: tested.skipped.length } : {};
  writeFileSync(join(outDir, 'summary.json'), `${JSON.stringify({ ...summary, ...skipped }, null, 2)}\n`);
  return { model, test, validation: validationMetrics, steps: state.step, seconds, stats };
}
