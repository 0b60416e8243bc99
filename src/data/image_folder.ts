/**
 * Image folders (root/<class>/<image>.{jpg,jpeg,png}, torchvision's ImageFolder layout) streamed from disk:
 * scanning, a seeded split of the file list, and batches decoded with sharp — random-resized crop + flip for
 * training, resize + center crop for evaluation — that never hold more than a few batches in memory.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { epochOrder } from './dataset.js';
import { hashInts, permutation, rng } from './random.js';

/** The extensions scanImageFolder accepts by default (compared case-insensitively). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png'];

/** ImageNet's per-channel mean and standard deviation of pixels in [0, 1] (RGB), as torchvision uses them. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
/** ImageNet's per-channel standard deviation (RGB), pixels in [0, 1]. */
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

/** One image of a folder and its class index. */
export interface ImageFile {
  path: string;
  label: number;
}

/** A scanned folder: class names sorted (label = index) and the files, by class then by path. */
export interface ImageFolder {
  root: string;
  classes: string[];
  files: ImageFile[];
}

export interface ScanOptions {
  /** Accepted file extensions, with or without the dot, any case. Default IMAGE_EXTENSIONS. */
  extensions?: readonly string[];
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const hidden = (name: string) => name.startsWith('.');

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Records `dir` as scanned under its real path; throws, naming both, when that folder was scanned
 * already under another name (a symbolic link that loops back to a folder above it, or that shows
 * another folder's images a second time, under another class).
 */
async function visit(dir: string, visited: Map<string, string>): Promise<void> {
  const real = await realpath(dir);
  const seen = visited.get(real);
  if (seen !== undefined) {
    throw new Error(
      `${dir}: is the folder ${seen} again (through a symbolic link); its images would be read twice or, ` +
        'for a link loop, without end — remove the link, or copy the images',
    );
  }
  visited.set(real, dir);
}

/**
 * The image files under `dir` (subfolders included, hidden entries left out), sorted by path;
 * `visited` maps the real paths of the folders scanned so far to their names (see visit).
 */
async function listImages(dir: string, extensions: Set<string>, visited: Map<string, string>): Promise<string[]> {
  await visit(dir, visited);
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => byCodeUnit(a.name, b.name));
  for (const e of entries) {
    if (hidden(e.name)) continue;
    const path = join(dir, e.name);
    const isDir = e.isDirectory() || (e.isSymbolicLink() && (await isDirectory(path)));
    if (isDir) {
      out.push(...(await listImages(path, extensions, visited)));
      continue;
    }
    const dot = e.name.lastIndexOf('.');
    if (dot > 0 && extensions.has(e.name.slice(dot).toLowerCase())) out.push(path);
  }
  return out;
}

/**
 * Scans root/<class>/…/<image>: one folder per class, classes sorted by name (code units, as Python's
 * sorted) give the label indices; files are listed by class, then by path. Throws, naming the folder, when
 * the root is missing or not a directory, has no class folders, has no images at all, or when a class
 * folder has no images, or when a symbolic link leads to a folder already scanned (a loop, or another
 * class's images again: see visit).
 */
export async function scanImageFolder(root: string, options: ScanOptions = {}): Promise<ImageFolder> {
  const extList = (options.extensions ?? IMAGE_EXTENSIONS).map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase());
  if (extList.length === 0) throw new Error('scanImageFolder: extensions is empty');
  const extensions = new Set(extList);
  const wanted = extList.join(', ');
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(root);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`${root}: image folder does not exist or cannot be read (${err.code ?? err.message})`);
  }
  if (!info.isDirectory()) throw new Error(`${root}: image folder is not a directory`);
  const entries = await readdir(root, { withFileTypes: true });
  const classes: string[] = [];
  for (const e of entries) {
    if (hidden(e.name)) continue;
    if (e.isDirectory() || (e.isSymbolicLink() && (await isDirectory(join(root, e.name))))) classes.push(e.name);
  }
  classes.sort(byCodeUnit);
  if (classes.length === 0) {
    throw new Error(`${root}: no class folders (expected ${root}/<class name>/<image> with images ${wanted})`);
  }
  // One class after the other, so that the folder a link repeats is named the same way every time.
  const visited = new Map<string, string>();
  await visit(root, visited);
  const perClass: string[][] = [];
  for (const c of classes) perClass.push(await listImages(join(root, c), extensions, visited));
  const total = perClass.reduce((n, l) => n + l.length, 0);
  if (total === 0) throw new Error(`${root}: no images (${wanted}) in any of its ${classes.length} class folders`);
  const empty = classes.filter((_, i) => perClass[i].length === 0);
  if (empty.length > 0) {
    const names = empty.map((c) => `'${c}'`).join(', ');
    throw new Error(
      `${root}: class folder${empty.length > 1 ? 's' : ''} ${names} ${empty.length > 1 ? 'have' : 'has'} no images (${wanted})`,
    );
  }
  const files: ImageFile[] = [];
  perClass.forEach((paths, label) => {
    for (const path of paths) files.push({ path, label });
  });
  return { root, classes, files };
}

