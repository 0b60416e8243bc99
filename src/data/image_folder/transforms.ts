/**
 * What happens to an image between decoding and the batch: torchvision's crop geometry (random-resized crop
 * and flip for training, resize + center crop for evaluation) and the per-channel normalisation.
 */
import { hashInts, rng } from '../random.js';

/** ImageNet's per-channel mean and standard deviation of pixels in [0, 1] (RGB), as torchvision uses them. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
/** ImageNet's per-channel standard deviation (RGB), pixels in [0, 1]. */
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

/** Python's round(): halves to the even neighbour (torchvision's geometry rounds this way). */
function pyRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A region of an image: rows top..top+height-1, columns left..left+width-1. */
export interface CropRegion {
  top: number;
  left: number;
  width: number;
  height: number;
}

/**
 * torchvision's RandomResizedCrop.get_params on a width × height image: up to 10 tries of an area fraction
 * uniform in `scale` and a log-uniform aspect ratio (w/h) in `ratio`; when none fits, the whole image
 * clamped to the ratio range, centered.
 */
export function randomResizedCropRegion(
  width: number,
  height: number,
  random: () => number,
  scale: readonly [number, number] = [0.08, 1],
  ratio: readonly [number, number] = [3 / 4, 4 / 3],
): CropRegion {
  const area = width * height;
  const logR0 = Math.log(ratio[0]);
  const logR1 = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + random() * (scale[1] - scale[0]));
    const aspect = Math.exp(logR0 + random() * (logR1 - logR0));
    const w = pyRound(Math.sqrt(target * aspect));
    const h = pyRound(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = Math.floor(random() * (height - h + 1));
      const left = Math.floor(random() * (width - w + 1));
      return { top, left, width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = pyRound(w / ratio[0]);
  else if (inRatio > ratio[1]) w = pyRound(h * ratio[1]);
  w = Math.max(1, Math.min(width, w));
  h = Math.max(1, Math.min(height, h));
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), width: w, height: h };
}

/**
 * Evaluation geometry (torchvision Resize(round(size / cropFraction)) + CenterCrop(size)): the shorter side
 * resized to `resize`, the longer one to floor(resize × long / short), then the centered size × size crop.
 */
export function evalResizeCrop(
  width: number,
  height: number,
  size: number,
  cropFraction = 0.875,
): { width: number; height: number; crop: CropRegion } {
  const resize = pyRound(size / cropFraction);
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const longResized = Math.max(resize, Math.floor((resize * long) / short));
  const rw = width <= height ? resize : longResized;
  const rh = width <= height ? longResized : resize;
  const crop = { top: pyRound((rh - size) / 2), left: pyRound((rw - size) / 2), width: size, height: size };
  return { width: rw, height: rh, crop };
}

/**
 * The evaluation crop fraction for `size`-pixel inputs: small images (up to 64 pixels) are seen whole,
 * resized; larger ones through ImageNet's center crop of 0.875.
 */
export function evalCropFraction(size: number): number {
  return size <= 64 ? 1 : 0.875;
}

/** Training augmentation options (torchvision's defaults). */
export interface CropOptions {
  /** Area fraction range of the random-resized crop. Default [0.08, 1]. */
  scale?: readonly [number, number];
  /** Aspect-ratio (w/h) range of the crop. Default [3/4, 4/3]. */
  ratio?: readonly [number, number];
  /** Random horizontal flip with probability 1/2. Default true. */
  flip?: boolean;
}

/** The crop region and flip of image `index` (its position in the file list) in `epoch` for `seed`. */
export function imageAugmentParams(
  seed: number,
  epoch: number,
  index: number,
  width: number,
  height: number,
  options: CropOptions = {},
): { crop: CropRegion; flip: boolean } {
  const r = rng(hashInts(seed, epoch, index, 0x1c0f));
  const crop = randomResizedCropRegion(width, height, r, options.scale, options.ratio);
  return { crop, flip: r() < 0.5 && options.flip !== false };
}

export function normaliser(mean: readonly number[], std: readonly number[], who: string): Float32Array {
  if (mean.length !== 3 || std.length !== 3) {
    throw new Error(`${who}: mean and std need 3 values (R, G, B), got ${mean.length} and ${std.length}`);
  }
  if (std.some((s) => !(s > 0))) throw new Error(`${who}: std must be positive, got [${std.join(', ')}]`);
  const lut = new Float32Array(3 * 256);
  for (let ch = 0; ch < 3; ch++) for (let v = 0; v < 256; v++) lut[ch * 256 + v] = (v / 255 - mean[ch]) / std[ch];
  return lut;
}

/** Writes size² RGB bytes into dst at d0, normalised through `lut`, mirrored left-right if `flip`. */
export function writeNormalised(
  rgb: Uint8Array,
  dst: Float32Array,
  d0: number,
  size: number,
  flip: boolean,
  lut: Float32Array,
) {
  let d = d0;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const s = 3 * (r * size + (flip ? size - 1 - c : c));
      dst[d++] = lut[rgb[s]];
      dst[d++] = lut[256 + rgb[s + 1]];
      dst[d++] = lut[512 + rgb[s + 2]];
    }
  }
}

export function checkSize(size: number, who: string) {
  if (!(Number.isInteger(size) && size > 0)) throw new Error(`${who}: size must be a positive integer, got ${size}`);
}

export function checkFraction(f: number, who: string) {
  if (!(f > 0 && f <= 1)) throw new Error(`${who}: cropFraction must be in (0, 1], got ${f}`);
}
