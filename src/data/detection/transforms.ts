/**
 * Geometric transforms of an image and its boxes, applied together (pure functions). An image is
 * [height, width, 3] floats (HWC); boxes are xyxy Float32Array [N * 4] in continuous pixel coordinates,
 * pixel (r, c) covering [c, c + 1) × [r, r + 1), so a resize by (sx, sy) maps a box exactly to
 * (x · sx, y · sy) and a flip of a width-W image maps x to W − x.
 */
import { hashInts, rng } from '../random.js';

/** [height, width, 3] values, row-major. */
export interface FloatImage {
  data: Float32Array;
  width: number;
  height: number;
}

/** An image and its boxes (xyxy, [N * 4]). */
export interface Boxed {
  image: FloatImage;
  boxes: Float32Array;
}

/**
 * The size after resizing the shorter side to `shorter`, the longer one then capped at `maxSize`
 * (aspect kept): scale = min(shorter / min(w, h), maxSize / max(w, h)); sides round(w · scale),
 * round(h · scale), at least 1.
 */
export function resizedSize(width: number, height: number, shorter: number, maxSize: number) {
  const scale = Math.min(shorter / Math.min(width, height), maxSize / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Bilinear resize with half-pixel centres (output pixel centre (c + ½) / sx − ½ in the input, edges
 * clamped: OpenCV's INTER_LINEAR, torch's align_corners=False). No antialiasing when shrinking.
 */
export function resizeImage(image: FloatImage, width: number, height: number): FloatImage {
  const { data, width: w0, height: h0 } = image;
  const out = new Float32Array(width * height * 3);
  const sx = w0 / width;
  const sy = h0 / height;
  const x0s = new Int32Array(width);
  const x1s = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let c = 0; c < width; c++) {
    const x = Math.min(Math.max((c + 0.5) * sx - 0.5, 0), w0 - 1);
    x0s[c] = Math.floor(x);
    x1s[c] = Math.min(x0s[c] + 1, w0 - 1);
    fx[c] = x - x0s[c];
  }
  for (let r = 0; r < height; r++) {
    const y = Math.min(Math.max((r + 0.5) * sy - 0.5, 0), h0 - 1);
    const y0 = Math.floor(y);
    const y1 = Math.min(y0 + 1, h0 - 1);
    const fy = y - y0;
    for (let c = 0; c < width; c++) {
      const a = 3 * (y0 * w0 + x0s[c]);
      const b = 3 * (y0 * w0 + x1s[c]);
      const d = 3 * (y1 * w0 + x0s[c]);
      const e = 3 * (y1 * w0 + x1s[c]);
      const o = 3 * (r * width + c);
      for (let ch = 0; ch < 3; ch++) {
        const top = data[a + ch] + fx[c] * (data[b + ch] - data[a + ch]);
        const bottom = data[d + ch] + fx[c] * (data[e + ch] - data[d + ch]);
        out[o + ch] = top + fy * (bottom - top);
      }
    }
  }
  return { data: out, width, height };
}

/** Boxes scaled by (sx, sy): x · sx, y · sy. */
export function scaleBoxes(boxes: Float32Array, sx: number, sy: number): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = boxes[i] * sx;
    out[i + 1] = boxes[i + 1] * sy;
    out[i + 2] = boxes[i + 2] * sx;
    out[i + 3] = boxes[i + 3] * sy;
  }
  return out;
}

/**
 * Resizes so the shorter side is `shorter`, the longer at most `maxSize` (resizedSize); the boxes follow.
 * scaleX, scaleY: resized = original × scale, per axis (they differ slightly through the rounding).
 */
export function resizeShorterSide(
  { image, boxes }: Boxed,
  shorter: number,
  maxSize: number,
): Boxed & { scaleX: number; scaleY: number } {
  const size = resizedSize(image.width, image.height, shorter, maxSize);
  const scaleX = size.width / image.width;
  const scaleY = size.height / image.height;
  const resized =
    size.width === image.width && size.height === image.height ? image : resizeImage(image, size.width, size.height);
  return { image: resized, boxes: scaleBoxes(boxes, scaleX, scaleY), scaleX, scaleY };
}

/** Mirrors the image left-right; a box's x1, x2 become W − x2, W − x1. */
export function flipHorizontal({ image, boxes }: Boxed): Boxed {
  const { data, width, height } = image;
  const out = new Float32Array(data.length);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const s = 3 * (r * width + c);
      const d = 3 * (r * width + width - 1 - c);
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  const flipped = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    flipped[i] = width - boxes[i + 2];
    flipped[i + 1] = boxes[i + 1];
    flipped[i + 2] = width - boxes[i];
    flipped[i + 3] = boxes[i + 3];
  }
  return { image: { data: out, width, height }, boxes: flipped };
}

/** `n` rounded up to a multiple of `divisor`. */
export const roundUp = (n: number, divisor: number) => Math.ceil(n / divisor) * divisor;

/**
 * Pads at the bottom and right with `value` to width × height (default: the sides rounded up to a
 * multiple of `divisor`); the boxes are unchanged.
 */
export function padImage(image: FloatImage, divisor: number, value = 0, width?: number, height?: number): FloatImage {
  const w = width ?? roundUp(image.width, divisor);
  const h = height ?? roundUp(image.height, divisor);
  if (w < image.width || h < image.height) {
    throw new Error(`padImage: ${image.width}×${image.height} does not fit in ${w}×${h}`);
  }
  const out = new Float32Array(w * h * 3).fill(value);
  for (let r = 0; r < image.height; r++)
    out.set(image.data.subarray(3 * r * image.width, 3 * (r + 1) * image.width), 3 * r * w);
  return { data: out, width: w, height: h };
}

/** A shorter-side length: fixed, one of a list, or an integer in [min, max] (inclusive). */
export type ScaleChoice = number | readonly number[] | { min: number; max: number };

const isList = (choice: ScaleChoice): choice is readonly number[] => Array.isArray(choice);

/** Checks a ScaleChoice, naming `option` in the error. */
export function checkScaleChoice(choice: ScaleChoice, option: string): void {
  const ok = (v: number) => Number.isInteger(v) && v > 0;
  let good: boolean;
  if (typeof choice === 'number') good = ok(choice);
  else if (isList(choice)) good = choice.length > 0 && choice.every(ok);
  else good = ok(choice.min) && ok(choice.max) && choice.min <= choice.max;
  if (!good) {
    throw new Error(`${option} must be a positive integer, a non-empty list of them, or {min, max} with min ≤ max`);
  }
}

/** The largest side a choice can give (what evaluation uses when the choice is not fixed). */
export function largestScale(choice: ScaleChoice): number {
  if (typeof choice === 'number') return choice;
  if (isList(choice)) return Math.max(...choice);
  return choice.max;
}

/** Multiscale jitter: the shorter side of image `index` in `epoch`, drawn from `choice` seeded by (seed, epoch, index). */
export function pickScale(choice: ScaleChoice, seed: number, epoch: number, index: number): number {
  if (typeof choice === 'number') return choice;
  const u = rng(hashInts(seed, epoch, index, 0x5ca1e))();
  if (isList(choice)) return choice[Math.floor(u * choice.length)];
  return choice.min + Math.floor(u * (choice.max - choice.min + 1));
}

/** Whether image `index` is flipped in `epoch` (probability ½), seeded by (seed, epoch, index). */
export function pickFlip(seed: number, epoch: number, index: number): boolean {
  return rng(hashInts(seed, epoch, index, 0xf11b))() < 0.5;
}
