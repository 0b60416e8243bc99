/**
 * Detection data specifications:
 *   coco:ANNOTATIONS.json,IMAGES_DIR[,VAL_ANNOTATIONS.json,VAL_IMAGES_DIR]
 *                      COCO instances files; file_name is relative to the images folder
 *   voc100:DIR         DIR/instances.json + DIR/images/ (as /work/shared/data/voc100)
 *   shapes             the generated shapes dataset (shapes/write.ts), written once into a cache folder
 *                      (OpenDetectionOptions.cacheDir, default $SASA_CACHE or ~/.cache/sasa) and reused
 *   shapes:DIR         a folder `sasa shapes --out DIR` wrote
 * A source with one annotations file gets a seeded held-out fifth (validationFraction) as its validation
 * split; shapes and two-file coco sources bring their own.
 */
import { rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type InstancesWithBadAnnotations, readCocoInstances } from '../coco/read.js';
import { type CategoryMap, categoryMap, type DetectionSet, detectionSet, splitDetectionSet } from './annotations.js';
import {
  readShapesManifest,
  SHAPES_DEFAULTS,
  SHAPES_VERSION,
  type ShapesOptions,
  shapesAnnotationsPath,
  shapesImagesDir,
  writeShapesDataset,
} from './shapes/write.js';

/** Annotations file + the folder its file_name entries are relative to. */
export interface CocoFiles {
  annotations: string;
  images: string;
}

/**
 * A parsed detection data specification ({@link parseDetectionSpec}; the forms in data/detection/spec.ts):
 * COCO instances files, a voc100 folder, or the shapes dataset (generated into the cache, or a folder).
 */
export type DetectionSpec =
  | { kind: 'coco'; name: string; train: CocoFiles; validation?: CocoFiles }
  | { kind: 'voc100'; name: string; dir: string }
  | { kind: 'shapes'; name: string; dir?: string };

const FORMS =
  'coco:ANNOTATIONS.json,IMAGES_DIR[,VAL_ANNOTATIONS.json,VAL_IMAGES_DIR], voc100:DIR, shapes or shapes:DIR';

/** Parses a detection data spec; errors list the accepted forms. */
export function parseDetectionSpec(spec: string): DetectionSpec {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const arg = colon < 0 ? '' : spec.slice(colon + 1);
  switch (kind) {
    case 'coco': {
      const parts = arg.split(',');
      if (!arg || (parts.length !== 2 && parts.length !== 4) || parts.some((p) => !p)) {
        throw new Error(
          `data '${spec}': coco takes ANNOTATIONS.json,IMAGES_DIR (and optionally VAL_ANNOTATIONS.json,VAL_IMAGES_DIR)`,
        );
      }
      const [annotations, images, va, vi] = parts;
      return {
        kind,
        name: `coco (${annotations})`,
        train: { annotations, images },
        ...(va ? { validation: { annotations: va, images: vi } } : {}),
      };
    }
    case 'voc100':
      if (!arg) throw new Error(`data '${spec}': voc100 needs DIR, as in 'voc100:DIR'`);
      return { kind, name: `voc100 (${arg})`, dir: arg };
    case 'shapes':
      return arg ? { kind, name: `shapes (${arg})`, dir: arg } : { kind, name: 'shapes' };
    default:
      throw new Error(`data '${spec}' is not a known detection data source; use ${FORMS}`);
  }
}

/**
 * An annotations file read and validated for training: its bad annotations collected (then skipped and
 * named by detectionSet), or with `strict` an error naming the first.
 */
async function readAnnotations(path: string, strict: boolean): Promise<InstancesWithBadAnnotations> {
  if (strict) return { instances: await readCocoInstances(path), badAnnotations: [] };
  return readCocoInstances(path, { badAnnotations: 'collect' });
}

/**
 * Options of {@link openDetectionData}: the held-out split of a one-file source, strictness, and where and
 * how the shapes dataset is generated.
 */