/**
 * Holds out round(fraction × length) items, chosen by `seed`, as validation: the same permutation as
 * splitTrainValidation (dataset.ts), so both parts keep the original order and the same (length, fraction,
 * seed) always gives the same split.
 */
export function splitFileList<T>(items: readonly T[], fraction: number, seed: number): { train: T[]; validation: T[] } {
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`splitFileList: fraction must be in [0, 1), got ${fraction}`);
  const order = permutation(items.length, rng(hashInts(seed, 0x5711)));
  const n = Math.round(fraction * items.length);
  const pick = (ix: Uint32Array) => Array.from(ix.sort(), (i) => items[i]);
  return { validation: pick(order.subarray(0, n)), train: pick(order.subarray(n)) };
}

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

export type ResizeKernel = 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';

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

/** What to do with a decoded image: train crop (before the resize) or eval resize + crop (after). */
type Plan =
  | { kind: 'train'; crop: CropRegion; flip: boolean }
  | { kind: 'eval'; width: number; height: number; crop: CropRegion };

type Decoded =
  | { ok: true; index: number; rgb: Uint8Array; flip: boolean }
  | { ok: false; index: number; error: string };

/** The formats sharp may decode from a file with an accepted extension (the README: JPEG and PNG). */
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
function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code && err.syscall) return `cannot decode image (${err.code}: cannot read the file)`;
  if (err instanceof ImageFormatError) return err.message;
  const lines = (err?.message ?? String(e)).split('\n').filter((l) => l.trim() !== '');
  if (lines.length && CORRUPT.test(lines[0])) {
    const details = lines.map((l) => l.replace(CORRUPT, '').replace(CORRUPT, '').trim()).filter((l) => l !== '');
    return `corrupt or truncated image (${[...new Set(details)].slice(0, 2).join('; ') || lines[0]})`;
  }
  return `cannot decode image (${lines[0] ?? 'unknown error'})`;
}

/**
 * Reads and decodes one image (EXIF orientation applied, alpha dropped, sRGB, grayscale → RGB), cropped and
 * resized to size × size per `plan(width, height)`; resolves to its size² × 3 bytes (RGB).
 */
