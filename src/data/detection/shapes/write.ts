/**
 * Writes a generated shapes dataset in COCO format:
 *   DIR/shapes.json                  what generated it (generator, version, seed, size, counts, complete)
 *   DIR/instances_train.json         one COCO instances file per split; file_name is relative to DIR/images
 *   DIR/instances_val.json
 *   DIR/images/train/000000.png …    the images, PNG (sharp)
 *   DIR/images/val/000000.png …
 * Image and annotation ids count from 1 in each file. `area` is the box area w × h (the size classes are
 * drawn on it), every annotation has iscrowd 0. Image i of a split is drawn from rng(hashInts(seed,
 * split tag, i)) alone, so the same options give the same bytes, whatever the order of work.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { CocoAnnotation, CocoImage, CocoInstances } from '../../coco/instances.js';
import { mapLimited } from '../../prefetch.js';
import { hashInts, rng } from '../../random.js';
import { renderScene, SHAPE_CATEGORIES } from './scene.js';

/** Bumped whenever the generator's output changes for the same options (cached copies are then redrawn). */
export const SHAPES_VERSION = 1;
export const SHAPES_MARKER = 'shapes.json';
export const SHAPES_GENERATOR = 'sasa shapes';
/** The shapes dataset's splits. */
export const SHAPES_SPLITS = ['train', 'val'] as const;
/** A split of the shapes dataset: one of {@link SHAPES_SPLITS}. */
export type ShapesSplit = (typeof SHAPES_SPLITS)[number];

/** The generated shapes dataset's size, image side and seed; defaults in {@link SHAPES_DEFAULTS}. */
export interface ShapesOptions {
  /** Training images. */
  train?: number;
  /** Validation images. */
  val?: number;
  /** Side of the square images, pixels. */
  size?: number;
  /** Seeds every image. */
  seed?: number;
}

/** Default image counts per split, image side (pixels) and seed of the generated shapes dataset. */
export const SHAPES_DEFAULTS: Required<ShapesOptions> = { train: 400, val: 100, size: 256, seed: 0 };

/** The marker file's content. */
export interface ShapesManifest extends Required<ShapesOptions> {
  generator: typeof SHAPES_GENERATOR;
  version: number;
  /** false while the images are being written. */
  complete: boolean;
}

const SPLIT_TAG: Record<ShapesSplit, number> = { train: 0x7a1, val: 0x7a2 };

/** The COCO annotations file of `split` in a shapes folder. */
export const shapesAnnotationsPath = (dir: string, split: ShapesSplit) => join(dir, `instances_${split}.json`);
export const shapesImagesDir = (dir: string) => join(dir, 'images');

/** The JSON marker `file` in `dir` when `generator` wrote it, else null (none, unreadable, another's). */
export async function readGeneratorMarker<T extends { generator: string }>(
  dir: string,
  file: string,
  generator: string,
): Promise<T | null> {
  try {
    const m = JSON.parse(await readFile(join(dir, file), 'utf8')) as T;
    return m?.generator === generator ? m : null;
  } catch {
    return null;
  }
}

/** The marker of a shapes output in `dir`, or null when there is none (or it is not one). */
export const readShapesManifest = (dir: string) =>
  readGeneratorMarker<ShapesManifest>(dir, SHAPES_MARKER, SHAPES_GENERATOR);

/**
 * Makes `dir` an output folder: created when missing, kept when empty; a non-empty one must hold an earlier
 * output (its `marker`, written by `generator`), else an error naming `what`. Returns whether it held one.
 */
export async function claimOutputFolder(dir: string, what: string, marker: string, generator: string) {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new Error(`${dir}: cannot be used as the output folder (${code})`);
    await mkdir(dir, { recursive: true });
    return false;
  }
  if (entries.length === 0) return false;
  if (!(await readGeneratorMarker(dir, marker, generator))) {
    throw new Error(`${dir} is not empty and holds no ${what} (no ${marker}); choose a new or empty folder`);
  }
  return true;
}

/** Image `index` of `split`: the drawn scene and its PNG bytes. */
export async function shapesImage(options: Required<ShapesOptions>, split: ShapesSplit, index: number) {
  const scene = renderScene(options.size, rng(hashInts(options.seed, SPLIT_TAG[split], index)));
  const png = await sharp(scene.rgb, { raw: { width: scene.width, height: scene.height, channels: 3 } })
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
  return { scene, png };
}

function checkOptions(o: Required<ShapesOptions>) {
  for (const k of ['train', 'val', 'seed'] as const) {
    if (!(Number.isInteger(o[k]) && o[k] >= 0)) throw new Error(`shapes: ${k} must be an integer ≥ 0, got ${o[k]}`);
  }
  if (!(Number.isInteger(o.size) && o.size >= 16))
    throw new Error(`shapes: size must be an integer ≥ 16, got ${o.size}`);
}

/** Refuses a non-empty `dir` that is not a shapes output; clears the files of an earlier one. */
async function prepareDir(dir: string) {
  if (!(await claimOutputFolder(dir, 'shapes output', SHAPES_MARKER, SHAPES_GENERATOR))) return;
  await rm(shapesImagesDir(dir), { recursive: true, force: true });
  for (const split of SHAPES_SPLITS) await rm(shapesAnnotationsPath(dir, split), { force: true });
}

/** Per split: images written and COCO instances (with their counts). */
export type ShapesSummary = Record<ShapesSplit, CocoInstances>;

/**
 * Generates the dataset into `dir` (created if missing; a non-empty folder must be an earlier shapes
 * output, which is replaced). `onImage` is called after each image is written.
 */
export async function writeShapesDataset(
  dir: string,
  options: ShapesOptions = {},
  onImage?: (split: ShapesSplit, index: number) => void,
): Promise<ShapesSummary> {
  const o = { ...SHAPES_DEFAULTS, ...options };
  checkOptions(o);
  await prepareDir(dir);
  const manifest: ShapesManifest = { generator: SHAPES_GENERATOR, version: SHAPES_VERSION, ...o, complete: false };
  await writeFile(join(dir, SHAPES_MARKER), `${JSON.stringify(manifest, null, 2)}\n`);
  const out = {} as ShapesSummary;
  for (const split of SHAPES_SPLITS) {
    await mkdir(join(shapesImagesDir(dir), split), { recursive: true });
    const indices = Array.from({ length: o[split] }, (_, i) => i);
    const scenes = await mapLimited(indices, 4, async (i) => {
      const { scene, png } = await shapesImage(o, split, i);
      const fileName = `${split}/${String(i).padStart(6, '0')}.png`;
      await writeFile(join(shapesImagesDir(dir), fileName), png);
      onImage?.(split, i);
      return { scene, fileName };
    });
    const images: CocoImage[] = [];
    const annotations: CocoAnnotation[] = [];
    scenes.forEach(({ scene, fileName }, i) => {
      images.push({ id: i + 1, width: scene.width, height: scene.height, file_name: fileName });
      for (const obj of scene.objects) {
        const { categoryId, bbox, area } = obj;
        annotations.push({
          id: annotations.length + 1,
          image_id: i + 1,
          category_id: categoryId,
          bbox,
          area,
          iscrowd: 0,
        });
      }
    });
    out[split] = { images, annotations, categories: SHAPE_CATEGORIES.map((c) => ({ ...c })) };
    await writeFile(shapesAnnotationsPath(dir, split), `${JSON.stringify(out[split])}\n`);
  }
  await writeFile(join(dir, SHAPES_MARKER), `${JSON.stringify({ ...manifest, complete: true }, null, 2)}\n`);
  return out;
}
