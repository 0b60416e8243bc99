/**
 * The batches of an epoch streamed from an image folder's file list: decoded concurrently, a few batches
 * ahead of the consumer (data/prefetch.ts), never more in memory, the same contents whatever the timing.
 */
import { epochOrder } from '../dataset.js';
import { mapLimited, prefetch } from '../prefetch.js';
import { decodeRgb, describe, type Plan, type ResizeKernel } from './decode.js';
import type { ImageFile } from './scan.js';
import {
  type CropOptions,
  checkFraction,
  checkSize,
  evalResizeCrop,
  imageAugmentParams,
  normaliser,
  writeNormalised,
} from './transforms.js';

export interface ImageFolderBatchOptions extends CropOptions {
  batchSize: number;
  /** Output side: images come out size × size × 3 (e.g. 224). */
  size: number;
  /** true: random-resized crop + flip; false: resize to size / cropFraction and center crop. */
  train: boolean;
  /** Seeds the order (when shuffled) and the augmentation. Default 0. */
  seed?: number;
  /** 0-based; with `seed`, fixes the order and the augmentation. Default 0. */
  epoch?: number;
  /** Default `train`: shuffle with epochOrder(files.length, seed, epoch); false keeps the list order. */
  shuffle?: boolean;
  /** Per channel (RGB), of pixels in [0, 1]; x = (pixel / 255 − mean) / std. Defaults 0 and 1. */
  mean?: readonly number[];
  std?: readonly number[];
  /** Evaluation crop fraction. Default 0.875 (224 from 256). */
  cropFraction?: number;
  /** Resampling kernel of the resize. Default 'linear' (torchvision's bilinear). */
  kernel?: ResizeKernel;
  /** At most this many files of a batch are read and decoded at once (open files, memory). Default 32. */
  concurrency?: number;
  /** How many batches may be decoded or decoding ahead of the one the consumer holds. Default 2. */
  prefetch?: number;
  /** Throw (naming the file) on a missing or undecodable image instead of skipping it. Default false. */
  strict?: boolean;
  /** Called for each skipped file with its path and the reason. */
  onSkip?: (path: string, reason: string) => void;
  /** Called when the decoding of a file starts (instrumentation). */
  onDecode?: (path: string) => void;
  /** Leave out a last, smaller batch. Default false. */
  dropLast?: boolean;
  /**
   * Start at this position of the epoch order (a batch's `next`, to resume there): the files before it
   * are not read. Default 0.
   */
  from?: number;
}

/** One batch: x [B, size, size, 3] normalised, y [B], the files' paths and positions in the list. */
export interface ImageFolderBatch {
  x: Float32Array;
  y: Int32Array;
  paths: string[];
  indices: Uint32Array;
  size: number;
  /** The files skipped while this batch was filled, with the reasons. */
  skipped: { path: string; reason: string }[];
  /** The position in the epoch order after this batch's files (skipped ones included): where the next begins. */
  next: number;
}

type Decoded =
  | { ok: true; index: number; rgb: Uint8Array; flip: boolean }
  | { ok: false; index: number; error: string };

/** The options of imageFolderBatches with their defaults applied and checked. */
type BatchSettings = Required<
  Pick<
    ImageFolderBatchOptions,
    'batchSize' | 'size' | 'train' | 'seed' | 'epoch' | 'prefetch' | 'strict' | 'dropLast' | 'from' | 'shuffle'
  >
> &
  Required<Pick<ImageFolderBatchOptions, 'concurrency' | 'kernel' | 'cropFraction'>> & {
    crop: CropOptions;
    lut: Float32Array;
  };

const positiveInteger = (v: number) => Number.isInteger(v) && v > 0;

/** Applies the defaults and checks every option, naming it; `fileCount` bounds `from`. */
function batchSettings(options: ImageFolderBatchOptions, fileCount: number): BatchSettings {
  const who = 'imageFolderBatches';
  const { batchSize, size, train, seed = 0, epoch = 0, prefetch = 2, strict = false, dropLast = false } = options;
  const { from = 0, shuffle = train, concurrency = 32, kernel = 'linear', cropFraction = 0.875 } = options;
  const { scale = [0.08, 1], ratio = [3 / 4, 4 / 3] } = options;
  if (!positiveInteger(concurrency))
    throw new Error(`${who}: concurrency must be a positive integer, got ${concurrency}`);
  if (!positiveInteger(batchSize)) throw new Error(`${who}: batchSize must be a positive integer, got ${batchSize}`);
  checkSize(size, who);
  checkFraction(cropFraction, who);
  if (!(Number.isInteger(prefetch) && prefetch >= 0)) {
    throw new Error(`${who}: prefetch must be a non-negative integer, got ${prefetch}`);
  }
  if (!(Number.isInteger(from) && from >= 0 && from <= fileCount)) {
    throw new Error(`${who}: from must be an integer in 0..${fileCount} (the files), got ${from}`);
  }
  if (!(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1)) {
    throw new Error(`${who}: scale must satisfy 0 < min <= max <= 1, got [${scale.join(', ')}]`);
  }
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) {
    throw new Error(`${who}: ratio must satisfy 0 < min <= max, got [${ratio.join(', ')}]`);
  }
  const lut = normaliser(options.mean ?? [0, 0, 0], options.std ?? [1, 1, 1], who);
  const crop: CropOptions = { scale, ratio, flip: options.flip };
  return {
    ...{ batchSize, size, train, seed, epoch, prefetch, strict, dropLast, from, shuffle },
    ...{ concurrency, kernel, cropFraction, crop, lut },
  };
}