async function decodeRgb(
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

/** lut[ch * 256 + v]: the normalised value of byte v in channel ch. */
function normaliser(mean: readonly number[], std: readonly number[], who: string): Float32Array {
  if (mean.length !== 3 || std.length !== 3) {
    throw new Error(`${who}: mean and std need 3 values (R, G, B), got ${mean.length} and ${std.length}`);
  }
  if (std.some((s) => !(s > 0))) throw new Error(`${who}: std must be positive, got [${std.join(', ')}]`);
  const lut = new Float32Array(3 * 256);
  for (let ch = 0; ch < 3; ch++) for (let v = 0; v < 256; v++) lut[ch * 256 + v] = (v / 255 - mean[ch]) / std[ch];
  return lut;
}

/** Writes size² RGB bytes into dst at d0, normalised through `lut`, mirrored left-right if `flip`. */
function writeNormalised(
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

/** Promise.all(items.map(fn)) with at most `limit` calls of `fn` pending; results in the order of `items`. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function checkSize(size: number, who: string) {
  if (!(Number.isInteger(size) && size > 0)) throw new Error(`${who}: size must be a positive integer, got ${size}`);
}

function checkFraction(f: number, who: string) {
  if (!(f > 0 && f <= 1)) throw new Error(`${who}: cropFraction must be in (0, 1], got ${f}`);
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
  const who = 'imageFolderBatches';
  const { batchSize, size, train, seed = 0, epoch = 0, prefetch = 2, strict = false, dropLast = false } = options;
  const from = options.from ?? 0;
  const shuffle = options.shuffle ?? train;
  const concurrency = options.concurrency ?? 32;
  if (!(Number.isInteger(concurrency) && concurrency > 0)) {
    throw new Error(`${who}: concurrency must be a positive integer, got ${concurrency}`);
  }
  const kernel = options.kernel ?? 'linear';
  const cropFraction = options.cropFraction ?? 0.875;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new Error(`${who}: batchSize must be a positive integer, got ${batchSize}`);
  }
  checkSize(size, who);
  checkFraction(cropFraction, who);
  if (!(Number.isInteger(prefetch) && prefetch >= 0)) {
    throw new Error(`${who}: prefetch must be a non-negative integer, got ${prefetch}`);
  }
  if (!(Number.isInteger(from) && from >= 0 && from <= files.length)) {
    throw new Error(`${who}: from must be an integer in 0..${files.length} (the files), got ${from}`);
  }
  const { scale = [0.08, 1], ratio = [3 / 4, 4 / 3] } = options;
  if (!(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1)) {
    throw new Error(`${who}: scale must satisfy 0 < min <= max <= 1, got [${scale.join(', ')}]`);
  }
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) {
    throw new Error(`${who}: ratio must satisfy 0 < min <= max, got [${ratio.join(', ')}]`);
  }
  const lut = normaliser(options.mean ?? [0, 0, 0], options.std ?? [1, 1, 1], who);
  const order = shuffle ? epochOrder(files.length, seed, epoch) : Uint32Array.from(files, (_, i) => i);
  const per = size * size * 3;
  const cropOptions: CropOptions = { scale, ratio, flip: options.flip };

  const planFor =
    (index: number) =>
    (width: number, height: number): Plan =>
      train
        ? { kind: 'train', ...imageAugmentParams(seed, epoch, index, width, height, cropOptions) }
        : { kind: 'eval', ...evalResizeCrop(width, height, size, cropFraction) };

  let cursor = from; // next position in `order`; only the (sequential) batch producer moves it
  let stopped = false;

  /** Decodes the next batch; null when the epoch is over (or the consumer stopped). */
  const produce = async (): Promise<ImageFolderBatch | null> => {
    const got: { index: number; rgb: Uint8Array; flip: boolean }[] = [];
    const skipped: { path: string; reason: string }[] = [];
    while (got.length < batchSize && cursor < order.length && !stopped) {
      const take = Array.from(order.subarray(cursor, Math.min(order.length, cursor + batchSize - got.length)));
      cursor += take.length;
      const results = await mapLimited(take, concurrency, async (index): Promise<Decoded> => {
        const { path } = files[index];
        options.onDecode?.(path);
        try {
          return { ok: true, index, ...(await decodeRgb(path, size, kernel, planFor(index))) };
        } catch (e) {
          return { ok: false, index, error: describe(e) };
        }
      });
      for (const r of results) {
        if (!r.ok) {
          const { path } = files[r.index];
          if (strict) throw new Error(`${path}: ${r.error}`);
          skipped.push({ path, reason: r.error });
          options.onSkip?.(path, r.error);
        } else got.push(r);
      }
    }
    if (stopped || got.length === 0 || (dropLast && got.length < batchSize)) return null;
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
    return { x, y, paths, indices, size: got.length, skipped, next: cursor };
  };

  // Batches are produced one after another (each starts when the previous is done), `prefetch` ahead.
  const queue: Promise<ImageFolderBatch | null>[] = [];
  let tail: Promise<unknown> = Promise.resolve();
  const schedule = () => {
    const p = tail.then(() => (cursor < order.length && !stopped ? produce() : null));
    p.catch(() => {}); // surfaced when awaited; keeps an abandoned prefetch from being an unhandled rejection
    queue.push(p);
    tail = p;
  };
  try {
    while (true) {
      while (queue.length < prefetch + 1) schedule();
      const batch = await (queue.shift() as Promise<ImageFolderBatch | null>);
      if (batch === null) return;
      while (queue.length < prefetch) schedule();
      yield batch;
    }
  } finally {
    stopped = true;
  }
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
