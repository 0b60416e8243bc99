/** Mini-batches as plain typed arrays: seeded order, pad-and-crop and flip augmentation, normalisation. */
import { epochOrder, type ImageDataset } from './dataset.js';
import { hashInts, rng } from './random.js';

/** Augmentation of small images: zero pad by `pad` then a random crop back to size, and a random horizontal flip. */
export interface AugmentOptions {
  /** Default: 4 for images of 32 pixels or more, 2 below (28×28). */
  pad?: number;
  /** Default true. */
  flip?: boolean;
}

/**
 * Options of {@link batches} over an in-memory dataset: batch size, order, augmentation, normalisation,
 * and where in the epoch to start.
 */
export interface BatchOptions {
  batchSize: number;
  /** Seeds the order (when shuffled) and the augmentation. Default 0. */
  seed?: number;
  /** 0-based; with `seed`, fixes the order and augmentation, so a resumed run continues the same data. Default 0. */
  epoch?: number;
  /** Default true; false keeps the dataset order (evaluation). */
  shuffle?: boolean;
  /** Default false (none). */
  augment?: boolean | AugmentOptions;
  /** Per channel, of pixels in [0, 1]; x = (pixel / 255 − mean) / std. Defaults 0 and 1. */
  mean?: number[];
  std?: number[];
  /** Leave out a last, smaller batch. Default false. */
  dropLast?: boolean;
  /** Start at this batch of the epoch (to resume). Default 0. */
  fromBatch?: number;
}

/** One batch: x [B, H, W, C] normalised, y [B] class indices, indices [B] of the images in the dataset. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  indices: Uint32Array;
  size: number;
}

/** The crop offsets (dy, dx in −pad..pad) and flip of image `index` in `epoch` for `seed`. */
export function augmentParams(
  seed: number,
  epoch: number,
  index: number,
  pad: number,
  flip = true,
): { dy: number; dx: number; flip: boolean } {
  const r = rng(hashInts(seed, epoch, index, 0xa06));
  const dy = Math.floor(r() * (2 * pad + 1)) - pad;
  const dx = Math.floor(r() * (2 * pad + 1)) - pad;
  return { dy, dx, flip: r() < 0.5 && flip };
}

/** The number of batches `batches(ds, options)` yields for the whole epoch. */
export function batchCount(count: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** Yields the epoch's batches (see BatchOptions); pure TypeScript, no tensors. */
export function* batches(ds: ImageDataset, options: BatchOptions): Generator<Batch> {
  const { batchSize, seed = 0, epoch = 0, shuffle = true, dropLast = false, fromBatch = 0 } = options;
  const { height: h, width: w, channels: c } = ds;
  if (!(Number.isInteger(batchSize) && batchSize > 0))
    throw new Error(`batches: batchSize must be a positive integer, got ${batchSize}`);
  if (!(Number.isInteger(fromBatch) && fromBatch >= 0)) {
    throw new Error(`batches: fromBatch must be a non-negative integer, got ${fromBatch}`);
  }
  const mean = options.mean ?? new Array(c).fill(0);
  const std = options.std ?? new Array(c).fill(1);
  if (mean.length !== c || std.length !== c) {
    throw new Error(`batches: mean and std need ${c} values (one per channel), got ${mean.length} and ${std.length}`);
  }
  if (std.some((s) => !(s > 0))) throw new Error(`batches: std must be positive, got [${std.join(', ')}]`);
  const aug = options.augment === true ? {} : options.augment || null;
  const pad = aug ? (aug.pad ?? (Math.min(h, w) >= 32 ? 4 : 2)) : 0;
  const flip = aug ? aug.flip !== false : false;
  // lut[ch * 256 + v]: the normalised value of byte v in channel ch.
  const lut = new Float32Array(c * 256);
  for (let ch = 0; ch < c; ch++) for (let v = 0; v < 256; v++) lut[ch * 256 + v] = (v / 255 - mean[ch]) / std[ch];
  const order = shuffle ? epochOrder(ds.count, seed, epoch) : Uint32Array.from({ length: ds.count }, (_, i) => i);
  const per = h * w * c;
  const total = batchCount(ds.count, batchSize, dropLast);
  for (let b = fromBatch; b < total; b++) {
    const indices = order.slice(b * batchSize, Math.min(ds.count, (b + 1) * batchSize));
    const size = indices.length;
    const x = new Float32Array(size * per);
    const y = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const j = indices[i];
      y[i] = ds.labels[j];
      const p = aug ? augmentParams(seed, epoch, j, pad, flip) : { dy: 0, dx: 0, flip: false };
      writeImage(ds.images, j * per, x, i * per, h, w, c, p, lut);
    }
    yield { x, y, indices, size };
  }
}

/** Writes one image, shifted by (dy, dx) with zero fill and optionally mirrored, normalised through `lut`. */
function writeImage(
  src: Uint8Array,
  so: number,
  dst: Float32Array,
  d0: number,
  h: number,
  w: number,
  c: number,
  p: { dy: number; dx: number; flip: boolean },
  lut: Float32Array,
): void {
  let d = d0;
  for (let r = 0; r < h; r++) {
    const sr = r + p.dy;
    for (let col = 0; col < w; col++) {
      const sc = (p.flip ? w - 1 - col : col) + p.dx;
      const inside = sr >= 0 && sr < h && sc >= 0 && sc < w;
      const s = so + (sr * w + sc) * c;
      for (let ch = 0; ch < c; ch++) dst[d++] = lut[ch * 256 + (inside ? src[s + ch] : 0)];
    }
  }
}
