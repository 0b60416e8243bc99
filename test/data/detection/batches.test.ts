/**
 * Detection batches: shapes and padding, boxes on their rectangles after resize/jitter/flip, scale factors
 * back to the original boxes, identical batches with any prefetch, exact resume at `next`, and bad data
 * named in the batches (or fatal with strict).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DetectionSet, detectionSet } from '../../../src/data/detection/annotations.js';
import {
  type DetectionBatch,
  type DetectionBatchOptions,
  detectionBatches,
} from '../../../src/data/detection/batches.js';
import { assertBoxesOnRectangles, FIXTURE_IMAGES, readDetectionFixture, writeDetectionFixture } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-det-batches-'));
const badDir = join(dir, 'bad');
let clean: DetectionSet;
let bad: DetectionSet;
before(async () => {
  await writeDetectionFixture(dir);
  clean = detectionSet(await readDetectionFixture(dir), join(dir, 'images'), { name: 'clean' });
  await writeDetectionFixture(badDir, { bad: true });
  bad = detectionSet(await readDetectionFixture(badDir), join(badDir, 'images'), { name: 'bad' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(it: AsyncIterable<DetectionBatch>): Promise<DetectionBatch[]> {
  const out: DetectionBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

/** Pixels in [0, 1] (mean 0, std 1), so the rectangles are 1 and the background 0. */
const base: DetectionBatchOptions = {
  batchSize: 2,
  shorterSide: 48,
  maxSize: 80,
  divisor: 32,
  mean: [0, 0, 0],
  std: [1, 1, 1],
};

/** Each image of the batch, in its slot, has its boxes on its rectangles. */
function assertOnRectangles(b: DetectionBatch) {
  for (let i = 0; i < b.size; i++) {
    const [h, w] = b.imageSizes.subarray(2 * i, 2 * i + 2);
    const slot = b.x.subarray(i * b.height * b.width * 3);
    const scale = Math.max(b.scales[2 * i], 1 / b.scales[2 * i]);
    assertBoxesOnRectangles(slot, w, h, b.width, b.boxes[i], 1 + scale, [0.01, 0.99]);
  }
}

