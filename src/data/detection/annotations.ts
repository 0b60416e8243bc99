/**
 * COCO instances → training targets: per image, its boxes as xyxy Float32Array [N * 4] (pixels of the
 * original image) and labels Int32Array [N] (contiguous class indices 0..K−1 in the order of the sorted
 * category ids, as Detectron2 maps them). Bad annotations are never silently kept nor silently dropped:
 * each is skipped with its id, image file and reason (or, `strict`, fails with that message).
 *
 * Rules: an annotation whose image_id or category_id is unknown, whose bbox is not four finite numbers,
 * whose width or height is ≤ 0, or which reaches more than BOX_TOLERANCE pixels outside its image is
 * skipped; one within the tolerance is clipped to the image (and skipped if that leaves no area). Crowd
 * regions (iscrowd 1) are not training targets: they are left out and counted.
 */
import { join } from 'node:path';
import type { CocoAnnotation, CocoCategory, CocoInstances } from '../coco/instances.js';
import { splitFileList } from '../image_folder.js';

/** How far (pixels) a box may reach outside its image and still be kept (clipped). */
export const BOX_TOLERANCE = 1;

/** Class index i ↔ COCO category ids[i] (sorted ascending), named names[i]. */
export interface CategoryMap {
  ids: number[];
  names: string[];
}

/** An annotation left out of the targets: which, of which image file, and why. */
export interface SkippedAnnotation {
  annotationId: number;
  imageId: number;
  /** The image file (empty when the image_id is unknown). */
  path: string;
  reason: string;
}

/** One image and its targets. */
export interface DetectionImage {
  id: number;
  path: string;
  width: number;
  height: number;
  /** [N * 4] x1, y1, x2, y2 in pixels of the original image. */
  boxes: Float32Array;
  /** [N] class indices. */
  labels: Int32Array;
  /** Its annotations left out as bad. */
  skipped: SkippedAnnotation[];
  /** Its crowd regions, left out. */
  crowd: number;
}

/** A split's images with their targets. */
export interface DetectionSet {
  name: string;
  categories: CategoryMap;
  images: DetectionImage[];
  /** Every bad annotation, in file order (also listed with its image when the image is known). */
  skipped: SkippedAnnotation[];
  /** Crowd regions left out. */
  crowd: number;
}

/** The contiguous class map of `categories` (sorted by id); duplicate ids are an error naming `where`. */
export function categoryMap(categories: readonly CocoCategory[], where = 'categories'): CategoryMap {
  const sorted = [...categories].sort((a, b) => a.id - b.id);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].id === sorted[i - 1].id) throw new Error(`${where}: category id ${sorted[i].id} appears twice`);
  }
  return { ids: sorted.map((c) => c.id), names: sorted.map((c) => c.name) };
}

/** Why `a` cannot be a target on a width × height image, or its clipped xyxy box. */
function checkBox(a: CocoAnnotation, width: number, height: number): string | [number, number, number, number] {
  const b = a.bbox;
  if (!Array.isArray(b) || b.length !== 4 || !b.every((v) => Number.isFinite(v))) {
    return `bbox is not 4 finite numbers (${JSON.stringify(b)})`;
  }
  const [x, y, w, h] = b;
  if (!(w > 0 && h > 0)) return `bbox [${b.join(', ')}] has zero area`;
  const t = BOX_TOLERANCE;
  if (x < -t || y < -t || x + w > width + t || y + h > height + t) {
    return `bbox [${b.join(', ')}] reaches outside the ${width}×${height} image`;
  }
  const box: [number, number, number, number] = [
    Math.max(0, x),
    Math.max(0, y),
    Math.min(width, x + w),
    Math.min(height, y + h),
  ];
  if (!(box[2] > box[0] && box[3] > box[1])) return `bbox [${b.join(', ')}] has zero area inside the image`;
  return box;
}

