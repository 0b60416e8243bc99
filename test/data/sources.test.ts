/**
 * Data sources as the trainer reads them: an in-memory dataset gives exactly the batches of batches.ts;
 * an image folder gives full training batches that resume at any batch's `next`, reports files skipped
 * after the last full batch with it, evaluates every image, and reads DIR/train + DIR/test (or val).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { batches } from '../../src/data/batches.js';
import { channelStats, splitTrainValidation } from '../../src/data/dataset.js';
import { IMAGENET_MEAN } from '../../src/data/image_folder/transforms.js';
import { memorySource } from '../../src/data/memory_source.js';
import type { DataBatch } from '../../src/data/source.js';
import { loadData, openData, parseDataSpec } from '../../src/data/spec.js';
import { FOLDER_CLASSES, writeColourImage, writeImageFolder } from './folder_fixture.js';
import { writeIdxPair } from './idx_fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-sources-'));
const root = join(dir, 'images');
let corrupt = '';
before(async () => {
  corrupt = (await writeImageFolder(root, { corrupt: true })) as string;
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(it: AsyncIterable<DataBatch>): Promise<DataBatch[]> {
  const out: DataBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

const folder = (at = root, size = 16) => openData(parseDataSpec(`folder:${at}`), { imageSize: size });

describe('memorySource', () => {
  it('gives the batches of batches.ts: split, channel statistics, order, augmentation, resume by batch', async () => {
    const [images, labels] = writeIdxPair(dir, 'mem', { count: 40, side: 8, classes: 3, seed: 4 });
    const loaded = await loadData(parseDataSpec(`idx:${images},${labels}`));
    const source = memorySource(loaded);
    assert.deepEqual([source.size, source.channels, source.classes, source.streamed], [8, 1, 3, false]);
    const t = await source.prepare({ validationFraction: 0.25, seed: 5, batchSize: 6, augment: true });
    const { train, validation } = splitTrainValidation(loaded.train, 0.25, 5);
    const stats = channelStats(train);
    assert.deepEqual(t.normalization, stats);
    assert.deepEqual(t.counts, { train: 30, validation: 10, test: 0 });
    assert.deepEqual(t.splits, ['train', 'validation']);
    assert.equal(t.stepsPerEpoch, 5);
    const want = [...batches(train, { batchSize: 6, seed: 5, epoch: 2, augment: true, dropLast: true, ...stats })];
    const got = await collect(t.trainBatches(2, { batch: 3, cursor: 18 }));
    assert.deepEqual(
      got.map((b) => [b.x, b.y, b.next]),
      want.slice(3).map((b, i) => [b.x, b.y, 6 * (i + 4)]),
    );
    const v = await collect(t.evalBatches('validation'));
    assert.deepEqual(
      v.map((b) => b.x),
      [...batches(validation, { batchSize: 256, shuffle: false, ...stats })].map((b) => b.x),
    );
    assert.throws(() => t.evalBatches('test'), /has no test split/);
    await assert.rejects(
      openData(parseDataSpec(`idx:${images},${labels}`), { imageSize: 16 }),
      /--image-size 16: idx \(.*\) has 8×8 images and is not resized \(only folder:DIR is\)/,
    );
  });
});

describe('imageFolderSource', () => {
  it('describes the folder: 3 channels, --image-size, sorted class names, ImageNet normalisation', async () => {
    const source = await folder(root, 24);
    assert.deepEqual([source.size, source.channels, source.classes, source.streamed], [24, 3, 3, true]);
    assert.deepEqual(source.classNames, FOLDER_CLASSES);
    assert.deepEqual(source.counts, { train: 19, test: 0 });
    const t = await source.prepare({ validationFraction: 0.1, seed: 0, batchSize: 4, augment: true });
    assert.deepEqual(t.counts, { train: 17, validation: 2, test: 0 });
    assert.deepEqual(t.splits, ['train', 'validation']);
    assert.deepEqual(t.normalization.mean, IMAGENET_MEAN);
  });

  it('gives full training batches, reports a file skipped after the last one with it, resumes at any next', async () => {
    // Seed 1, no validation: the corrupt file is the 17th of epoch 0's 19, after the 4 full batches of 16.
    const t = await (await folder()).prepare({ validationFraction: 0, seed: 1, batchSize: 4, augment: true });
    const all = await collect(t.trainBatches(0, { batch: 0, cursor: 0 }));
    assert.deepEqual(
      all.map((b) => [b.size, b.next, b.skipped.map((s) => s.path)]),
      [
        [4, 4, []],
        [4, 8, []],
        [4, 12, []],
        [4, 19, [corrupt]],
      ],
    );
    for (let k = 0; k < all.length; k++) {
      const rest = await collect(t.trainBatches(0, { batch: k + 1, cursor: all[k].next }));
      assert.deepEqual(rest, all.slice(k + 1));
    }
  });

  it('evaluates every readable image in order, in batches of the training size by default', async () => {
    const t = await (await folder()).prepare({ validationFraction: 0, seed: 0, batchSize: 4, augment: false });
    const got = await collect(t.evalBatches('train'));
    assert.deepEqual(
      got.map((b) => b.size),
      [4, 4, 4, 4, 2],
    );
    assert.deepEqual(
      got.flatMap((b) => Array.from(b.y)),
      [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2],
    );
    assert.deepEqual(
      got.flatMap((b) => b.skipped.map((s) => s.path)),
      [corrupt],
    );
    assert.deepEqual(
      (await collect(t.evalBatches('train', { batchSize: 7 }))).map((b) => b.size),
      [7, 7, 4],
    );
  });

  it('reads DIR/train with DIR/test (preferred) or DIR/val as the test part; their classes must match', async () => {
    const split = join(dir, 'split');
    await writeImageFolder(join(split, 'train'), { perClass: 2 });
    await writeImageFolder(join(split, 'val'), { perClass: 1, seed: 1 });
    const source = await folder(split);
    assert.deepEqual(source.classNames, FOLDER_CLASSES);
    assert.deepEqual(source.counts, { train: 6, test: 3 });
    const t = await source.prepare({ validationFraction: 0, seed: 0, batchSize: 2, augment: true });
    assert.deepEqual(t.splits, ['train', 'test']);
    assert.equal(
      (await collect(t.evalBatches('test'))).reduce((n, b) => n + b.size, 0),
      3,
    );
    await writeImageFolder(join(split, 'test'), { perClass: 2, seed: 2 });
    assert.deepEqual((await folder(split)).counts, { train: 6, test: 6 });
    mkdirSync(join(split, 'test', 'zebra'));
    await writeColourImage(join(split, 'test', 'zebra', '0.png'), [9, 9, 9], 8, 0);
    await assert.rejects(
      folder(split),
      new RegExp(
        `the class folders of ${join(split, 'train')} and ${join(split, 'test')} differ .*only in the second: zebra`,
      ),
    );
  });
});