/** Packs decoded images into one batch: x [B, size, size, 3] normalised, labels, paths, list positions. */
function packBatch(
  files: readonly ImageFile[],
  got: readonly { index: number; rgb: Uint8Array; flip: boolean }[],
  settings: BatchSettings,
): Omit<ImageFolderBatch, 'skipped' | 'next'> {
  const { size, lut } = settings;
  const per = size * size * 3;
  const x = new Float32Array(got.length * per);
  const y = new Int32Array(got.length);
  const indices = new Uint32Array(got.length);
  const paths: string[] = [];
  got.forEach((g, i) => {
    writeNormalised(g.rgb, x, i * per, size, g.flip, lut);
    y[i] = files[g.index].label;
    indices[i] = g.index;
    paths.push(files[g.index].path);
  });
  return { x, y, paths, indices, size: got.length };
}

/**
 * The epoch's batches, one after another: each is filled from the epoch order, its files decoded
 * `concurrency` at a time, a file that fails skipped (or, `strict`, thrown naming it) and its place taken by
 * the next ones. Stops at the end of the epoch, or when the consumer returns it.
 */
async function* decodedBatches(
  files: readonly ImageFile[],
  options: ImageFolderBatchOptions,
  settings: BatchSettings,
): AsyncGenerator<ImageFolderBatch> {
  const { batchSize, size, train, seed, epoch, strict, dropLast, concurrency, kernel, cropFraction } = settings;
  const order = settings.shuffle ? epochOrder(files.length, seed, epoch) : Uint32Array.from(files, (_, i) => i);
  const planFor =
    (index: number) =>
    (width: number, height: number): Plan =>
      train
        ? { kind: 'train', ...imageAugmentParams(seed, epoch, index, width, height, settings.crop) }
        : { kind: 'eval', ...evalResizeCrop(width, height, size, cropFraction) };
  const decode = async (index: number): Promise<Decoded> => {
    const { path } = files[index];
    options.onDecode?.(path);
    try {
      return { ok: true, index, ...(await decodeRgb(path, size, kernel, planFor(index))) };
    } catch (e) {
      return { ok: false, index, error: describe(e) };
    }
  };
  let cursor = settings.from;
  while (cursor < order.length) {
    const got: { index: number; rgb: Uint8Array; flip: boolean }[] = [];
    const skipped: { path: string; reason: string }[] = [];
    while (got.length < batchSize && cursor < order.length) {
      const take = Array.from(order.subarray(cursor, Math.min(order.length, cursor + batchSize - got.length)));
      cursor += take.length;
      for (const r of await mapLimited(take, concurrency, decode)) {
        if (r.ok) {
          got.push(r);
          continue;
        }
        const { path } = files[r.index];
        if (strict) throw new Error(`${path}: ${r.error}`);
        skipped.push({ path, reason: r.error });
        options.onSkip?.(path, r.error);
      }
    }
    if (got.length === 0 || (dropLast && got.length < batchSize)) return;
    yield { ...packBatch(files, got, settings), skipped, next: cursor };
  }
}

/**
 * Streams the epoch's batches of `files` from disk. Each batch's images are decoded concurrently, and at
 * most `prefetch` batches are decoded ahead of the one the consumer holds; batches are filled in order, so
 * their contents depend only on (files, seed, epoch), never on timing. A missing or undecodable file is
 * skipped (onSkip, `skipped`) and its place taken by the next files of the epoch order, so every batch but
 * the last is full; with `strict` the generator throws an error naming the file instead. Each batch's `next`
 * is where the following one starts, so `from: next` resumes the epoch there without reading earlier files.
 */
export async function* imageFolderBatches(
  files: readonly ImageFile[],
  options: ImageFolderBatchOptions,
): AsyncGenerator<ImageFolderBatch> {
  const settings = batchSettings(options, files.length);
  yield* prefetch(decodedBatches(files, options, settings), settings.prefetch);
}
