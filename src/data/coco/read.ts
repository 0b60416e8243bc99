/**
 * Reading COCO files with validation: a ground-truth instances file and a detections file. A structural
 * problem — malformed JSON, a missing or mistyped top-level array, image or category field, an annotation
 * that is not an object or whose id, image_id or category_id is not an integer id, a duplicate image,
 * category or annotation id — is always an Error naming the file, the entry (index, and id where it has
 * one) and the field. A bad annotation (annotation_problems.ts) is such an Error too, or, with
 * `badAnnotations: 'collect'`, a BadAnnotation record, the annotation left out of the instances returned.
 * Validated entries are returned as parsed, extra fields (`segmentation`, `ignore`, `license`, ...) included.
 */
import { readMaybeGzip } from '../read.js';
import {
  type AnnotationProblem,
  annotationProblem,
  outsideImage,
  unknownCategory,
  unknownImage,
} from './annotation_problems.js';
import { arrayField, asObject, boxField, fail, idField, type JsonObject, numberField, stringField } from './fields.js';
import type { CocoAnnotation, CocoCategory, CocoDetection, CocoImage, CocoInstances } from './instances.js';
import { parseJsonText } from './json.js';

/** What the instances reader does with a bad annotation: throw (the default) or collect it. */
export type BadAnnotationPolicy = 'throw' | 'collect';

/** Options of {@link readCocoInstances}: what it does with a bad annotation (default 'throw'). */
export interface ReadInstancesOptions<P extends BadAnnotationPolicy = BadAnnotationPolicy> {
  badAnnotations?: P;
}

/** What the instances reader returns under policy P. */
export type ReadInstances<P extends BadAnnotationPolicy> = P extends 'collect'
  ? InstancesWithBadAnnotations
  : CocoInstances;

/** A bad annotation, collected: its id, its image_id, its index in `annotations`, the field and why. */
export interface BadAnnotation {
  annotationId: number;
  imageId: number;
  index: number;
  field: AnnotationProblem['field'];
  reason: string;
}

/** Instances read with `badAnnotations: 'collect'`: the good annotations, and the bad ones in file order. */
export interface InstancesWithBadAnnotations {
  instances: CocoInstances;
  badAnnotations: BadAnnotation[];
}

/** Reads and validates a ground-truth instances file (JSON, optionally gzipped). */
export async function readCocoInstances<P extends BadAnnotationPolicy = 'throw'>(
  path: string,
  options: ReadInstancesOptions<P> = {},
): Promise<ReadInstances<P>> {
  return parseCocoInstances(await readText(path), path, options);
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

/** Validates a ground-truth instances JSON text; `file` names it in errors. Options as readCocoInstances. */
export function parseCocoInstances<P extends BadAnnotationPolicy = 'throw'>(
  text: string,
  file: string,
  options: ReadInstancesOptions<P> = {},
): ReadInstances<P> {
  const collect = options.badAnnotations === 'collect';
  const root = asObject(parseJsonText(text, file), file);
  const images = checkImages(arrayField(root, 'images', file), file);
  const categories = checkCategories(arrayField(root, 'categories', file), file);
  const annotations = arrayField(root, 'annotations', file);
  const imageById = new Map(images.map((image) => [image.id, image]));
  const categoryIds = new Set(categories.map((c) => c.id));
  const kept: CocoAnnotation[] = [];
  const badAnnotations: BadAnnotation[] = [];
  eachEntryWithId(annotations, file, 'annotations', 'annotation', (ann, where, id, index) => {
    const imageId = idField(ann, 'image_id', where);
    idField(ann, 'category_id', where);
    const problem = annotationProblem(ann, imageById.get(imageId), categoryIds);
    if (!problem) kept.push(ann as unknown as CocoAnnotation);
    else if (!collect) fail(where, problem.reason);
    else badAnnotations.push({ annotationId: id, imageId, index, ...problem });
  });
  const instances = root as unknown as CocoInstances;
  const read = collect ? { instances: { ...instances, annotations: kept }, badAnnotations } : instances;
  return read as ReadInstances<P>;
}

/**
 * Visits each entry of `file`'s array `name` (of `kind`s): an object with an integer `id` no earlier entry
 * has; `where` names it for messages (`file: name[i] (id N)`).
 */
function eachEntryWithId(
  entries: unknown[],
  file: string,
  name: string,
  kind: string,
  visit: (entry: JsonObject, where: string, id: number, index: number) => void,
): void {
  const seen = new Map<number, number>();
  for (let i = 0; i < entries.length; i++) {
    const at = `${file}: ${name}[${i}]`;
    const entry = asObject(entries[i], at);
    const id = idField(entry, 'id', at);
    const first = seen.get(id);
    if (first !== undefined) fail(at, `duplicate ${kind} id ${id} (also ${name}[${first}])`);
    seen.set(id, i);
    visit(entry, `${at} (id ${id})`, id, i);
  }
}

function checkImages(entries: unknown[], file: string): CocoImage[] {
  eachEntryWithId(entries, file, 'images', 'image', (image, where) => {
    numberField(image, 'width', where, 'positive');
    numberField(image, 'height', where, 'positive');
    stringField(image, 'file_name', where);
  });
  return entries as CocoImage[];
}

function checkCategories(entries: unknown[], file: string): CocoCategory[] {
  eachEntryWithId(entries, file, 'categories', 'category', (category, where) => {
    stringField(category, 'name', where);
    if (category.supercategory !== undefined) stringField(category, 'supercategory', where);
  });
  return entries as CocoCategory[];
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
    const image = knownImage(det, where, imageById);
    knownCategory(det, where, categoryIds);
    const box = boxField(det, where);
    numberField(det, 'score', where, 'non-negative');
    const outside = outsideImage(box, image);
    if (outside) fail(where, outside);
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

function knownImage(entry: JsonObject, where: string, imageById: Map<number, CocoImage>): CocoImage {
  const id = idField(entry, 'image_id', where);
  const image = imageById.get(id);
  if (!image) fail(where, unknownImage(id, 'the ground truth'));
  return image;
}

function knownCategory(entry: JsonObject, where: string, categoryIds: Set<number>): void {
  const id = idField(entry, 'category_id', where);
  if (!categoryIds.has(id)) fail(where, unknownCategory(id, 'the ground truth'));
}
