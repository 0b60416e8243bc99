/**
 * The shapes generator: coverage against analytic areas, scene statistics (every category and COCO size
 * class, boxes inside the image, nobody hidden beyond 60 %), byte-identical output for a seed, and the
 * output folder rules.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CocoInstances } from '../../../src/data/coco/instances.js';
import { extent, type Geometry, rasterize } from '../../../src/data/detection/shapes/raster.js';
import {
  GRAIN,
  MIN_VISIBLE,
  renderScene,
  SHAPE_CATEGORIES,
  type SizeClass,
  sideRanges,
  sizeClassOf,
} from '../../../src/data/detection/shapes/scene.js';
import { writeShapesDataset } from '../../../src/data/detection/shapes/write.js';
import { hashInts, rng } from '../../../src/data/random.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-shapes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);

/** Shoelace area of a polygon [x0, y0, …] (a star as its outline: simple, so even-odd = inside). */
function polygonArea(p: number[]): number {
  let twice = 0;
  for (let i = 0, j = p.length - 2; i < p.length; j = i, i += 2) twice += p[j] * p[i + 1] - p[i] * p[j + 1];
  return Math.abs(twice) / 2;
}

function star(cx: number, cy: number, outer: number, inner: number, rotation: number): number[] {
  const p: number[] = [];
  for (let i = 0; i < 10; i++) {
    const a = rotation + (Math.PI * i) / 5;
    const r = i % 2 ? inner : outer;
    p.push(cx + r * Math.cos(a), cy + r * Math.sin(a));
  }
  return p;
}

describe('rasterize', () => {
  const cases: [string, Geometry, number][] = [
    ['circle', { kind: 'circle', cx: 20.4, cy: 21.7, r: 10.3 }, Math.PI * 10.3 ** 2],
    ['triangle', { kind: 'polygon', points: [3.2, 4.1, 30.7, 9.9, 12.5, 35.3] }, 0],
    ['star', { kind: 'polygon', points: star(24.3, 23.1, 18.2, 7.5, 0.3) }, 0],
  ];
  for (const [name, g, circleArea] of cases) {
    it(`covers the ${name}'s area and stays inside its extent, touching each side`, () => {
      const area = g.kind === 'circle' ? circleArea : polygonArea(g.points);
      const m = rasterize(g, 64, 64);
      assert.ok(Math.abs(sum(m.cover) - area) < 0.003 * area, `${sum(m.cover)} vs ${area}`);
      assert.ok(m.cover.every((v) => v >= 0 && v <= 1 + 1e-6));
      const [x1, y1, x2, y2] = extent(g);
      assert.deepEqual([m.left, m.top], [Math.floor(x1), Math.floor(y1)]);
      assert.deepEqual([m.left + m.width, m.top + m.height], [Math.ceil(x2), Math.ceil(y2)]);
      const row = (r: number) => m.cover.subarray(r * m.width, (r + 1) * m.width);
      const col = (c: number) => Float32Array.from({ length: m.height }, (_, r) => m.cover[r * m.width + c]);
      for (const edge of [row(0), row(m.height - 1), col(0), col(m.width - 1)]) assert.ok(sum(edge) > 0);
    });
  }

  it('clips to the image', () => {
    const m = rasterize({ kind: 'circle', cx: 2, cy: 30, r: 6 }, 32, 32);
    assert.deepEqual([m.left, m.top, m.width, m.height], [0, 24, 8, 8]);
  });
});

