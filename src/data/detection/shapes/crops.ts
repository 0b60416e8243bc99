/**
 * The shapes as a classification set: every object of generated scenes cut out with a margin, resized to
 * a square and written as an image folder (data/image_folder's layout), to train a classification
 * backbone for the shapes detectors as ImageNet trains one for COCO's:
 *   DIR/shapes-crops.json                        what generated it (options, counts, complete)
 *   DIR/train/<category>/<scene>_<object>.png    crops of the training scenes
 *   DIR/val/<category>/<scene>_<object>.png      crops of the validation scenes
 * A crop is the object's full box widened by `margin` × its longer side on every side (clipped to the
 * image), resized to `cropSize` × `cropSize` (not keeping the aspect). Scene i of a split is drawn from
 * rng(hashInts(seed, CROPS_TAG[split], i)): a stream of its own, so for any seed the crops never come
 * from the detection dataset's images (shapes/write.ts's tags).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { mapLimited } from '../../prefetch.js';
import { hashInts, rng } from '../../random.js';
import { renderScene, type Scene, type SceneObject, SHAPE_CATEGORIES } from './scene.js';
import { claimOutputFolder, SHAPES_SPLITS, type ShapesSplit } from './write.js';

/** Scenes per split, their side, the crops' side and margin, and the seed; defaults in {@link CROPS_DEFAULTS}. */
export interface ShapeCropsOptions {
  /** Training scenes (each gives 3–9 crops). */
  train?: number;
  /** Validation scenes. */
  val?: number;
  /** Side of the square scenes, pixels. */
  size?: number;
  /** Side of the square crops, pixels. */
  cropSize?: number;
  /** Context around the box on each side, as a fraction of its longer side. */
  margin?: number;
  seed?: number;
}

/** Defaults of {@link writeShapeCrops}: scenes of the detection dataset's size, 64-px crops. */
export const CROPS_DEFAULTS: Required<ShapeCropsOptions> = {
  train: 1500,
  val: 200,
  size: 256,
  cropSize: 64,
  margin: 0.15,
  seed: 0,
};

export const CROPS_MARKER = 'shapes-crops.json';
const CROPS_GENERATOR = 'sasa shapes --crops';
const CROPS_TAG: Record<ShapesSplit, number> = { train: 0xc01, val: 0xc02 };

/** Crops written per split and category name. */
export type ShapeCropsSummary = Record<ShapesSplit, Record<string, number>>;

function checkOptions(o: Required<ShapeCropsOptions>): void {
  for (const k of ['train', 'val', 'seed'] as const) {
    if (!(Number.isInteger(o[k]) && o[k] >= 0))
      throw new Error(`shapes crops: ${k} must be an integer ≥ 0, got ${o[k]}`);
  }
  if (!(Number.isInteger(o.size) && o.size >= 16)) {
    throw new Error(`shapes crops: size must be an integer ≥ 16, got ${o.size}`);
  }
  if (!(Number.isInteger(o.cropSize) && o.cropSize >= 8)) {
    throw new Error(`shapes crops: cropSize must be an integer ≥ 8, got ${o.cropSize}`);
  }
  if (!(o.margin >= 0 && o.margin <= 1)) throw new Error(`shapes crops: margin must be in [0, 1], got ${o.margin}`);
}

/** Refuses a non-empty `dir` that holds no earlier crops; clears an earlier output's splits. */
async function prepareDir(dir: string): Promise<void> {
  if (!(await claimOutputFolder(dir, 'shapes crops', CROPS_MARKER, CROPS_GENERATOR))) return;
  for (const split of SHAPES_SPLITS) await rm(join(dir, split), { recursive: true, force: true });
}

/** The pixel rectangle of an object's crop: its box widened by margin × its longer side, clipped. */
export function cropRectangle(object: SceneObject, scene: Scene, margin: number) {
  const [x, y, w, h] = object.bbox;
  const m = margin * Math.max(w, h);
  const left = Math.max(0, Math.floor(x - m));
  const top = Math.max(0, Math.floor(y - m));
  const right = Math.min(scene.width, Math.ceil(x + w + m));
  const bottom = Math.min(scene.height, Math.ceil(y + h + m));
  return { left, top, width: right - left, height: bottom - top };
}

/** Scene `index` of `split` whose objects the crops cut out. */
export function cropsScene(options: ShapeCropsOptions, split: ShapesSplit, index: number): Scene {
  const o = { ...CROPS_DEFAULTS, ...options };
  return renderScene(o.size, rng(hashInts(o.seed, CROPS_TAG[split], index)));
}

/** Writes one scene's crops; returns their category names. */
async function writeSceneCrops(dir: string, scene: Scene, index: number, o: Required<ShapeCropsOptions>) {
  const names = new Map(SHAPE_CATEGORIES.map((c) => [c.id, c.name]));
  const image = sharp(scene.rgb, { raw: { width: scene.width, height: scene.height, channels: 3 } });
  const written: string[] = [];
  for (const [j, object] of scene.objects.entries()) {
    const name = names.get(object.categoryId) as string;
    const png = await image
      .clone()
      .extract(cropRectangle(object, scene, o.margin))
      .resize(o.cropSize, o.cropSize, { fit: 'fill' })
      .png({ compressionLevel: 6, adaptiveFiltering: false })
      .toBuffer();
    await writeFile(join(dir, name, `${String(index).padStart(6, '0')}_${j}.png`), png);
    written.push(name);
  }
  return written;
}

/**
 * Generates the crops into `dir` (created if missing; a non-empty folder must be an earlier crops output,
 * which is replaced). `onScene` is called after each scene's crops are written.
 */
export async function writeShapeCrops(
  dir: string,
  options: ShapeCropsOptions = {},
  onScene?: (split: ShapesSplit, index: number) => void,
): Promise<ShapeCropsSummary> {
  const o = { ...CROPS_DEFAULTS, ...options };
  checkOptions(o);
  await prepareDir(dir);
  const manifest = { generator: CROPS_GENERATOR, ...o, complete: false };
  await writeFile(join(dir, CROPS_MARKER), `${JSON.stringify(manifest, null, 2)}\n`);
  const summary = {} as ShapeCropsSummary;
  for (const split of SHAPES_SPLITS) {
    for (const c of SHAPE_CATEGORIES) await mkdir(join(dir, split, c.name), { recursive: true });
    const indices = Array.from({ length: o[split] }, (_, i) => i);
    const perScene = await mapLimited(indices, 4, async (i) => {
      const scene = cropsScene(o, split, i);
      const names = await writeSceneCrops(join(dir, split), scene, i, o);
      onScene?.(split, i);
      return names;
    });
    summary[split] = Object.fromEntries(SHAPE_CATEGORIES.map((c) => [c.name, 0]));
    for (const name of perScene.flat()) summary[split][name]++;
  }
  await writeFile(join(dir, CROPS_MARKER), `${JSON.stringify({ ...manifest, complete: true, summary }, null, 2)}\n`);
  return summary;
}
