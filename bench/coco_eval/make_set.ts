/**
 * A seeded synthetic COCO evaluation set: 5 000 images, 40 000 ground-truth boxes (1 % crowds), 400 000
 * detections over 80 categories (jittered copies of ground truths and random boxes, scores with 3
 * decimals so many tie). Writes gt.json and dt.json (a results list) into DIR.
 *
 *   npx tsx bench/coco_eval/make_set.ts DIR [--images 5000] [--gt 40000] [--dt 400000] [--seed 1]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type {
  CocoAnnotation,
  CocoBox,
  CocoDetection,
  CocoImage,
  CocoInstances,
} from '../../src/data/coco/instances.js';
import { rng } from '../../src/data/random.js';

const NUM_CATEGORIES = 80;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** A box inside a W×H image with sides log-uniform in [4, min(400, W, H)]. */
function randomBox(random: () => number, width: number, height: number): CocoBox {
  const side = (limit: number) => Math.min(limit, 4 * (Math.min(400, limit) / 4) ** random());
  const w = round2(side(width));
  const h = round2(side(height));
  return [round2(random() * (width - w)), round2(random() * (height - h)), w, h];
}

/** A detection-like copy of a box: corners moved by ~10 % of its size, kept inside the image. */
function jitter(random: () => number, [x, y, w, h]: CocoBox, width: number, height: number): CocoBox {
  const shift = (v: number, size: number) => v + (random() - 0.5) * 0.2 * size;
  const x0 = Math.max(0, shift(x, w));
  const y0 = Math.max(0, shift(y, h));
  const x1 = Math.min(width, shift(x + w, w));
  const y1 = Math.min(height, shift(y + h, h));
  return [round2(x0), round2(y0), Math.max(0.5, round2(x1 - x0)), Math.max(0.5, round2(y1 - y0))];
}

export function makeSet(numImages: number, numGt: number, numDt: number, seed: number) {
  const random = rng(seed);
  const sizes: [number, number][] = [
    [640, 480],
    [480, 640],
    [640, 427],
    [500, 375],
  ];
  const images: CocoImage[] = Array.from({ length: numImages }, (_, i) => {
    const [width, height] = sizes[Math.floor(random() * sizes.length)];
    return { id: 100000 + 3 * i, width, height, file_name: `${i}.jpg` };
  });
  const categories = Array.from({ length: NUM_CATEGORIES }, (_, c) => ({ id: c + 1, name: `class${c + 1}` }));
  const category = () => 1 + Math.floor(NUM_CATEGORIES * random() ** 2);
  const annotations: CocoAnnotation[] = [];
  const detections: CocoDetection[] = [];
  const score = () => Math.max(0.001, Math.round(random() * 1000) / 1000);
  for (let n = 0; n < numGt; n++) {
    const image = images[Math.floor(random() * numImages)];
    const bbox = randomBox(random, image.width, image.height);
    const iscrowd = random() < 0.01 ? 1 : 0;
    const area = round2(bbox[2] * bbox[3] * (0.5 + 0.5 * random()));
    annotations.push({ id: n + 1, image_id: image.id, category_id: category(), bbox, area, iscrowd });
    for (let k = Math.floor(random() * 4); k > 0 && detections.length < numDt; k--) {
      const bboxDt = jitter(random, bbox, image.width, image.height);
      detections.push({ image_id: image.id, category_id: annotations[n].category_id, bbox: bboxDt, score: score() });
    }
  }
  while (detections.length < numDt) {
    const image = images[Math.floor(random() * numImages)];
    const bbox = randomBox(random, image.width, image.height);
    detections.push({ image_id: image.id, category_id: category(), bbox, score: score() });
  }
  const gt: CocoInstances = { images, annotations, categories };
  return { gt, detections };
}

function main(): void {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      images: { type: 'string', default: '5000' },
      gt: { type: 'string', default: '40000' },
      dt: { type: 'string', default: '400000' },
      seed: { type: 'string', default: '1' },
    },
  });
  const dir = positionals[0];
  if (!dir) throw new Error('usage: make_set.ts DIR [--images N] [--gt N] [--dt N] [--seed S]');
  const { gt, detections } = makeSet(Number(values.images), Number(values.gt), Number(values.dt), Number(values.seed));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'gt.json'), JSON.stringify(gt));
  writeFileSync(join(dir, 'dt.json'), JSON.stringify(detections));
  console.log(
    `${dir}: ${gt.images.length} images, ${gt.annotations.length} ground truths, ${detections.length} detections`,
  );
}

main();
