/**
 * Reading COCO files with validation: a ground-truth instances file and a detections file. Every entry
 * is checked; a bad one is an Error naming the file, the entry (index, and id where it has one) and the
 * field. Validated entries are returned as parsed, extra fields (`segmentation`, `ignore`, `license`,
 * ...) included.
 */
import { readMaybeGzip } from '../read.js';
import {
  arrayField,
  asObject,
  boxField,
  fail,
  idField,
  type JsonObject,
  numberField,
  show,
  stringField,
} from './fields.js';
import type { CocoCategory, CocoDetection, CocoImage, CocoInstances } from './instances.js';
import { parseJsonText } from './json.js';

/**
 * How far (pixels) a ground-truth box may reach beyond its image on any side: real COCO boxes exceed
 * their image by a fraction of a pixel. Detections are only required to overlap their image.
 */
export const GT_BOX_TOLERANCE_PX = 1;

/** Reads and validates a ground-truth instances file (JSON, optionally gzipped). */
export async function readCocoInstances(path: string): Promise<CocoInstances> {
  return parseCocoInstances(await readText(path), path);
}

/**
 * Reads and validates detections against their ground truth. Two layouts: a results list
 * `[{image_id, category_id, bbox, score}, ...]` (what pycocotools' loadRes reads), or a COCO-style object
 * whose `annotations` array holds the detections with their scores. As in loadRes, a detection's own
 * `id`, `area` and `iscrowd` are not read (its area is width × height).
 */
export async function readCocoDetections(path: string, gt: CocoInstances): Promise<CocoDetection[]> {
  return parseCocoDetections(await readText(path), path, gt);
}

async function readText(path: string): Promise<string> {
  return new TextDecoder().decode(await readMaybeGzip(path));
}

/** Validates a ground-truth instances JSON text; `file` names it in errors. */
export function parseCocoInstances(text: string, file: string): CocoInstances {
  const root = asObject(parseJsonText(text, file), file);
  const images = checkImages(arrayField(root, 'images', file), file);
  const categories = checkCategories(arrayField(root, 'categories', file), file);
  const annotations = arrayField(root, 'annotations', file);
  const imageById = new Map(images.map((image) => [image.id, image]));
  const categoryIds = new Set(categories.map((c) => c.id));
  const seen = new Map<number, number>();
  for (let i = 0; i < annotations.length; i++) {
    const where = `${file}: annotations[${i}]`;
    const ann = asObject(annotations[i], where);
    const id = idField(ann, 'id', where);
    const first = seen.get(id);
    if (first !== undefined) fail(where, `duplicate annotation id ${id} (also annotations[${first}])`);
    seen.set(id, i);
    checkAnnotation(ann, `${where} (id ${id})`, imageById, categoryIds);
  }
  return root as unknown as CocoInstances;
}

function checkImages(entries: unknown[], file: string): CocoImage[] {
  const seen = new Map<number, number>();
  for (let i = 0; i < entries.length; i++) {
    const where = `${file}: images[${i}]`;
    const image = asObject(entries[i], where);
    const id = idField(image, 'id', where);
    const first = seen.get(id);
    if (first !== undefined) fail(where, `duplicate image id ${id} (also images[${first}])`);
    seen.set(id, i);
    numberField(image, 'width', `${where} (id ${id})`, 'positive');
    numberField(image, 'height', `${where} (id ${id})`, 'positive');
    stringField(image, 'file_name', `${where} (id ${id})`);
  }
  return entries as CocoImage[];
}

function checkCategories(entries: unknown[], file: string): CocoCategory[] {
  const seen = new Map<number, number>();
  for (let i = 0; i < entries.length; i++) {
    const where = `${file}: categories[${i}]`;
    const category = asObject(entries[i], where);
    const id = idField(category, 'id', where);
    const first = seen.get(id);
    if (first !== undefined) fail(where, `duplicate category id ${id} (also categories[${first}])`);
    seen.set(id, i);
    stringField(category, 'name', `${where} (id ${id})`);
    if (category.supercategory !== undefined) stringField(category, 'supercategory', `${where} (id ${id})`);
  }
  return entries as CocoCategory[];
}

function checkAnnotation(
  ann: JsonObject,
  where: string,
  imageById: Map<number, CocoImage>,
  categoryIds: Set<number>,
): void {
  const image = knownImage(ann, where, imageById, 'this file');
  knownCategory(ann, where, categoryIds, 'this file');
  const box = boxField(ann, where);
  if (ann.area === undefined) fail(where, `'area' is missing (the evaluation's small/medium/large ranges read it)`);
  numberField(ann, 'area', where, 'non-negative');
  if (ann.iscrowd !== 0 && ann.iscrowd !== 1) fail(where, `'iscrowd' must be 0 or 1, got ${show(ann.iscrowd)}`);
  const t = GT_BOX_TOLERANCE_PX;
  const [x, y, w, h] = box;
  if (x < -t || y < -t || x + w > image.width + t || y + h > image.height + t) {
    fail(
      where,
      `'bbox' ${show(box)} reaches beyond image ${image.id} (${image.width}×${image.height}) by more than ${t} px`,
    );
  }
}

/** Validates a detections JSON text (either layout of readCocoDetections) against `gt`. */
export function parseCocoDetections(text: string, file: string, gt: CocoInstances): CocoDetection[] {
  const root = parseJsonText(text, file);
  const { entries, prefix } = detectionEntries(root, file);
  const imageById = new Map(gt.images.map((image) => [image.id, image]));
  const categoryIds = new Set(gt.categories.map((c) => c.id));
  for (let i = 0; i < entries.length; i++) {
    const where = `${file}: ${prefix}[${i}]`;
    const det = asObject(entries[i], where);
    const image = knownImage(det, where, imageById, 'the ground truth');
    knownCategory(det, where, categoryIds, 'the ground truth');
    const box = boxField(det, where);
    numberField(det, 'score', where, 'positive');
    const [x, y, w, h] = box;
    if (x >= image.width || y >= image.height || x + w <= 0 || y + h <= 0) {
      fail(where, `'bbox' ${show(box)} lies entirely outside image ${image.id} (${image.width}×${image.height})`);
    }
  }
  return entries as CocoDetection[];
}

function detectionEntries(root: unknown, file: string): { entries: unknown[]; prefix: string } {
  if (Array.isArray(root)) return { entries: root, prefix: 'detections' };
  if (typeof root === 'object' && root !== null && Array.isArray((root as JsonObject).annotations)) {
    return { entries: (root as JsonObject).annotations as unknown[], prefix: 'annotations' };
  }
  return fail(
    file,
    `must be a results list [{image_id, category_id, bbox, score}, ...] or an object with an 'annotations' array`,
  );
}

function knownImage(entry: JsonObject, where: string, imageById: Map<number, CocoImage>, source: string): CocoImage {
  const id = idField(entry, 'image_id', where);
  const image = imageById.get(id);
  if (!image) fail(where, `'image_id' ${id} names no image of ${source}`);
  return image;
}

function knownCategory(entry: JsonObject, where: string, categoryIds: Set<number>, source: string): void {
  const id = idField(entry, 'category_id', where);
  if (!categoryIds.has(id)) fail(where, `'category_id' ${id} names no category of ${source}`);
}
