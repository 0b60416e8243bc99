/**
 * Image files → pixels, with sharp (JPEG, PNG, and whatever else libvips reads): RGB bytes [height, width, 3]
 * (alpha dropped, greyscale repeated, sRGB), or normalised floats x = (byte / 255 − mean) / std.
 *
 * EXIF orientation: applied by default (`orient`), as Detectron2's reader does, so the pixels are the
 * image as displayed; annotation tools (and COCO) give boxes in that frame for rotated photos. The decoded
 * size is checked against the annotation's width × height by the batches, so a mismatch (a file annotated
 * in its stored frame) is reported, never silently misplaced.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { IMAGENET_MEAN, IMAGENET_STD } from '../image_folder/transforms.js';
import type { FloatImage } from './transforms.js';

/** [height, width, 3] RGB bytes. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Decodes a file (its path) or its bytes to RGB; errors say what is wrong (empty, unreadable, …). */
export async function decodeRgb(file: string | Uint8Array, { orient = true } = {}): Promise<RgbImage> {
  const bytes = typeof file === 'string' ? await readFile(file) : file;
  if (bytes.length === 0) throw new Error('empty file (0 bytes)');
  let pipeline = sharp(bytes);
  if (orient) pipeline = pipeline.rotate();
  const { data, info } = await pipeline
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const n = width * height;
  if (channels === 3 && data.length === 3 * n) return { data, width, height };
  if (channels === 1 && data.length === n) {
    const rgb = new Uint8Array(3 * n);
    for (let i = 0; i < n; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = data[i];
    return { data: rgb, width, height };
  }
  throw new Error(`decoded to ${channels} channels of ${data.length} bytes, expected 3 channels of ${3 * n}`);
}

/** Per channel (RGB) of pixels in [0, 1]: x = (byte / 255 − mean) / std. Default ImageNet's. */
export interface NormalizeOptions {
  mean?: readonly number[];
  std?: readonly number[];
}

/** x = (byte / 255 − mean[ch]) / std[ch], per channel. */
export function normalizeRgb(
  rgb: RgbImage,
  { mean = IMAGENET_MEAN, std = IMAGENET_STD }: NormalizeOptions = {},
): FloatImage {
  if (mean.length !== 3 || std.length !== 3 || std.some((s) => !(s > 0))) {
    throw new Error(`normalizeRgb: mean and std need 3 values (R, G, B), std positive; got [${mean}] and [${std}]`);
  }
  const lut = new Float32Array(3 * 256);
  for (let ch = 0; ch < 3; ch++) for (let v = 0; v < 256; v++) lut[ch * 256 + v] = (v / 255 - mean[ch]) / std[ch];
  const out = new Float32Array(rgb.data.length);
  for (let i = 0; i < out.length; i += 3) {
    out[i] = lut[rgb.data[i]];
    out[i + 1] = lut[256 + rgb.data[i + 1]];
    out[i + 2] = lut[512 + rgb.data[i + 2]];
  }
  return { data: out, width: rgb.width, height: rgb.height };
}

/** Decodes and normalises in one call. */
export async function decodeImage(file: string | Uint8Array, options: NormalizeOptions & { orient?: boolean } = {}) {
  return normalizeRgb(await decodeRgb(file, options), options);
}