export interface OpenDetectionOptions {
  /** Fraction of a one-file source's images held out (seeded) for validation. Default 0.2. */
  validationFraction?: number;
  /** Seeds the held-out split. Default 0. */
  seed?: number;
  /** Fail on the first bad annotation (naming file, entry and field) instead of skipping it. Default false. */
  strict?: boolean;
  /** Where `shapes` is generated. Default $SASA_CACHE, else ~/.cache/sasa. */
  cacheDir?: string;
  /** The generated dataset's options (default SHAPES_DEFAULTS). */
  shapes?: ShapesOptions;
  /** Called per image while `shapes` is being generated (a first use). */
  onGenerate?: (done: number, total: number) => void;
}

/** A detection source opened: its class map and its two splits. */
export interface DetectionData {
  name: string;
  categories: CategoryMap;
  train: DetectionSet;
  validation: DetectionSet;
}

/** The cache folder `shapes` uses for these options. */
export function shapesCacheDir(options: OpenDetectionOptions = {}): string {
  const o = { ...SHAPES_DEFAULTS, ...options.shapes };
  const root = options.cacheDir ?? process.env.SASA_CACHE ?? join(homedir(), '.cache', 'sasa');
  return join(root, `shapes-v${SHAPES_VERSION}-size${o.size}-train${o.train}-val${o.val}-seed${o.seed}`);
}

/** The generated dataset in the cache, written first when it is not there (or is incomplete). */
async function cachedShapes(options: OpenDetectionOptions): Promise<string> {
  const dir = shapesCacheDir(options);
  const m = await readShapesManifest(dir);
  if (m?.complete && m.version === SHAPES_VERSION) return dir;
  const o = { ...SHAPES_DEFAULTS, ...options.shapes };
  let done = 0;
  // written next to the cache entry, then renamed into place: a concurrent run never sees a partial one
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await writeShapesDataset(partial, o, () => options.onGenerate?.(++done, o.train + o.val));
  await rm(dir, { recursive: true, force: true });
  try {
    await rename(partial, dir);
  } catch (e) {
    if (!(await readShapesManifest(dir))?.complete) throw e; // else another run finished first: use its copy
    await rm(partial, { recursive: true, force: true });
  }
  return dir;
}

async function twoFiles(
  name: string,
  train: CocoFiles,
  validation: CocoFiles,
  strict: boolean,
): Promise<DetectionData> {
  const t = await readAnnotations(train.annotations, strict);
  const categories = categoryMap(t.instances.categories);
  const v = await readAnnotations(validation.annotations, strict);
  return {
    name,
    categories,
    train: detectionSet(t, train.images, { name: `${name} train`, categories }),
    validation: detectionSet(v, validation.images, { name: `${name} validation`, categories }),
  };
}

/** Opens the source `spec` names: annotations read and checked, images left on disk. */
export async function openDetectionData(
  spec: DetectionSpec,
  options: OpenDetectionOptions = {},
): Promise<DetectionData> {
  const { validationFraction = 0.2, seed = 0, strict = false } = options;
  if (spec.kind === 'shapes') {
    const dir = spec.dir ?? (await cachedShapes(options));
    if (spec.dir && !(await readShapesManifest(dir))?.complete) {
      throw new Error(
        `${dir}: not a complete shapes output (no complete shapes.json); write one with 'sasa shapes --out ${dir}'`,
      );
    }
    const files = (split: 'train' | 'val') => ({
      annotations: shapesAnnotationsPath(dir, split),
      images: shapesImagesDir(dir),
    });
    return twoFiles(spec.name, files('train'), files('val'), strict);
  }
  if (spec.kind === 'coco' && spec.validation) return twoFiles(spec.name, spec.train, spec.validation, strict);
  const files =
    spec.kind === 'coco'
      ? spec.train
      : { annotations: join(spec.dir, 'instances.json'), images: join(spec.dir, 'images') };
  const all = detectionSet(await readAnnotations(files.annotations, strict), files.images, { name: spec.name });
  return { name: spec.name, categories: all.categories, ...splitDetectionSet(all, validationFraction, seed) };
}
