/** COCO instances → targets: contiguous labels, bad annotations skipped and named (or fatal), the held-out split. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CocoInstances } from '../../../src/data/coco/instances.js';
import { categoryMap, detectionSet, splitDetectionSet } from '../../../src/data/detection/annotations.js';
import { writeDetectionFixture } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-annotations-'));
let instances: CocoInstances;
before(async () => {
  instances = await writeDetectionFixture(dir, { bad: true });
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('detection annotations', () => {
  it('maps category ids, sorted, to class indices 0..K−1', () => {
    assert.deepEqual(
      categoryMap([
        { id: 7, name: 'bar' },
        { id: 3, name: 'box' },
        { id: 12, name: 'x' },
      ]),
      {
        ids: [3, 7, 12],
        names: ['box', 'bar', 'x'],
      },
    );
    assert.throws(
      () =>
        categoryMap(
          [
            { id: 2, name: 'a' },
            { id: 2, name: 'b' },
          ],
          'f.json',
        ),
      /f.json: category id 2 appears twice/,
    );
  });

  it('turns COCO boxes into xyxy targets with labels', () => {
    const set = detectionSet(instances, join(dir, 'images'), { name: 'fixture' });
    const second = set.images[1];
    assert.equal(second.path, join(dir, 'images', 'img1.png'));
    assert.deepEqual([...second.boxes], [3, 6, 15, 26, 18, 30, 28, 44]);
    assert.deepEqual([...second.labels], [0, 1]);
    assert.deepEqual(set.categories, { ids: [3, 7], names: ['box', 'bar'] });
  });

  it('skips each bad annotation with its id, file and reason; clips one within the tolerance; counts crowds', () => {
    const set = detectionSet(instances, join(dir, 'images'), { name: 'fixture' });
    const reasons = set.skipped.map((s) => [s.annotationId, s.path.split('/').pop(), s.reason]);
    assert.deepEqual(reasons, [
      [106, 'img0.png', 'category_id 99 is not a known category'],
      [107, 'img0.png', 'bbox [1, 1, 0, 5] has zero area'],
      [108, 'img1.png', 'bbox [20, 40, 20, 20] reaches outside the 32×48 image'],
      [109, '', 'image_id 77 is not in the images list'],
    ]);
    assert.equal(set.skipped[3].path, '');
    assert.deepEqual(
      set.images[0].skipped.map((s) => s.annotationId),
      [106, 107],
    );
    assert.equal(set.crowd, 1);
    assert.equal(set.images[2].crowd, 1);
    assert.deepEqual([...set.images[2].boxes], [10, 10, 31, 27, 0, 30, 9.5, 40]);
    assert.deepEqual([...set.images[0].boxes], [5, 4, 25, 16]);
  });

  it('refuses an images list with an id twice', () => {
    const twice = { ...instances, images: [...instances.images, { ...instances.images[1], file_name: 'again.png' }] };
    assert.throws(() => detectionSet(twice, dir, { name: 'fixture' }), /fixture: image id 11 appears twice/);
  });

  it('fails on the first bad annotation with strict, naming it', () => {
    assert.throws(
      () => detectionSet(instances, join(dir, 'images'), { name: 'fixture', strict: true }),
      /fixture: annotation 106 \(.*img0\.png\): category_id 99 is not a known category/,
    );
  });

  it('holds out a seeded fifth, each part with its own skipped annotations', () => {
    const set = detectionSet(instances, join(dir, 'images'), { name: 'fixture' });
    const { train, validation } = splitDetectionSet(set, 0.2, 4);
    assert.equal(validation.images.length, 2);
    assert.equal(train.images.length + validation.images.length, set.images.length);
    const ids = (s: typeof set) => s.images.map((im) => im.id);
    assert.deepEqual([...ids(train), ...ids(validation)].sort(), ids(set).sort());
    assert.deepEqual(ids(splitDetectionSet(set, 0.2, 4).validation), ids(validation));
    assert.notDeepEqual(
      [0, 1, 2, 3, 5].map((s) => ids(splitDetectionSet(set, 0.2, s).validation).join()),
      Array(5).fill(ids(validation).join()),
    );
    assert.equal(train.skipped.length + validation.skipped.length, set.skipped.length);
    assert.equal(train.crowd + validation.crowd, 1);
  });
});
