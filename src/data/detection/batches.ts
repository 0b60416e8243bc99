/**
 * Detection batches streamed from disk: each image decoded (decode.ts), normalised, resized so its shorter
 * side is S (multiscale jitter: S drawn per image and epoch) with the longer side at most maxSize, flipped
 * with probability ½ when augmenting, then the batch padded at the bottom and right to a common size
 * divisible by `divisor`. Order and augmentation are functions of (seed, epoch, image), so a batch's `next`
 * resumes the epoch exactly; a few batches at most are decoded ahead (prefetch.ts).
 */
import { readFailure } from '../../io/files.js';
import { epochOrder } from '../dataset.js';
import { mapLimited, prefetch } from '../prefetch.js';
import type { DetectionImage, DetectionSet, SkippedAnnotation } from './annotations.js';
import { decodeRgb, normalizeRgb } from './decode.js';
import {
  type Boxed,
  checkScaleChoice,
  flipHorizontal,
  largestScale,
  pickFlip,
  pickScale,
  resizeShorterSide,
  roundUp,
  type ScaleChoice,
} from './transforms.js';

/**
 * Options of {@link detectionBatches}: batch size, resizing and padding, augmentation, normalisation, order,
 * read-ahead, and where in the epoch to start.
 */
export interface DetectionBatchOptions {
  batchSize: number;
  /** Shorter side after resizing: fixed, or jittered (a list, or {min, max}) when augmenting. */
  shorterSide: ScaleChoice;
  /** Longer side at most this (aspect kept). */
  maxSize: number;
  /** Augment: random flip and jittered shorter side; without it a jittered choice gives its largest value. */
  augment?: boolean;
  /** The padded sides are multiples of this. Default 128. */
  divisor?: number;
  /** Per channel (RGB) of pixels in [0, 1]; default ImageNet's. */
  mean?: readonly number[];
  std?: readonly number[];
  /** Seeds the order (when shuffled) and the augmentation. Default 0. */
  seed?: number;
  /** 0-based. Default 0. */
  epoch?: number;
  /** Default `augment`: shuffle with epochOrder(images, seed, epoch); false keeps the set's order. */
  shuffle?: boolean;
  /** Batches decoded ahead of the one the consumer holds. Default 2. */
  prefetch?: number;
  /** Images of a batch decoded at once. Default 8. */
  concurrency?: number;
  /** Throw (naming the file) on an image that cannot be read, instead of skipping it. Default false. */
  strict?: boolean;
  /** Leave out a last, smaller batch. Default false. */
  dropLast?: boolean;
  /** Start at this position of the epoch order (a batch's `next`). Default 0. */
  from?: number;
}

/** Something left out of a batch: an image file (no annotationId) or one of its annotations. */
export interface DetectionSkip {
  path: string;
  imageId: number;
  annotationId?: number;
  reason: string;
}

/** A batch of B images padded to height × width. */
export interface DetectionBatch {
  /** [B, height, width, 3] normalised; padding is 0. */
  x: Float32Array;
  size: number;
  height: number;
  width: number;
  /** Per image: xyxy [N_i * 4] in the batch's pixels (after resize and flip). */
  boxes: Float32Array[];
  /** Per image: class indices [N_i]. */
  labels: Int32Array[];
  imageIds: number[];
  /** [B * 2]: (scaleX, scaleY); original coordinates = batch coordinates / scale (before any flip). */
  scales: Float32Array;
  /** [B * 2]: (height, width) of each resized image before padding. */
  imageSizes: Int32Array;
  /** Per image: mirrored left-right (only when augmenting). */
  flipped: boolean[];
  /** Position in the epoch order after this batch (skipped images included): where the next starts. */
  next: number;
  /** Images that could not be read, and annotations of this batch's images left out as bad. */
  skipped: DetectionSkip[];
}

type Prepared = Boxed & { scaleX: number; scaleY: number; flipped: boolean };

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const failure = err?.syscall ? readFailure(err) : null;
  if (failure) return `cannot read the image (${failure})`;
  return (err?.message ?? String(e)).split('\n')[0];
}

function checkOptions(o: DetectionBatchOptions, images: number) {
  const positive = (v: number | undefined, name: string, optional = false) => {
    if (!(optional && v === undefined) && !(Number.isInteger(v) && (v as number) > 0)) {
      throw new Error(`detectionBatches: ${name} must be a positive integer, got ${v}`);
    }
  };
  positive(o.batchSize, 'batchSize');
  positive(o.maxSize, 'maxSize');
  positive(o.divisor, 'divisor', true);
  positive(o.concurrency, 'concurrency', true);
  checkScaleChoice(o.shorterSide, 'detectionBatches: shorterSide');
  const { prefetch: ahead = 2, from = 0 } = o;
  if (!(Number.isInteger(ahead) && ahead >= 0))
    throw new Error(`detectionBatches: prefetch must be an integer ≥ 0, got ${ahead}`);
  if (!(Number.isInteger(from) && from >= 0 && from <= images)) {
    throw new Error(`detectionBatches: from must be an integer in 0..${images} (the images), got ${from}`);
  }
}

