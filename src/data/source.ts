/**
 * What training and evaluation read, whatever holds the images: a DataSource describes the data (image
 * size, channels, classes) and, given a run's split and batch options, prepares TrainData, which gives
 * an epoch's batches from any position (to resume) and each split's evaluation batches. Implemented by
 * in-memory datasets (memory_source.ts) and by image folders streamed from disk (folder_source.ts).
 */

/** Per channel, of pixels in [0, 1]: x = (pixel / 255 − mean) / std. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/** A file left out of a batch because it is missing or cannot be decoded. */
export interface SkippedFile {
  path: string;
  reason: string;
}

/** One batch: x [B, size, size, channels] normalised, y [B] class indices. */
export interface DataBatch {
  x: Float32Array;
  y: Int32Array;
  size: number;
  /** Position in the epoch's order after this batch (skipped files included): where the next batch starts. */
  next: number;
  /** Files skipped while this batch was filled (never any for in-memory data). */
  skipped: SkippedFile[];
}

/** Where an epoch continues: after `batch` batches, at position `cursor` of the epoch's order (a batch's `next`). */
export interface EpochPosition {
  batch: number;
  cursor: number;
}

/**
 * What `DataSource.prepare` takes from the run: the held-out fraction, the seed, the batch size and
 * whether to augment (all required).
 */
export interface PrepareOptions {
  /** Fraction of the training images held out (seeded) for validation, in [0, 1). */
  validationFraction: number;
  /** Seeds the split, the order of every epoch and the augmentation. */
  seed: number;
  batchSize: number;
  /** Augment training batches (the source's own augmentation). */
  augment: boolean;
}

/**
 * A data split: the training part, the part of the training data held out for validation, or the test
 * set.
 */
export type Split = 'train' | 'validation' | 'test';

/**
 * Options of `TrainData.evalBatches`: the batch size (default: the source's) and the normalisation
 * (default: the training one).
 */
export interface EvalBatchOptions {
  batchSize?: number;
  normalization?: Normalization;
}

/** A source prepared for one run: split, normalisation and batches. */
export interface TrainData {
  /** Images per split (files for a folder, before any is skipped); 0 for a split the data lacks. */
  counts: Record<Split, number>;
  /** Full batches per training epoch (a last, smaller one is dropped); an epoch ends early if files are skipped. */
  stepsPerEpoch: number;
  /** The splits evalBatches gives: train, validation when a fraction is held out, test when the source has one. */
  splits: Split[];
  /** The training normalisation (recorded with the model). */
  normalization: Normalization;
  /**
   * The training batches of `epoch` (0-based) from `start` on: order and augmentation are functions of
   * (seed, epoch, image), so they are the same whenever an epoch is (re)started. Files skipped after the
   * last full batch are reported with it, and its `next` is the end of the epoch.
   */
  trainBatches(epoch: number, start: EpochPosition): AsyncIterable<DataBatch>;
  /**
   * A split in order, without augmentation, every image (a last, smaller batch included); options:
   * `batchSize` (default: the source's) and `normalization` (default: the training one).
   */
  evalBatches(split: Split, options?: EvalBatchOptions): AsyncIterable<DataBatch>;
}

/** A data source: square images of `size` with `channels`, labelled with `classes` classes. */
export interface DataSource {
  name: string;
  size: number;
  channels: number;
  classes: number;
  classNames: string[];
  /** Images in the training and test parts, before any split. */
  counts: { train: number; test: number };
  /** Decoded from files as batches are drawn: unreadable files are skipped and counted (or fail, if strict). */
  streamed: boolean;
  /** The training and validation data for one run (split, normalisation, batching as `options` say). */
  prepare(options: PrepareOptions): Promise<TrainData>;
}
