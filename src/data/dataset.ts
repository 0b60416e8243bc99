/** In-memory image datasets: the common shape, labels check, seeded split, per-epoch order, channel statistics. */
import { hashInts, permutation, rng } from './random.js';

/** Images as bytes, HWC per image: `images` is [count, height, width, channels], `labels` is [count]. */
export interface ImageSet {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/** An ImageSet whose labels are class indices in 0..classes-1. */
export interface ImageDataset extends ImageSet {
  classes: number;
}

/** Per-channel mean and standard deviation of pixel values scaled to [0, 1]; each has `channels` entries. */
export interface ChannelStats {
  mean: number[];
  std: number[];
}

/** `set` with its class count, after checking every label is below it (`source` names the data in errors). */
export function withClasses(set: ImageSet, classes: number, source = 'dataset'): ImageDataset {
  if (!Number.isInteger(classes) || classes < 1)
    throw new Error(`${source}: classes must be a positive integer, got ${classes}`);
  checkShape(set, source);
  for (let i = 0; i < set.count; i++) {
    if (set.labels[i] >= classes) {
      throw new Error(`${source}: label ${set.labels[i]} of image ${i} is out of range 0..${classes - 1}`);
    }
  }
  return { ...set, classes };
}

/** Throws unless the arrays' lengths match count, height, width and channels. */
export function checkShape(set: ImageSet, source = 'dataset'): void {
  const per = set.height * set.width * set.channels;
  if (set.images.length !== set.count * per) {
    throw new Error(`${source}: ${set.images.length} image bytes, expected ${set.count} × ${per}`);
  }
  if (set.labels.length !== set.count) {
    throw new Error(`${source}: ${set.labels.length} labels, expected ${set.count}`);
  }
}

/** The images at `indices`, in that order, as a new dataset (copies the bytes). */
export function subset(ds: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const per = ds.height * ds.width * ds.channels;
  const images = new Uint8Array(indices.length * per);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    if (!(j >= 0 && j < ds.count)) throw new Error(`subset: index ${j} is outside 0..${ds.count - 1}`);
    images.set(ds.images.subarray(j * per, (j + 1) * per), i * per);
    labels[i] = ds.labels[j];
  }
  return { ...ds, images, labels, count: indices.length };
}

/**
 * Holds out round(fraction × count) images, chosen by `seed`, as the validation set (the paper held out
 * 4 % of ImageNet's training set). Both parts keep the original order; the same (ds, fraction, seed)
 * always gives the same split.
 */
export function splitTrainValidation(
  ds: ImageDataset,
  fraction: number,
  seed: number,
): { train: ImageDataset; validation: ImageDataset } {
  if (!(fraction >= 0 && fraction < 1))
    throw new Error(`splitTrainValidation: fraction must be in [0, 1), got ${fraction}`);
  const order = permutation(ds.count, rng(hashInts(seed, 0x5711)));
  const n = Math.round(fraction * ds.count);
  const validation = order.subarray(0, n).sort();
  const train = order.subarray(n).sort();
  return { train: subset(ds, train), validation: subset(ds, validation) };
}

/** The order of `count` images in epoch `epoch` (0-based) for `seed`: the same permutation every time. */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  return permutation(count, rng(hashInts(seed, epoch, 0xe90c)));
}

/** Per-channel mean and (population) standard deviation of the pixels, scaled to [0, 1]. */
export function channelStats(ds: ImageSet): ChannelStats {
  const c = ds.channels;
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  const { images } = ds;
  for (let i = 0; i < images.length; i++) {
    const v = images[i];
    sum[i % c] += v;
    sq[i % c] += v * v;
  }
  const n = images.length / c;
  const mean: number[] = [];
  const std: number[] = [];
  for (let k = 0; k < c; k++) {
    const m = sum[k] / n;
    mean.push(m / 255);
    std.push(Math.sqrt(Math.max(0, sq[k] / n - m * m)) / 255);
  }
  return { mean, std };
}
