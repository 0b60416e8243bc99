/**
 * COCO instances → training targets: per image, its boxes as xyxy Float32Array [N * 4] (pixels of the
 * original image) and labels Int32Array [N] (contiguous class indices 0..K−1 in the order of the sorted
 * category ids, as Detectron2 maps them). The input is readCocoInstances' with `badAnnotations:
 * 'collect'`: its rules (coco/annotation_problems.ts) decided which annotations are bad, and each of those
 * is listed here with its id, image file and reason — never silently kept nor silently dropped.
 *
 * A box reaching beyond its image (by at most GT_BOX_TOLERANCE_PX, which the reader enforced) is clipped
 * to it: x1 = max(0, x), y1 = max(0, y), x2 = min(W, x + w), y2 = min(H, y + h). Crowd regions
 * (iscrowd 1) are not training targets: they are left out and counted.
 */
import { join } from 'node:path';
import type { CocoBox, CocoCategory, CocoImage } from '../coco/instances.js';
import type { BadAnnotation, InstancesWithBadAnnotations } from '../coco/read.js';
import { splitFileList } from '../image_folder/scan.js';

/** Class index i ↔ COCO category ids[i] (sorted ascending), named names[i]. */
export interface CategoryMap {
  ids: number[];
  names: string[];
}

/** A bad annotation left out of the targets, with its image file (empty when the image_id is unknown). */
export interface SkippedAnnotation extends BadAnnotation {
  path: string;
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

/** The contiguous class map of `categories` (ids unique, as the reader checked), sorted by id. */
export function categoryMap(categories: readonly CocoCategory[]): CategoryMap {
  const sorted = [...categories].sort((a, b) => a.id - b.id);
  return { ids: sorted.map((c) => c.id), names: sorted.map((c) => c.name) };
}

/** `[x, y, w, h]` → xyxy clipped to the width × height image. */
function clipToImage([x, y, w, h]: CocoBox, width: number, height: number): number[] {
  return [Math.max(0, x), Math.max(0, y), Math.min(width, x + w), Math.min(height, y + h)];
}

/** Options of `detectionSet`: the set's name and its class map. */
export interface DetectionSetOptions {
  /** Names the set in messages. */
  name: string;
  /** The class map to use (e.g. the training split's, for its validation split). Default: from the instances. */
  categories?: CategoryMap;
}

/** One image's targets as they are gathered. */
type Targets = {
  image: CocoImage;
  path: string;
  boxes: number[];
  labels: number[];
  skipped: SkippedAnnotation[];
  crowd: number;
};

/** Label of each category id of `categories`; an id the class map lacks is an error naming the set. */
function labels(categories: readonly CocoCategory[], map: CategoryMap, name: string): Map<number, number> {
  const labelOf = new Map(map.ids.map((id, i) => [id, i]));
  const missing = categories.find((c) => !labelOf.has(c.id));
  if (missing) throw new Error(`${name}: category id ${missing.id} ('${missing.name}') is not in the class map`);
  return labelOf;
}

/**
 * Targets of every image of `instances` (file_name relative to `imagesDir`), with `badAnnotations` (the
 * reader's, collected) listed as skipped.
 */
export function detectionSet(
  { instances, badAnnotations }: InstancesWithBadAnnotations,
  imagesDir: string,
  options: DetectionSetOptions,
): DetectionSet {
  const categories = options.categories ?? categoryMap(instances.categories);
  const labelOf = labels(instances.categories, categories, options.name);
  const perImage = new Map<number, Targets>();
  for (const image of instances.images) {
    const path = join(imagesDir, image.file_name);
    perImage.set(image.id, { image, path, boxes: [], labels: [], skipped: [], crowd: 0 });
  }
  const skipped = badAnnotations.map((bad): SkippedAnnotation => {
    const target = perImage.get(bad.imageId);
    const s = { ...bad, path: target?.path ?? '' };
    target?.skipped.push(s);
    return s;
  });
  let crowd = 0;
  for (const a of instances.annotations) {
    const target = perImage.get(a.image_id) as Targets;
    if (a.iscrowd === 1) {
      target.crowd++;
      crowd++;
      continue;
    }
    target.boxes.push(...clipToImage(a.bbox, target.image.width, target.image.height));
    target.labels.push(labelOf.get(a.category_id) as number);
  }
  const images = [...perImage.values()].map(
    ({ image: { id, width, height }, path, ...t }): DetectionImage => ({
      id,
      path,
      width,
      height,
      boxes: Float32Array.from(t.boxes),
      labels: Int32Array.from(t.labels),
      skipped: t.skipped,
      crowd: t.crowd,
    }),
  );
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
