/**
 * Detection data specs: parsing, a one-file COCO source with a seeded held-out fifth, two files, the shapes
 * dataset generated once into a cache folder, and voc100 (real VOC photos) when /work/shared/data/voc100
 * is present.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DetectionBatch, detectionBatches } from '../../../src/data/detection/batches.js';
import { openDetectionData, parseDetectionSpec, shapesCacheDir } from '../../../src/data/detection/spec.js';
import { writeDetectionFixture } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-det-spec-'));
const badDir = join(dir, 'bad');
before(async () => {
  await writeDetectionFixture(dir);
  await writeDetectionFixture(badDir, { bad: true });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const VOC100 = process.env.SASA_VOC100 ?? '/work/shared/data/voc100';

describe('detection data specs', () => {
  it('parses the forms and names the accepted ones on an error', () => {
    assert.deepEqual(parseDetectionSpec('coco:a.json,imgs'), {
      kind: 'coco',
      name: 'coco (a.json)',
      train: { annotations: 'a.json', images: 'imgs' },
    });
    assert.deepEqual(parseDetectionSpec('coco:a.json,imgs,b.json,vimgs').validation, {
      annotations: 'b.json',
      images: 'vimgs',
    });
    assert.deepEqual(parseDetectionSpec('voc100:/d'), { kind: 'voc100', name: 'voc100 (/d)', dir: '/d' });
    assert.deepEqual(parseDetectionSpec('shapes'), { kind: 'shapes', name: 'shapes' });
    assert.deepEqual(parseDetectionSpec('shapes:out'), { kind: 'shapes', name: 'shapes (out)', dir: 'out' });
    assert.throws(() => parseDetectionSpec('coco:a.json'), /coco takes ANNOTATIONS.json,IMAGES_DIR/);
    assert.throws(() => parseDetectionSpec('voc100'), /voc100 needs DIR/);
    assert.throws(() => parseDetectionSpec('pascal:x'), /not a known detection data source; use coco:/);
  });

  it('holds out a seeded fifth of a one-file source', async () => {
    const data = await openDetectionData(
      parseDetectionSpec(`coco:${join(dir, 'instances.json')},${join(dir, 'images')}`),
      {
        seed: 1,
      },
    );
    assert.deepEqual([data.train.images.length, data.validation.images.length], [4, 1]);
    assert.deepEqual(data.categories.names, ['box', 'bar']);
    const again = await openDetectionData(parseDetectionSpec(`voc100:${dir}`), { seed: 1 });
    assert.deepEqual(
      again.validation.images.map((im) => im.id),
      data.validation.images.map((im) => im.id),
    );
    const two = `coco:${join(dir, 'instances.json')},${join(dir, 'images')},${join(dir, 'instances.json')},${join(dir, 'images')}`;
    const both = await openDetectionData(parseDetectionSpec(two));
    assert.deepEqual([both.train.images.length, both.validation.images.length], [5, 5]);
  });

  it('names a missing or malformed annotations file', async () => {
    const open = (annotations: string) => openDetectionData(parseDetectionSpec(`coco:${annotations},${dir}`));
    await assert.rejects(open(join(dir, 'nope.json')), /nope\.json: cannot read \(no such file or folder, ENOENT\)/);
    const partial = join(dir, 'partial.json');
    writeFileSync(partial, JSON.stringify({ images: [], annotations: [] }));
    await assert.rejects(open(partial), /partial\.json: 'categories' must be an array, got nothing/);
    const twice = join(dir, 'twice.json');
    const images = [1, 1].map((id) => ({ id, width: 4, height: 4, file_name: 'a.png' }));
    writeFileSync(twice, JSON.stringify({ images, annotations: [], categories: [] }));
    await assert.rejects(open(twice), /twice\.json: images\[1\]: duplicate image id 1 \(also images\[0\]\)/);
  });

  it('skips bad annotations by id and file, or with strict fails on the first, naming it', async () => {
    const spec = parseDetectionSpec(`voc100:${badDir}`);
    const data = await openDetectionData(spec);
    const skipped = [...data.train.skipped, ...data.validation.skipped].map((s) => s.annotationId);
    assert.deepEqual(skipped.sort(), [106, 107, 108, 109]);
    await assert.rejects(
      openDetectionData(spec, { strict: true }),
      /bad\/instances\.json: annotations\[6\] \(id 106\): 'category_id' 99 names no category of this file/,
    );
  });

  it('generates shapes once into the cache folder and reuses it', async () => {
    const options = { cacheDir: join(dir, 'cache'), shapes: { train: 4, val: 2, size: 64, seed: 2 } };
    let generated = 0;
    const first = await openDetectionData(parseDetectionSpec('shapes'), { ...options, onGenerate: () => generated++ });
    assert.equal(generated, 6);
    assert.ok(existsSync(join(shapesCacheDir(options), 'images', 'val', '000001.png')));
    const second = await openDetectionData(parseDetectionSpec('shapes'), { ...options, onGenerate: () => generated++ });
    assert.equal(generated, 6, 'the second open reads the cache');
    assert.deepEqual([second.train.images.length, second.validation.images.length], [4, 2]);
    assert.deepEqual(second.categories.names, ['circle', 'square', 'triangle', 'star']);
    assert.deepEqual(second.train.images[3].boxes, first.train.images[3].boxes);
    const byDir = await openDetectionData(parseDetectionSpec(`shapes:${shapesCacheDir(options)}`));
    assert.equal(byDir.validation.images.length, 2);
    mkdirSync(join(dir, 'empty'));
    await assert.rejects(
      openDetectionData(parseDetectionSpec(`shapes:${join(dir, 'empty')}`)),
      /not a complete shapes output/,
    );
  });

  it('opens voc100: 100 photos, 273 boxes, 20 categories; decodes a batch', {
    skip: existsSync(VOC100) ? false : `voc100 not present at ${VOC100} (set SASA_VOC100 to its folder)`,
  }, async () => {
    const data = await openDetectionData(parseDetectionSpec(`voc100:${VOC100}`));
    assert.equal(data.categories.ids.length, 20);
    assert.deepEqual([data.train.images.length, data.validation.images.length], [80, 20]);
    const boxes = [...data.train.images, ...data.validation.images].reduce((n, im) => n + im.labels.length, 0);
    assert.equal(
      boxes + data.train.skipped.length + data.validation.skipped.length + data.train.crowd + data.validation.crowd,
      273,
    );
    const batches: DetectionBatch[] = [];
    for await (const b of detectionBatches(data.validation, { batchSize: 2, shorterSide: 96, maxSize: 160 })) {
      batches.push(b);
      break;
    }
    const [b] = batches;
    assert.equal(b.size, 2);
    assert.deepEqual(b.skipped, []);
    for (let i = 0; i < 2; i++) {
      const [h, w] = b.imageSizes.subarray(2 * i, 2 * i + 2);
      assert.ok(Math.min(h, w) === 96 || Math.max(h, w) === 160);
      const boxesIn = b.boxes[i];
      for (let k = 0; k < boxesIn.length; k += 4) assert.ok(boxesIn[k + 2] <= w + 1e-3 && boxesIn[k + 3] <= h + 1e-3);
    }
  });
});
