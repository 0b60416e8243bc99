/**
 * An image folder as a DataSource, streamed: DIR/<class>/<image> (the training part; no test split), or
 * DIR/train/<class>/… with DIR/test/… (else DIR/val/…) as the test part. Training batches are random-resized
 * crops and flips fixed by (seed, epoch, file), evaluation batches the resized center crop (evalCropFraction),
 * normalised with ImageNet's mean and std; a few batches at most are held in memory.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type ImageFile, scanImageFolder, splitFileList } from './image_folder/scan.js';
import { type ImageFolderBatch, imageFolderBatches } from './image_folder/stream.js';
import { evalCropFraction, IMAGENET_MEAN, IMAGENET_STD } from './image_folder/transforms.js';
import type { DataBatch, DataSource, Normalization, Split, TrainData } from './source.js';

/** Options of {@link imageFolderSource}: the image side, strictness, read-ahead and the data's name. */
export interface FolderSourceOptions {
  /** Side of the square images the batches hold (the crop size), e.g. 224. */
  size: number;
  /** Fail on the first missing or undecodable file, naming it, instead of skipping it. Default false. */
  strict?: boolean;
  /** Batches decoded ahead of the one in use. Default 2. */
  prefetch?: number;
  /** Names the data in messages and checkpoints. Default `folder (DIR)`. */
  name?: string;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** The training and test folders of `dir`: train/ with test/ (or val/) when both exist, else `dir` alone. */
async function layout(dir: string): Promise<{ train: string; test: string | null }> {
  if (!(await isDirectory(join(dir, 'train')))) return { train: dir, test: null };
  for (const name of ['test', 'val']) {
    if (await isDirectory(join(dir, name))) return { train: join(dir, 'train'), test: join(dir, name) };
  }
  return { train: dir, test: null };
}

function toBatch(b: ImageFolderBatch): DataBatch {
  return { x: b.x, y: b.y, size: b.size, next: b.next, skipped: b.skipped };
}

/**
 * The full batches of `gen` (every batch but a last, smaller one); the files skipped while that last one
 * was filled are reported with the last full batch, whose `next` becomes the end of the epoch.
 */
async function* fullBatches(gen: AsyncIterable<ImageFolderBatch>, batchSize: number): AsyncGenerator<DataBatch> {
  let held: DataBatch | null = null;
  for await (const b of gen) {
    if (b.size < batchSize) {
      if (held) {
        held.skipped.push(...b.skipped);
        held.next = b.next;
      }
      break;
    }
    if (held) yield held;
    held = toBatch(b);
  }
  if (held) yield held;
}

async function* allBatches(gen: AsyncIterable<ImageFolderBatch>): AsyncGenerator<DataBatch> {
  for await (const b of gen) yield toBatch(b);
}

/** Scans `dir` (errors name an empty class folder, a missing folder, …) and describes it as a DataSource. */
export async function imageFolderSource(dir: string, options: FolderSourceOptions): Promise<DataSource> {
  const { size, strict = false, prefetch = 2 } = options;
  if (!(Number.isInteger(size) && size > 0)) throw new Error(`image size must be a positive integer, got ${size}`);
  const where = await layout(dir);
  const trainFolder = await scanImageFolder(where.train);
  const testFolder = where.test ? await scanImageFolder(where.test) : null;
  if (testFolder && testFolder.classes.join('\n') !== trainFolder.classes.join('\n')) {
    const only = (a: string[], b: string[]) => a.filter((c) => !b.includes(c)).join(', ') || 'none';
    throw new Error(
      `${dir}: the class folders of ${where.train} and ${where.test} differ ` +
        `(only in the first: ${only(trainFolder.classes, testFolder.classes)}; only in the second: ${only(testFolder.classes, trainFolder.classes)})`,
    );
  }
  const stats: Normalization = { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
  const cropFraction = evalCropFraction(size);
  return {
    name: options.name ?? `folder (${dir})`,
    size,
    channels: 3,
    classes: trainFolder.classes.length,
    classNames: trainFolder.classes,
    counts: { train: trainFolder.files.length, test: testFolder?.files.length ?? 0 },
    streamed: true,
    async prepare({ validationFraction, seed, batchSize, augment }): Promise<TrainData> {
      const { train, validation } = splitFileList(trainFolder.files, validationFraction, seed);
      const parts: Record<Split, ImageFile[] | null> = {
        train,
        validation: validationFraction > 0 ? validation : null,
        test: testFolder?.files ?? null,
      };
      const common = { batchSize, size, seed, strict, prefetch, cropFraction };
      return {
        counts: { train: train.length, validation: validation.length, test: parts.test?.length ?? 0 },
        stepsPerEpoch: Math.floor(train.length / batchSize),
        splits: (['train', 'validation', 'test'] as const).filter((k) => parts[k] !== null),
        normalization: stats,
        trainBatches(epoch, start) {
          const order = { ...common, ...stats, epoch, train: augment, shuffle: true, from: start.cursor };
          return fullBatches(imageFolderBatches(train, order), batchSize);
        },
        evalBatches(split, { batchSize: evalBatchSize = batchSize, normalization = stats } = {}) {
          const files = parts[split];
          if (!files) throw new Error(`${dir} has no ${split} split`);
          const o = { ...common, ...normalization, batchSize: evalBatchSize, train: false, shuffle: false };
          return allBatches(imageFolderBatches(files, o));
        },
      };
    },
  };
}
