/**
 * What a classification run tells its callbacks (training/callbacks.ts), and the lines its metrics
 * log writes: `{type: 'step', step, epoch, loss, lr, images_per_s}` per step, `{type: 'epoch', step,
 * epoch, train_loss, val_top1?, val_top5?, val_loss?, skipped?, val_skipped?}` per epoch, and
 * `{type: 'resume', step, changed: {option: [from, to]}}` where a resume changed options.
 */

import type { SkippedFile, Split } from '../../data/source.js';
import type * as tf from '../../tf.js';
import type { CallbackList, TrainingCallback } from '../training/callbacks.js';
import type { MetricsRecords } from '../training/metrics_log.js';
import type { OptionChange } from '../training/resume_options.js';
import type { Metrics } from './evaluate.js';
import type { TrainOptions } from './options.js';

/**
 * What a classification run tells its callbacks when it begins: where it starts, its total steps, whether
 * it resumes, the model's parameter count, and the options it trains with.
 */
export interface TrainBeginLogs {
  /** The step training starts at (0, or the checkpoint's on a resume). */
  step: number;
  totalSteps: number;
  resumed: boolean;
  params: number;
  /** The options the run trains with (on a resume: the stored ones with the applied changes). */
  options: TrainOptions;
  /** Options this resume changed (empty when none). */
  changes: OptionChange[];
}

/**
 * What a classification run tells its callbacks after each step: steps taken (this one included) of
 * `totalSteps`, the epoch (0-based) and the batches done in it, the batch's loss (before the update), the
 * learning rate it trained at, and images per second of the step.
 */
export interface StepLogs {
  step: number;
  totalSteps: number;
  epoch: number;
  batch: number;
  loss: number;
  lr: number;
  imagesPerSecond: number;
}

/**
 * What a classification run tells its callbacks at the end of an epoch: the epoch (0-based), the steps
 * taken, the epoch's mean training loss, the validation metrics (null without a validation split) and the
 * files skipped.
 */
export interface EpochLogs {
  epoch: number;
  step: number;
  trainLoss: number;
  validation: Metrics | null;
  /** Files a streamed source skipped this epoch: training files, and validation files. */
  skipped: number;
  validationSkipped: number;
  /** True when the source streams (its epoch lines count skipped files). */
  streamed: boolean;
}

/**
 * What {@link train} resolves to: the model with its evaluation weights (the weight average when on), the
 * test and validation metrics (null where the data lacks the split), the steps taken, the training seconds
 * of this process and the training normalisation.
 */
export interface TrainResult {
  model: tf.LayersModel;
  test: Metrics | null;
  validation: Metrics | null;
  steps: number;
  seconds: number;
  stats: { mean: number[]; std: number[] };
}

/** A callback of a classification run; `onSkip` is called for each file a streamed source skips. */
export interface ClassificationCallback extends TrainingCallback<TrainBeginLogs, StepLogs, EpochLogs, TrainResult> {
  /** A file of a streamed split that could not be decoded and was skipped. */
  onSkip?(file: SkippedFile, split: Split): void;
}

/** The metrics.jsonl lines of a step and of an epoch. */
export const METRICS_RECORDS: MetricsRecords<StepLogs, EpochLogs> = {
  batch: (s) => ({
    type: 'step',
    step: s.step,
    epoch: s.epoch,
    loss: s.loss,
    lr: s.lr,
    images_per_s: s.imagesPerSecond,
  }),
  epoch: (e) => ({
    type: 'epoch',
    step: e.step,
    epoch: e.epoch,
    train_loss: e.trainLoss,
    ...(e.validation ? { val_top1: e.validation.top1, val_top5: e.validation.top5, val_loss: e.validation.loss } : {}),
    ...(e.streamed ? { skipped: e.skipped, ...(e.validation ? { val_skipped: e.validationSkipped } : {}) } : {}),
  }),
};

/** The metrics.jsonl line of a resume that changed options, at the step it continues from. */
export function resumeRecord(step: number, changes: readonly OptionChange[]) {
  return { type: 'resume', step, changed: Object.fromEntries(changes.map((c) => [c.option, [c.from, c.to]])) };
}

/** The callback list a run calls. */
export type RunCallbacks = CallbackList<TrainBeginLogs, StepLogs, EpochLogs, TrainResult>;

/** Where a run reports a file its source skipped. */
export type OnSkip = (file: SkippedFile, split: Split) => void;
