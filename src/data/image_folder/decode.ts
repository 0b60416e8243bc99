/**
 * Decoding one image file with sharp into size × size RGB bytes along a crop plan, and the words a user
 * reads when a file cannot be decoded.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { readFailure } from '../../io/files.js';
import {
  type CropRegion,
  checkFraction,
  checkSize,
  evalResizeCrop,
  normaliser,
  writeNormalised,
} from './transforms.js';

/** A resampling kernel of the resize, by sharp's name for it (its `kernel` option). */
export type ResizeKernel = 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';

export type Plan =
  | { kind: 'train'; crop: CropRegion; flip: boolean }
  | { kind: 'eval'; width: number; height: number; crop: CropRegion };

const IMAGE_FORMATS = ['jpeg', 'png'];

/** A file whose bytes are an image of a format we do not read (a GIF named `.png`). */
class ImageFormatError extends Error {}

/** libvips' wording for a damaged file: its warnings (failOn) and the JPEG decoder's errors. */
const CORRUPT =
  /^(Warning treated as error due to failOn setting|Input buffer has corrupt header: |VipsJpeg: |VipsPng: |pngload: )/;

/**
 * Why a file could not be decoded, in words a user understands: "cannot decode image (…)" (no image,
 * empty, unreadable), "corrupt or truncated image (…)" (sharp's failOn warnings, a bad CRC, a cut JPEG)
 * or the real format of a file that is no JPEG or PNG.
 */
export function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const failure = err?.syscall ? readFailure(err) : null;
  if (failure) return `cannot read the image (${failure})`;
  if (err instanceof ImageFormatError) return err.message;
  const lines = (err?.message ?? String(e)).split('\n').filter((l) => l.trim() !== '');
  if (lines.length && CORRUPT.test(lines[0])) {
    // libvips' details sit in one buffer for all threads: with decodes in parallel they may be gone
    const details = lines.map((l) => l.replace(CORRUPT, '').replace(CORRUPT, '').trim()).filter((l) => l !== '');
    return details.length
      ? `corrupt or truncated image (${[...new Set(details)].slice(0, 2).join('; ')})`
      : 'corrupt or truncated image';
  }
  return `cannot decode image (${lines[0] ?? 'unknown error'})`;
}

/**
 * Reads and decodes one image (EXIF orientation applied, alpha dropped, sRGB, grayscale → RGB), cropped and
 * resized to size × size per `plan(width, height)`; resolves to its size² × 3 bytes (RGB).
 */
export async function decodeRgb(
  path: string,
  size: number,
  kernel: ResizeKernel,
  plan: (width: number, height: number) => Plan,
): Promise<{ rgb: Uint8Array; flip: boolean }> {
  const bytes = await readFile(path);
  if (bytes.length === 0) throw new Error('empty file (0 bytes)');
  const image = sharp(bytes);
  const meta = await image.metadata();
  if (!IMAGE_FORMATS.includes(meta.format)) {
    throw new ImageFormatError(
      `a ${String(meta.format).toUpperCase()} image, not JPEG or PNG (whatever its name says)`,
    );
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!(width > 0 && height > 0)) throw new Error(`no image size in the header (${width}×${height})`);
  const p = plan(width, height);
  // sharp resizes images with alpha premultiplied, whatever the method order, which shifts the colours of
  // translucent pixels; drop the alpha first (as PIL's convert('RGB')) in a pass of its own.
  let pipeline = image.rotate();
  if (meta.hasAlpha) {
    const flat = await pipeline.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({
      resolveWithObject: true,
    });
    const { channels } = flat.info;
    if (channels !== 3) throw new Error(`decoded to ${channels} channels after removing alpha, expected 3`);
    pipeline = sharp(flat.data, { raw: { width: flat.info.width, height: flat.info.height, channels } });
  }
  if (p.kind === 'train') {
    pipeline = pipeline.extract(p.crop).resize(size, size, { fit: 'fill', kernel });
  } else {
    pipeline = pipeline.resize(p.width, p.height, { fit: 'fill', kernel }).extract(p.crop);
  }
  const { data, info } = await pipeline
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.width !== size || info.height !== size) {
    throw new Error(`decoded to ${info.width}×${info.height}, expected ${size}×${size}`);
  }
  const n = size * size;
  if (info.channels === 3 && data.length === 3 * n) return { rgb: data, flip: p.kind === 'train' && p.flip };
  if (info.channels === 1 && data.length === n) {
    const rgb = new Uint8Array(3 * n);
    for (let i = 0; i < n; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = data[i];
    return { rgb, flip: p.kind === 'train' && p.flip };
  }
  throw new Error(`decoded to ${info.channels} channels of ${data.length} bytes, expected 3 channels of ${3 * n}`);
}

/**
 * One image prepared for evaluation (`sasa predict`): EXIF orientation applied, shorter side resized to
 * round(size / cropFraction), center size × size crop, normalised: x [1, size, size, 3]. Errors name the file.
 */
export async function decodeImageForEval(
  path: string,
  size: number,
  mean: readonly number[] = [0, 0, 0],
  std: readonly number[] = [1, 1, 1],
  cropFraction = 0.875,
): Promise<Float32Array> {
  const who = 'decodeImageForEval';
  checkSize(size, who);
  checkFraction(cropFraction, who);
  const lut = normaliser(mean, std, who);
  let rgb: Uint8Array;
  try {
    ({ rgb } = await decodeRgb(path, size, 'linear', (w, h) => ({
      kind: 'eval',
      ...evalResizeCrop(w, h, size, cropFraction),
    })));
  } catch (e) {
    throw new Error(`${path}: ${describe(e)}`);
  }
  const x = new Float32Array(size * size * 3);
  writeNormalised(rgb, x, 0, size, false, lut);
  return x;
}
