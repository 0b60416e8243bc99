/**
 * A tiny COCO detection dataset for tests: black images of a few sizes with white filled rectangles (the
 * objects, boxes exactly on them), PNG, plus the bad data a real set can hold when asked: a missing file,
 * a corrupt file, an image whose annotated size is wrong, and bad annotations (unknown category, zero
 * area, far outside the image, unknown image, a crowd region).
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { CocoAnnotation, CocoImage, CocoInstances } from '../../../src/data/coco/instances.js';
import { type InstancesWithBadAnnotations, readCocoInstances } from '../../../src/data/coco/read.js';

/** Per image: width, height and its rectangles [x, y, w, h] (integers: pixel-exact). */
export const FIXTURE_IMAGES: { width: number; height: number; rects: number[][] }[] = [
  { width: 48, height: 32, rects: [[5, 4, 20, 12]] },
  {
    width: 32,
    height: 48,
    rects: [
      [3, 6, 12, 20],
      [18, 30, 10, 14],
    ],
  },
  { width: 40, height: 40, rects: [[10, 10, 21, 17]] },
  { width: 36, height: 28, rects: [[20, 2, 14, 22]] },
  { width: 44, height: 30, rects: [[1, 1, 15, 8]] },
];

/** Two categories, ids out of order: class 0 is id 3 ('box'), class 1 is id 7 ('bar'). */
const CATEGORIES = [
  { id: 7, name: 'bar' },
  { id: 3, name: 'box' },
];

/** Writes a black image with white rectangles. */
export async function writeRectangles(path: string, width: number, height: number, rects: number[][]) {
  const raw = Buffer.alloc(width * height * 3);
  for (const [x, y, w, h] of rects) {
    for (let r = y; r < y + h; r++) raw.fill(255, 3 * (r * width + x), 3 * (r * width + x + w));
  }
  await sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(path);
}

export interface FixtureOptions {
  /** Add the bad files and annotations. */
  bad?: boolean;
}

/** Writes DIR/instances.json + DIR/images/…; returns the instances written. */
export async function writeDetectionFixture(dir: string, { bad = false }: FixtureOptions = {}): Promise<CocoInstances> {
  await mkdir(join(dir, 'images'), { recursive: true });
  const images: CocoImage[] = [];
  const annotations: CocoAnnotation[] = [];
  const annotate = (imageId: number, categoryId: number, bbox: [number, number, number, number], iscrowd: 0 | 1 = 0) =>
    annotations.push({
      id: 100 + annotations.length,
      image_id: imageId,
      category_id: categoryId,
      bbox,
      area: bbox[2] * bbox[3],
      iscrowd,
    });
  for (const [i, im] of FIXTURE_IMAGES.entries()) {
    const id = 10 + i;
    const file_name = `img${i}.png`;
    await writeRectangles(join(dir, 'images', file_name), im.width, im.height, im.rects);
    images.push({ id, width: im.width, height: im.height, file_name });
    for (const [k, r] of im.rects.entries()) annotate(id, k % 2 ? 7 : 3, r as [number, number, number, number]);
  }
  if (bad) {
    images.push({ id: 90, width: 20, height: 20, file_name: 'missing.png' });
    images.push({ id: 91, width: 20, height: 20, file_name: 'corrupt.png' });
    await writeFile(join(dir, 'images', 'corrupt.png'), 'not a PNG at all');
    images.push({ id: 92, width: 30, height: 20, file_name: 'wrong_size.png' });
    await writeRectangles(join(dir, 'images', 'wrong_size.png'), 20, 30, [[2, 2, 5, 5]]);
    annotate(10, 99, [1, 1, 5, 5]); // unknown category
    annotate(10, 3, [1, 1, 0, 5]); // zero width
    annotate(11, 3, [20, 40, 20, 20]); // far outside the 32 × 48 image
    annotate(77, 3, [1, 1, 5, 5]); // unknown image
    annotate(12, 7, [0, 0, 40, 40], 1); // crowd
    annotate(12, 3, [-0.5, 30, 10, 10.5]); // within the tolerance: clipped to [0, 30, 10, 40]
  }
  const instances = { images, annotations, categories: CATEGORIES };
  await writeFile(join(dir, 'instances.json'), JSON.stringify(instances));
  return instances;
}

/** DIR/instances.json as openDetectionData reads it: bad annotations collected. */
export function readDetectionFixture(dir: string): Promise<InstancesWithBadAnnotations> {
  return readCocoInstances(join(dir, 'instances.json'), { badAnnotations: 'collect' });
}

/**
 * The rectangle is where the box says, in channel 0 of an image [height, width, 3] laid out with row
 * stride `stride` pixels: pixels ≥ `margin` inside the box are ≥ hi, pixels ≥ `margin` outside it and
 * outside every other box are ≤ lo.
 */
export function assertBoxesOnRectangles(
  data: Float32Array,
  width: number,
  height: number,
  stride: number,
  boxes: Float32Array,
  margin: number,
  [lo, hi]: [number, number],
) {
  const n = boxes.length / 4;
  const near = (c: number, r: number, k: number, m: number) =>
    c + 1 > boxes[4 * k] - m && c < boxes[4 * k + 2] + m && r + 1 > boxes[4 * k + 1] - m && r < boxes[4 * k + 3] + m;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const v = data[3 * (r * stride + c)];
      for (let k = 0; k < n; k++) {
        const [x1, y1, x2, y2] = boxes.subarray(4 * k, 4 * k + 4);
        if (c >= x1 + margin && c + 1 <= x2 - margin && r >= y1 + margin && r + 1 <= y2 - margin) {
          assert.ok(v >= hi, `pixel (${r}, ${c}) = ${v} inside box ${k} [${x1}, ${y1}, ${x2}, ${y2}]`);
        }
      }
      if (!Array.from({ length: n }, (_, k) => near(c, r, k, margin)).some(Boolean)) {
        assert.ok(v <= lo, `pixel (${r}, ${c}) = ${v} outside every box`);
      }
    }
  }
}