export interface DetectionSetOptions {
  /** Names the set in messages. */
  name: string;
  /** The class map to use (e.g. the training split's, for its validation split). Default: from `instances`. */
  categories?: CategoryMap;
  /** Throw on the first bad annotation (the message names it) instead of skipping it. Default false. */
  strict?: boolean;
}

type Targets = { boxes: number[]; labels: number[]; skipped: SkippedAnnotation[]; crowd: number };

/** Targets of every image of `instances`, whose file_name is relative to `imagesDir`. */
export function detectionSet(instances: CocoInstances, imagesDir: string, options: DetectionSetOptions): DetectionSet {
  const categories = options.categories ?? categoryMap(instances.categories, options.name);
  const labelOf = new Map(categories.ids.map((id, i) => [id, i]));
  const byId = new Map(instances.images.map((im) => [im.id, im]));
  if (byId.size !== instances.images.length) {
    const seen = new Set<number>();
    const twice = instances.images.find((im) => seen.size === seen.add(im.id).size);
    throw new Error(`${options.name}: image id ${twice?.id} appears twice in the images list`);
  }
  const perImage = new Map<number, Targets>();
  for (const im of instances.images) perImage.set(im.id, { boxes: [], labels: [], skipped: [], crowd: 0 });
  const skipped: SkippedAnnotation[] = [];
  let crowd = 0;
  for (const a of instances.annotations) {
    const image = byId.get(a.image_id);
    const path = image ? join(imagesDir, image.file_name) : '';
    const label = labelOf.get(a.category_id);
    const box = image ? checkBox(a, image.width, image.height) : 'unknown';
    let reason = '';
    if (!image) reason = `image_id ${a.image_id} is not in the images list`;
    else if (label === undefined) reason = `category_id ${a.category_id} is not a known category`;
    else if (typeof box === 'string') reason = box;
    if (reason) {
      const s: SkippedAnnotation = { annotationId: a.id, imageId: a.image_id, path, reason };
      if (options.strict) throw new Error(`${options.name}: annotation ${a.id}${path ? ` (${path})` : ''}: ${reason}`);
      skipped.push(s);
      perImage.get(a.image_id)?.skipped.push(s);
      continue;
    }
    const target = perImage.get(a.image_id) as Targets;
    if (a.iscrowd === 1) {
      target.crowd++;
      crowd++;
      continue;
    }
    target.boxes.push(...(box as number[]));
    target.labels.push(label as number);
  }
  const images = instances.images.map((im): DetectionImage => {
    const t = perImage.get(im.id) as Targets;
    const { id, width, height } = im;
    return {
      id,
      path: join(imagesDir, im.file_name),
      width,
      height,
      boxes: Float32Array.from(t.boxes),
      labels: Int32Array.from(t.labels),
      skipped: t.skipped,
      crowd: t.crowd,
    };
  });
  return { name: options.name, categories, images, skipped, crowd };
}

/**
 * Holds out a seeded fraction of `set`'s images as validation (splitFileList: the same split as the image
 * folders'). Each part reports its images' skipped annotations; those of unknown images stay with train.
 */
export function splitDetectionSet(
  set: DetectionSet,
  fraction: number,
  seed: number,
): { train: DetectionSet; validation: DetectionSet } {
  const { train, validation } = splitFileList(set.images, fraction, seed);
  const ofImages = (images: DetectionImage[]) => images.flatMap((im) => im.skipped);
  const crowdOf = (images: DetectionImage[]) => images.reduce((n, im) => n + im.crowd, 0);
  return {
    train: {
      ...set,
      name: `${set.name} train`,
      images: train,
      skipped: [...set.skipped.filter((s) => s.path === ''), ...ofImages(train)],
      crowd: crowdOf(train),
    },
    validation: {
      ...set,
      name: `${set.name} validation`,
      images: validation,
      skipped: ofImages(validation),
      crowd: crowdOf(validation),
    },
  };
}
