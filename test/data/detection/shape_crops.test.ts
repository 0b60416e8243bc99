/**
 * The shapes crops (a classification image folder cut from generated scenes): one crop per object, in
 * its category's folder, of the asked side, centred on the object; byte-identical for a seed, never the
 * detection dataset's scenes; the output folder rules and the option checks.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { cropRectangle, cropsScene, writeShapeCrops } from '../../../src/data/detection/shapes/crops.js';
import { renderScene, SHAPE_CATEGORIES } from '../../../src/data/detection/shapes/scene.js';
import { shapesImage } from '../../../src/data/detection/shapes/write.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-crops-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every PNG under DIR/split, as "category/file" → bytes. */
function files(root: string, split: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const c of SHAPE_CATEGORIES) {
    for (const f of readdirSync(join(root, split, c.name))) {
      out.set(`${c.name}/${f}`, readFileSync(join(root, split, c.name, f)));
    }
  }
  return out;
}

describe('shapes crops', () => {
  it('writes one crop of the asked side per object, in its category’s folder, counted in the summary', async () => {
    const out = join(dir, 'a');
    const summary = await writeShapeCrops(out, { train: 6, val: 2, cropSize: 32, seed: 3 });
    for (const split of ['train', 'val'] as const) {
      const written = files(out, split);
      const total = Object.values(summary[split]).reduce((s, n) => s + n, 0);
      assert.equal(written.size, total, split);
      assert.ok(total >= 3 * (split === 'train' ? 6 : 2) * 0.5, `${split}: ${total} crops`);
      for (const c of SHAPE_CATEGORIES) {
        assert.equal([...written.keys()].filter((k) => k.startsWith(`${c.name}/`)).length, summary[split][c.name]);
      }
      for (const png of written.values()) {
        const meta = await sharp(png).metadata();
        assert.deepEqual([meta.width, meta.height, meta.channels], [32, 32, 3]);
      }
    }
    assert.equal(JSON.parse(readFileSync(join(out, 'shapes-crops.json'), 'utf8')).complete, true);
  });

  it('widens the box by the margin, clipped to the image', () => {
    const scene = { ...renderScene(64, () => 0.5), width: 64, height: 64 };
    const object = { ...scene.objects[0], bbox: [10, 50, 20, 10] as [number, number, number, number] };
    assert.deepEqual(cropRectangle(object, scene, 0.25), { left: 5, top: 45, width: 30, height: 19 });
    assert.deepEqual(cropRectangle(object, scene, 0), { left: 10, top: 50, width: 20, height: 10 });
  });

  it('is byte-identical for a seed, differs for another, and never crops the detection dataset’s images', async () => {
    await writeShapeCrops(join(dir, 'b'), { train: 3, val: 1, seed: 3 });
    await writeShapeCrops(join(dir, 'c'), { train: 3, val: 1, seed: 3 });
    await writeShapeCrops(join(dir, 'd'), { train: 3, val: 1, seed: 4 });
    assert.deepEqual(files(join(dir, 'b'), 'train'), files(join(dir, 'c'), 'train'));
    assert.notDeepEqual(files(join(dir, 'b'), 'train'), files(join(dir, 'd'), 'train'));
    const boxes = (objects: { bbox: number[] }[]) => JSON.stringify(objects.map((o) => o.bbox));
    for (const split of ['train', 'val'] as const) {
      const scene = cropsScene({ seed: 3 }, split, 0);
      const first = [...files(join(dir, 'b'), split).keys()].filter((k) => k.includes('/000000_'));
      assert.equal(first.length, scene.objects.length, `${split}: scene 0's crops`);
      for (const other of ['train', 'val'] as const) {
        const detection = await shapesImage({ train: 1, val: 1, size: 256, seed: 3 }, other, 0);
        assert.notEqual(boxes(scene.objects), boxes(detection.scene.objects), `${split} crops vs detection ${other}`);
      }
    }
  });

  it('refuses a non-empty folder that holds no crops, replaces an earlier output', async () => {
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.txt'), 'x');
    await assert.rejects(
      writeShapeCrops(other, { train: 1, val: 0 }),
      /holds no shapes crops \(no shapes-crops.json\)/,
    );
    const again = join(dir, 'again');
    await writeShapeCrops(again, { train: 4, val: 1, seed: 1 });
    await writeShapeCrops(again, { train: 1, val: 0, seed: 1 });
    const left = files(again, 'train');
    assert.ok(
      [...left.keys()].every((k) => k.includes('/000000_')),
      'only the new scene’s crops',
    );
  });

  it('checks its options, naming them', async () => {
    await assert.rejects(writeShapeCrops(join(dir, 'x'), { train: -1 }), /shapes crops: train must be an integer ≥ 0/);
    await assert.rejects(writeShapeCrops(join(dir, 'x'), { cropSize: 4 }), /cropSize must be an integer ≥ 8, got 4/);
    await assert.rejects(writeShapeCrops(join(dir, 'x'), { margin: 2 }), /margin must be in \[0, 1\], got 2/);
  });
});
