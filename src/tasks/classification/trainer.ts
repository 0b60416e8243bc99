/**
 * Image-classification training (SASA.md §5) on an in-memory dataset: Nesterov SGD, weight decay
 * not on BN and biases, linear warm-up then cosine decay, label smoothing, an exponential moving
 * average of the weights used for evaluation, a seeded validation split, checkpoints written
 * atomically every N steps and at every epoch end, and an exact resume: the data order and the
 * augmentation are functions of (seed, epoch, index), the model's initial weights of the seed, and
 * the checkpoint holds the weights, BN statistics, SGD velocities, weight averages and position.
 *
 * Files in `outDir`: checkpoint.safetensors, metrics.jsonl (one line per step and per epoch),
 * model/ (the final evaluation weights as tfjs model files) and summary.json.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { batchCount, batches } from '../../data/batches.js';
import { channelStats, type ImageDataset, splitTrainValidation } from '../../data/dataset.js';
import type { LoadedData } from '../../data/spec.js';
import { saveModelFiles } from '../../io/model_files.js';
import { buildModel } from '../../models/builder.js';
import type { ModelConfig } from '../../models/config.js';
import { readCheckpoint, restoreCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';
import { WeightAverage } from './ema.js';
import { type Metrics, MetricsAccumulator } from './evaluate.js';
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
}

export interface TrainHooks {
  onStep?(info: StepInfo): void;
  onEpoch?(info: EpochInfo): void;
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

/** Evaluates `model` on a dataset (in order, no augmentation, normalised with `stats`). */
export function evaluate(
  model: tf.LayersModel,
  ds: ImageDataset,
  stats: { mean: number[]; std: number[] },
  batchSize = 256,
): Metrics {
  const acc = new MetricsAccumulator(ds.classes);
  for (const b of batches(ds, { batchSize, shuffle: false, ...stats })) {
    tf.tidy(() => {
      const x = tf.tensor4d(b.x, [b.size, ds.height, ds.width, ds.channels]);
      acc.add(model.apply(x, { training: false }) as tf.Tensor2D, b.y);
    });
  }
  return acc.result();
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

/** Trains (or, with `resume`, continues) a classifier; returns the model with its evaluation weights. */
export async function train(
  requested: TrainOptions,
  data: LoadedData,
  outDir: string,
  { resume = false, hooks = {} }: { resume?: boolean; hooks?: TrainHooks } = {},
): Promise<TrainResult> {
  mkdirSync(outDir, { recursive: true });
  const checkpointPath = join(outDir, CHECKPOINT);
  const metricsPath = join(outDir, METRICS);
  const checkpoint = resume ? await readCheckpoint(checkpointPath) : null;
  const o = checkpoint ? (checkpoint.state.run.options as TrainOptions) : requested;
  checkOptions(o);
  if (checkpoint && checkpoint.state.run.data !== data.name) {
    throw new Error(`${checkpointPath}: the checkpoint trained on '${checkpoint.state.run.data}', not '${data.name}'`);
  }
  const { train: trainSet, validation } =
    o.validationFraction > 0
      ? splitTrainValidation(data.train, o.validationFraction, o.seed)
      : { train: data.train, validation: null };
  if (trainSet.count < o.batchSize) {
    throw new Error(`batch size ${o.batchSize} is larger than the ${trainSet.count} training images`);
  }
  const stats = channelStats(trainSet);
  const model = buildModel(o.model, { seed: o.seed });
  const step = makeTrainStep(model, o);
  const ema = o.emaDecay > 0 ? new WeightAverage(model, o.emaDecay) : null;
  const perEpoch = batchCount(trainSet.count, o.batchSize, true);
  const schedule: Schedule = {
    base: o.lr,
    warmupSteps: Math.round(o.warmupEpochs * perEpoch),
    totalSteps: o.epochs * perEpoch,
  };
  checkSchedule(schedule);
  const state: TrainState = {
    step: 0,
    epoch: 0,
    batch: 0,
    lossSum: 0,
    lossCount: 0,
    run: { options: o, data: data.name },
  };
  if (checkpoint) {
    restoreCheckpoint(checkpointPath, checkpoint, model, step.optimizer, ema);
    const { step: s, epoch, batch, lossSum, lossCount } = checkpoint.state;
    Object.assign(state, { step: s, epoch, batch, lossSum, lossCount });
    truncateMetrics(metricsPath, state.step);
  } else writeFileSync(metricsPath, '');
  const log = (record: Record<string, unknown>) => appendFileSync(metricsPath, `${JSON.stringify(record)}\n`);
  const save = () => saveCheckpoint(checkpointPath, model, step.optimizer, ema, state);
  const evalWeights = <T>(fn: () => T): T => {
    const restore = ema?.swapIn();
    try {
      return fn();
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
  const [h, w, c] = [trainSet.height, trainSet.width, trainSet.channels];
  let validationMetrics: Metrics | null = null;
  while (state.epoch < o.epochs) {
    const order = { batchSize: o.batchSize, seed: o.seed, epoch: state.epoch, augment: o.augment, dropLast: true };
    for (const b of batches(trainSet, { ...order, ...stats, fromBatch: state.batch })) {
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
    validationMetrics = validation ? evalWeights(() => evaluate(model, validation, stats)) : null;
    const trainLoss = state.lossCount ? state.lossSum / state.lossCount : Number.NaN;
    log({
      type: 'epoch',
      step: state.step,
      epoch: state.epoch,
      train_loss: trainLoss,
      ...(validationMetrics
        ? { val_top1: validationMetrics.top1, val_top5: validationMetrics.top5, val_loss: validationMetrics.loss }
        : {}),
    });
    hooks.onEpoch?.({ epoch: state.epoch, step: state.step, trainLoss, validation: validationMetrics });
    state.epoch++;
    state.batch = 0;
    state.lossSum = 0;
    state.lossCount = 0;
    await save();
  }
  const seconds = (performance.now() - started) / 1000;
  if (ema) model.setWeights(ema.shadow);
  ema?.dispose();
  step.optimizer.dispose();
  const test = data.test ? evaluate(model, data.test, stats) : null;
  const metadata = { config: o.model, classNames: data.classNames, normalization: stats, data: data.name };
  await saveModelFiles(model, join(outDir, 'model'), metadata);
  writeFileSync(
    join(outDir, 'summary.json'),
    `${JSON.stringify({ data: data.name, steps: state.step, seconds, validation: validationMetrics, test, options: o }, null, 2)}\n`,
  );
  return { model, test, validation: validationMetrics, steps: state.step, seconds, stats };
}