/** One image through decode → normalise → resize → (flip); throws (with the reason) when it cannot. */
async function prepare(image: DetectionImage, index: number, o: DetectionBatchOptions): Promise<Prepared> {
  const rgb = await decodeRgb(image.path);
  if (rgb.width !== image.width || rgb.height !== image.height) {
    throw new Error(`decoded to ${rgb.width}×${rgb.height}, the annotations say ${image.width}×${image.height}`);
  }
  const { seed = 0, epoch = 0, augment = false } = o;
  const shorter = augment ? pickScale(o.shorterSide, seed, epoch, index) : largestScale(o.shorterSide);
  const resized = resizeShorterSide({ image: normalizeRgb(rgb, o), boxes: image.boxes }, shorter, o.maxSize);
  const flipped = augment && pickFlip(seed, epoch, index);
  const done = flipped ? flipHorizontal(resized) : resized;
  return { ...done, scaleX: resized.scaleX, scaleY: resized.scaleY, flipped };
}

function annotationSkips(image: DetectionImage): DetectionSkip[] {
  return image.skipped.map((s: SkippedAnnotation) => ({
    path: s.path,
    imageId: s.imageId,
    annotationId: s.annotationId,
    reason: s.reason,
  }));
}

/** Stacks prepared images into one batch padded to multiples of `divisor`. */
function assemble(got: { image: DetectionImage; p: Prepared }[], divisor: number) {
  const height = roundUp(Math.max(...got.map((g) => g.p.image.height)), divisor);
  const width = roundUp(Math.max(...got.map((g) => g.p.image.width)), divisor);
  const per = height * width * 3;
  const x = new Float32Array(got.length * per);
  const scales = new Float32Array(2 * got.length);
  const imageSizes = new Int32Array(2 * got.length);
  got.forEach(({ p }, i) => {
    const { data, width: w, height: h } = p.image;
    for (let r = 0; r < h; r++) x.set(data.subarray(3 * r * w, 3 * (r + 1) * w), i * per + 3 * r * width);
    scales.set([p.scaleX, p.scaleY], 2 * i);
    imageSizes.set([h, w], 2 * i);
  });
  return {
    x,
    size: got.length,
    height,
    width,
    boxes: got.map((g) => g.p.boxes),
    labels: got.map((g) => g.image.labels.slice()),
    imageIds: got.map((g) => g.image.id),
    scales,
    imageSizes,
    flipped: got.map((g) => g.p.flipped),
  };
}

/**
 * The epoch's batches of `set`. An image that cannot be read or decoded (or whose size differs from its
 * annotation) is skipped, named in the batch's `skipped`, and its place taken by the next image of the
 * order, so every batch but the last is full; with `strict` the generator throws, naming the file. Bad
 * annotations of a batch's images (left out when the set was built) are listed in its `skipped` too.
 * What is skipped after the last batch is reported with it (its `next` is then the end of the epoch); when
 * no image of the epoch can be read, a single empty batch (size 0) reports them.
 */
export function detectionBatches(set: DetectionSet, options: DetectionBatchOptions): AsyncGenerator<DetectionBatch> {
  checkOptions(options, set.images.length);
  return prefetch(produceBatches(set, options), options.prefetch ?? 2);
}

async function* produceBatches(set: DetectionSet, o: DetectionBatchOptions): AsyncGenerator<DetectionBatch> {
  let held: DetectionBatch | null = null;
  for await (const b of filledBatches(set, o)) {
    if (b.size === 0 || (o.dropLast && b.size < o.batchSize)) {
      // the epoch's end: what this leftover skipped is reported with the last batch, whose next becomes the end
      if (held) {
        held.skipped.push(...b.skipped);
        held.next = b.next;
      } else if (b.skipped.length > 0) held = emptyBatch(b.next, b.skipped); // nothing readable: still said
      break;
    }
    if (held) yield held;
    held = b;
  }
  if (held) yield held;
}

/** The batches in order; a last one may be smaller, or empty when every image left was skipped. */
async function* filledBatches(set: DetectionSet, o: DetectionBatchOptions): AsyncGenerator<DetectionBatch> {
  const { batchSize, seed = 0, epoch = 0, strict = false, concurrency = 8, divisor = 128 } = o;
  const images = set.images;
  const shuffle = o.shuffle ?? o.augment ?? false;
  const order = shuffle ? epochOrder(images.length, seed, epoch) : Uint32Array.from(images, (_, i) => i);
  let cursor = o.from ?? 0;
  while (cursor < order.length) {
    const got: { image: DetectionImage; p: Prepared }[] = [];
    const skipped: DetectionSkip[] = [];
    while (got.length < batchSize && cursor < order.length) {
      const take = Array.from(order.subarray(cursor, Math.min(order.length, cursor + batchSize - got.length)));
      cursor += take.length;
      const results = await mapLimited(take, concurrency, async (index) => {
        try {
          return { index, p: await prepare(images[index], index, o) };
        } catch (e) {
          return { index, error: describe(e) };
        }
      });
      for (const r of results) {
        const image = images[r.index];
        if (r.p) {
          got.push({ image, p: r.p });
          skipped.push(...annotationSkips(image));
          continue;
        }
        if (strict) throw new Error(`${image.path}: image ${image.id}: ${r.error}`);
        skipped.push({ path: image.path, imageId: image.id, reason: r.error as string });
      }
    }
    yield got.length > 0 ? { ...assemble(got, divisor), next: cursor, skipped } : emptyBatch(cursor, skipped);
  }
}

function emptyBatch(next: number, skipped: DetectionSkip[]): DetectionBatch {
  const none = { x: new Float32Array(0), size: 0, height: 0, width: 0, boxes: [], labels: [], imageIds: [] };
  return { ...none, scales: new Float32Array(0), imageSizes: new Int32Array(0), flipped: [], next, skipped };
}