describe('detectionBatches', () => {
  it('gives [B, H, W, 3] padded to the divisor, boxes on the rectangles, scales back to the original boxes', async () => {
    const batches = await collect(detectionBatches(clean, base));
    assert.deepEqual(
      batches.map((b) => b.size),
      [2, 2, 1],
    );
    assert.deepEqual(
      batches.flatMap((b) => b.imageIds),
      [10, 11, 12, 13, 14],
    );
    for (const b of batches) {
      assert.equal(b.x.length, b.size * b.height * b.width * 3);
      assert.ok(b.height % 32 === 0 && b.width % 32 === 0);
      assertOnRectangles(b);
      for (let i = 0; i < b.size; i++) {
        const [h, w] = b.imageSizes.subarray(2 * i, 2 * i + 2);
        assert.equal(Math.min(h, w), 48);
        assert.ok(b.height >= h && b.width >= w && b.height - h < 32 + 32);
        const original = clean.images[b.imageIds[i] - 10].boxes;
        const back = b.boxes[i].map((v, k) => v / b.scales[2 * i + (k % 2)]);
        back.forEach((v, k) => {
          assert.ok(Math.abs(v - original[k]) < 1e-4);
        });
        assert.equal(b.flipped[i], false);
      }
    }
    assert.deepEqual(batches.at(-1)?.next, 5);
    const first = batches[0];
    const slotPadding = first.x[3 * (first.height * first.width - 1)];
    assert.equal(slotPadding, 0, 'padding is 0');
  });

  it('augments (jitter + flip) as a function of (seed, epoch, image), boxes still on the rectangles', async () => {
    const o = { ...base, augment: true, shorterSide: [32, 40, 56], seed: 3, epoch: 1 };
    const a = await collect(detectionBatches(clean, o));
    const b = await collect(detectionBatches(clean, { ...o, prefetch: 0, concurrency: 1 }));
    assert.deepEqual(a, b);
    for (const batch of a) assertOnRectangles(batch);
    const sides = a.flatMap((x) =>
      Array.from({ length: x.size }, (_, i) => Math.min(x.imageSizes[2 * i], x.imageSizes[2 * i + 1])),
    );
    assert.ok(sides.every((s) => [32, 40, 56].includes(s)));
    const other = await collect(detectionBatches(clean, { ...o, epoch: 2 }));
    assert.notDeepEqual(
      other.map((x) => [x.imageIds, x.flipped, [...x.imageSizes]]),
      a.map((x) => [x.imageIds, x.flipped, [...x.imageSizes]]),
    );
    const manyEpochs = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((epoch) => collect(detectionBatches(clean, { ...o, epoch }))),
    );
    const allFlips = manyEpochs.flat().flatMap((x) => x.flipped);
    assert.ok(allFlips.some(Boolean) && allFlips.some((f) => !f), 'both flipped and unflipped images');
    const flipped = manyEpochs.flat().find((x) => x.flipped[0]) as DetectionBatch;
    const unflippedBoxes = flipped.boxes[0].map((v, k) => (k % 2 ? v : flipped.imageSizes[1] - v));
    assert.throws(
      () => assertOnRectangles({ ...flipped, boxes: [unflippedBoxes, ...flipped.boxes.slice(1)] }),
      /pixel/,
    );
  });

  it('resumes exactly at a batch’s next', async () => {
    const o = { ...base, augment: true, seed: 9, shorterSide: { min: 30, max: 50 } };
    const all = await collect(detectionBatches(clean, o));
    const rest = await collect(detectionBatches(clean, { ...o, from: all[0].next }));
    assert.deepEqual(rest, all.slice(1));
    assert.throws(() => detectionBatches(clean, { ...o, from: 6 }), /from must be an integer in 0..5/);
  });

  it('skips unreadable images and names them with the bad annotations; the epoch’s tail goes with the last batch', async () => {
    const batches = await collect(detectionBatches(bad, { ...base, batchSize: 3 }));
    assert.deepEqual(
      batches.map((b) => b.imageIds),
      [
        [10, 11, 12],
        [13, 14],
      ],
    );
    const skipped = batches.flatMap((b) => b.skipped);
    const files = skipped.filter((s) => s.annotationId === undefined);
    assert.deepEqual(
      files.map((s) => [s.imageId, s.path.split('/').pop()]),
      [
        [90, 'missing.png'],
        [91, 'corrupt.png'],
        [92, 'wrong_size.png'],
      ],
    );
    assert.match(files[0].reason, /ENOENT/);
    assert.match(files[2].reason, /decoded to 20×30, the annotations say 30×20/);
    assert.deepEqual(
      batches[0].skipped.filter((s) => s.annotationId !== undefined).map((s) => s.annotationId),
      [106, 107, 108],
    );
    assert.equal(batches[1].next, 8, 'the last batch reports the images skipped after it');
  });

  it('drops a last, smaller batch when asked, keeping what it skipped', async () => {
    const batches = await collect(detectionBatches(bad, { ...base, batchSize: 3, dropLast: true }));
    assert.deepEqual(
      batches.map((b) => b.size),
      [3],
    );
    assert.equal(batches[0].next, 8);
    assert.equal(batches[0].skipped.filter((s) => s.annotationId === undefined).length, 3);
  });

  it('reports an epoch with no readable image as one empty batch', async () => {
    const unreadable = { ...bad, images: bad.images.filter((im) => im.id >= 90) };
    const batches = await collect(detectionBatches(unreadable, base));
    assert.deepEqual(
      batches.map((b) => [b.size, b.skipped.length, b.next]),
      [[0, 3, 3]],
    );
  });

  it('fails on an unreadable image with strict, naming the file', async () => {
    await assert.rejects(
      collect(detectionBatches(bad, { ...base, strict: true })),
      /missing\.png: image 90: cannot read the image \(no such file or folder, ENOENT/,
    );
  });

  it('checks its options', () => {
    assert.throws(
      () => detectionBatches(clean, { ...base, batchSize: 0 }),
      /batchSize must be a positive integer, got 0/,
    );
    assert.throws(() => detectionBatches(clean, { ...base, shorterSide: [] }), /shorterSide must be/);
    const { maxSize: _, ...noMax } = base;
    assert.throws(
      () => detectionBatches(clean, noMax as DetectionBatchOptions),
      /maxSize must be a positive integer, got undefined/,
    );
    assert.equal(FIXTURE_IMAGES.length, clean.images.length);
  });
});
