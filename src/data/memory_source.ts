/**
 * An in-memory dataset (IDX, CIFAR) as a DataSource: the seeded validation split, normalisation by the
 * training part's channel statistics, and batches from batches.ts (pad-and-crop and flip when augmented).
 */
import { batchCount, batches } from './batches.js';
import { channelStats, type ImageDataset, splitTrainValidation } from './dataset.js';
import type { DataBatch, DataSource, Split, TrainData } from './source.js';

/** The batches of `gen` as DataBatches; `first` is the position in the order of its first image. */
async function* eager(gen: Iterable<{ x: Float32Array; y: Int32Array; size: number }>, first: number) {
  let next = first;
  for (const b of gen) {
    next += b.size;
    const batch: DataBatch = { x: b.x, y: b.y, size: b.size, next, skipped: [] };
    yield batch;
  }
}

/** Images per evaluation batch. */
const EVAL_BATCH = 256;

/** A data set loaded in memory (data/spec.ts loadData): its train and optional test images. */
export interface LoadedData {
  name: string;
  train: ImageDataset;
  test?: ImageDataset;
  classNames: string[];
}

/** `data` as a DataSource; its images must be square. */
export function memorySource(data: LoadedData): DataSource {
  const { height, width, channels, classes } = data.train;
  if (height !== width) throw new Error(`${data.name}: images are ${height}×${width}; square images are needed`);
  const test = data.test;
  if (test && (test.height !== height || test.width !== width || test.channels !== channels)) {
    throw new Error(
      `${data.name}: test images are ${test.height}×${test.width}×${test.channels}, ` +
        `the training images ${height}×${width}×${channels}; they must be the same`,
    );
  }
  return {
    name: data.name,
    size: height,
    channels,
    classes,
    classNames: data.classNames,
    counts: { train: data.train.count, test: data.test?.count ?? 0 },
    streamed: false,
    async prepare({ validationFraction, seed, batchSize, augment }): Promise<TrainData> {
      const { train, validation } =
        validationFraction > 0
          ? splitTrainValidation(data.train, validationFraction, seed)
          : { train: data.train, validation: null };
      const stats = channelStats(train);
      const parts: Record<Split, ImageDataset | null> = { train, validation, test: data.test ?? null };
      return {
        counts: { train: train.count, validation: validation?.count ?? 0, test: data.test?.count ?? 0 },
        stepsPerEpoch: batchCount(train.count, batchSize, true),
        splits: (['train', 'validation', 'test'] as const).filter((k) => parts[k] !== null),
        normalization: stats,
        trainBatches(epoch, start) {
          const order = { batchSize, seed, epoch, augment, dropLast: true, fromBatch: start.batch };
          return eager(batches(train, { ...order, ...stats }), start.batch * batchSize);
        },
        evalBatches(split, { batchSize: size = EVAL_BATCH, normalization = stats } = {}) {
          const ds = parts[split];
          if (!ds) throw new Error(`${data.name} has no ${split} split`);
          return eager(batches(ds, { batchSize: size, shuffle: false, ...normalization }), 0);
        },
      };
    },
  };
}