describe('renderScene', () => {
  const scenes = Array.from({ length: 40 }, (_, i) => renderScene(256, rng(hashInts(11, i))));
  const objects = scenes.flatMap((s) => s.objects);

  it('draws every category and every COCO size class at 256 × 256, boxes inside the image', () => {
    const categories = new Set(objects.map((o) => o.categoryId));
    assert.deepEqual(
      [...categories].sort(),
      SHAPE_CATEGORIES.map((c) => c.id),
    );
    const sizes: Record<SizeClass, number> = { small: 0, medium: 0, large: 0 };
    for (const o of objects) sizes[sizeClassOf(o.area)]++;
    for (const k of ['small', 'medium', 'large'] as const)
      assert.ok(sizes[k] >= 0.1 * objects.length, `${k} ${sizes[k]}`);
    for (const o of objects) {
      const [x, y, w, h] = o.bbox;
      assert.ok(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 256 && y + h <= 256, `box [${o.bbox}]`);
      assert.ok(Math.abs(o.area - w * h) <= 0.01 + 1e-9 * o.area, 'area is the box area');
    }
    assert.ok(objects.length >= 3 * scenes.length, `${objects.length} objects`);
  });

  it('hides no object beyond 60 %, and some partly', () => {
    for (const o of objects) assert.ok(o.visible >= MIN_VISIBLE, `visible ${o.visible}`);
    assert.ok(objects.some((o) => o.visible < 0.95));
  });

  it('has no large class on small images', () => {
    assert.deepEqual(Object.keys(sideRanges(256)), ['small', 'medium', 'large']);
    assert.deepEqual(Object.keys(sideRanges(64)), ['small', 'medium']);
    assert.ok(renderScene(64, rng(1)).objects.every((o) => sizeClassOf(o.area) !== 'large'));
  });

  it('paints each fully visible circle and square in its colour at its centre (± the grain)', () => {
    let checked = 0;
    for (const s of scenes) {
      for (const o of s.objects) {
        if (o.visible < 1 || o.categoryId > 2) continue;
        const [x, y, w, h] = o.bbox;
        const p = 3 * (Math.floor(y + h / 2) * 256 + Math.floor(x + w / 2));
        for (let ch = 0; ch < 3; ch++) assert.ok(Math.abs(s.rgb[p + ch] - o.colour[ch]) <= GRAIN + 0.5);
        checked++;
      }
    }
    assert.ok(checked > 20, `${checked} objects checked`);
  });
});

const listAll = (root: string): string[] =>
  readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length))
    .sort();

describe('writeShapesDataset', () => {
  const small = { train: 3, val: 2, size: 64, seed: 5 };

  it('writes COCO instances and PNGs, byte-identical for the same seed, different for another', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const c = join(dir, 'c');
    await writeShapesDataset(a, small);
    await writeShapesDataset(b, small);
    await writeShapesDataset(c, { ...small, seed: 6 });
    const files = listAll(a);
    assert.deepEqual(files, listAll(b));
    assert.equal(files.filter((f) => f.endsWith('.png')).length, 5);
    for (const f of files) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f);
    assert.ok(
      !readFileSync(join(a, 'images/train/000000.png')).equals(readFileSync(join(c, 'images/train/000000.png'))),
    );
    const train = JSON.parse(readFileSync(join(a, 'instances_train.json'), 'utf8')) as CocoInstances;
    assert.deepEqual(
      train.images.map((im) => [im.id, im.file_name, im.width, im.height]),
      [0, 1, 2].map((i) => [i + 1, `train/00000${i}.png`, 64, 64]),
    );
    assert.deepEqual(
      train.annotations.map((x) => x.id),
      train.annotations.map((_, i) => i + 1),
    );
    assert.ok(train.annotations.every((x) => x.iscrowd === 0 && x.image_id >= 1 && x.image_id <= 3));
    assert.deepEqual(train.categories, SHAPE_CATEGORIES);
  });

  it('refuses a non-empty folder that is no shapes output, replaces an earlier one', async () => {
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    await assert.rejects(writeShapesDataset(other, small), /other is not empty and holds no shapes output/);
    assert.deepEqual(readdirSync(other), ['notes.txt']);
    const file = join(other, 'notes.txt');
    await assert.rejects(
      writeShapesDataset(file, small),
      /notes\.txt: cannot be used as the output folder \(ENOTDIR\)/,
    );
    const again = join(dir, 'again');
    await writeShapesDataset(again, small);
    await writeShapesDataset(again, { ...small, train: 1 });
    assert.deepEqual(readdirSync(join(again, 'images/train')), ['000000.png']);
    const manifest = JSON.parse(readFileSync(join(again, 'shapes.json'), 'utf8'));
    assert.deepEqual([manifest.train, manifest.complete], [1, true]);
  });

  it('checks its options', async () => {
    await assert.rejects(writeShapesDataset(join(dir, 'x'), { size: 8 }), /size must be an integer ≥ 16, got 8/);
    await assert.rejects(writeShapesDataset(join(dir, 'y'), { train: -1 }), /train must be an integer ≥ 0, got -1/);
  });
});
