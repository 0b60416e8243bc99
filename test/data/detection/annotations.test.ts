/**
 * COCO instances (read with bad annotations collected) → targets: contiguous labels, the reader's bad
 * annotations skipped and named with their files, boxes within the tolerance clipped, crowds counted, the
 * held-out split.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { InstancesWithBadAnnotations } from '../../../src/data/coco/read.js';
import { categoryMap, detectionSet, splitDetectionSet } from '../../../src/data/detection/annotations.js';
import { readDetectionFixture, writeDetectionFixture } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-annotations-'));
let read: InstancesWithBadAnnotations;
before(async () => {
  await writeDetectionFixture(dir, { bad: true });
  read = await readDetectionFixture(dir);
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
  });

  it('turns COCO boxes into xyxy targets with labels', () => {
    const set = detectionSet(read, join(dir, 'images'), { name: 'fixture' });
    const second = set.images[1];
    assert.equal(second.path, join(dir, 'images', 'img1.png'));
    assert.deepEqual([...second.boxes], [3, 6, 15, 26, 18, 30, 28, 44]);
    assert.deepEqual([...second.labels], [0, 1]);
    assert.deepEqual(set.categories, { ids: [3, 7], names: ['box', 'bar'] });
  });

  it('skips each bad annotation with its id, file and reason; clips one within the tolerance; counts crowds', () => {
    const set = detectionSet(read, join(dir, 'images'), { name: 'fixture' });
    const reasons = set.skipped.map((s) => [s.annotationId, s.path.split('/').pop(), s.reason]);
    assert.deepEqual(reasons, [
      [106, 'img0.png', "'category_id' 99 names no category of this file"],
      [107, 'img0.png', "'bbox' width must be > 0, got 0"],
      [108, 'img1.png', "'bbox' [20,40,20,20] reaches beyond image 11 (32×48) by more than 1 px"],
      [109, '', "'image_id' 77 names no image of this file"],
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

  it('refuses a category the class map it is given lacks', () => {
    const categories = { ids: [3], names: ['box'] };
    assert.throws(
      () => detectionSet(read, join(dir, 'images'), { name: 'fixture validation', categories }),
      /fixture validation: category id 7 \('bar'\) is not in the class map/,
    );
  });

  it('holds out a seeded fifth, each part with its own skipped annotations', () => {
    const set = detectionSet(read, join(dir, 'images'), { name: 'fixture' });
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
