/** In-memory datasets: seeded split, per-epoch order, batches, augmentation and normalisation. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { augmentParams, batchCount, batches } from '../../src/data/batches.js';
import { channelStats, epochOrder, type ImageDataset, splitTrainValidation } from '../../src/data/dataset.js';

/** `count` images h×w×c whose bytes are distinct per image where possible; label = index mod classes. */
function synthetic(count: number, h: number, w: number, c: number, classes = 10): ImageDataset {
  const images = new Uint8Array(count * h * w * c);
  for (let i = 0; i < images.length; i++) images[i] = (i * 37 + Math.floor(i / 251)) & 255;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % classes);
  return { images, labels, count, height: h, width: w, channels: c, classes };
}

const per = (ds: ImageDataset) => ds.height * ds.width * ds.channels;
const image = (ds: ImageDataset, i: number) => ds.images.subarray(i * per(ds), (i + 1) * per(ds));

describe('dataset', () => {
  it('splits deterministically into disjoint parts that cover the dataset', () => {
    const ds = synthetic(50, 2, 2, 1);
    // Tag each image by its index in its first byte so the parts can be traced back.
    for (let i = 0; i < ds.count; i++) ds.images[i * 4] = i;
    const a = splitTrainValidation(ds, 0.2, 7);
    const b = splitTrainValidation(ds, 0.2, 7);
    const c = splitTrainValidation(ds, 0.2, 8);
    assert.deepEqual(a, b);
    assert.equal(a.validation.count, 10);
    assert.equal(a.train.count, 40);
    const ids = (d: ImageDataset) => Array.from({ length: d.count }, (_, i) => d.images[i * 4]);
    const all = [...ids(a.train), ...ids(a.validation)].sort((x, y) => x - y);
    assert.deepEqual(
      all,
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.notDeepEqual(ids(a.validation), ids(c.validation));
    for (const d of [a.train, a.validation]) {
      const t = ids(d);
      assert.deepEqual(
        t,
        [...t].sort((x, y) => x - y),
        'parts keep the original order',
      );
      t.forEach((id, i) => {
        assert.equal(d.labels[i], id % 10);
        assert.deepEqual(image(d, i), image(ds, id));
      });
    }
    assert.equal(splitTrainValidation(ds, 0, 1).train.count, 50);
    assert.throws(() => splitTrainValidation(ds, 1, 1), /fraction must be in \[0, 1\), got 1/);
  });

  it('gives each (seed, epoch) its own fixed permutation', () => {
    const e0 = epochOrder(100, 3, 0);
    assert.deepEqual(epochOrder(100, 3, 0), e0);
    assert.deepEqual(
      Array.from(e0).sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.notDeepEqual(epochOrder(100, 3, 1), e0);
    assert.notDeepEqual(epochOrder(100, 4, 0), e0);
  });

  it('batches follow the epoch order, resume from a batch, and drop or keep the last', () => {
    const ds = synthetic(10, 3, 3, 1);
    const all = [...batches(ds, { batchSize: 4, seed: 5, epoch: 2 })];
    assert.deepEqual(
      all.map((b) => b.size),
      [4, 4, 2],
    );
    assert.equal(batchCount(10, 4), 3);
    assert.equal(batchCount(10, 4, true), 2);
    const order = epochOrder(10, 5, 2);
    assert.deepEqual(Array.from(all.flatMap((b) => Array.from(b.indices))), Array.from(order));
    for (const b of all) {
      b.indices.forEach((j, i) => {
        assert.equal(b.y[i], ds.labels[j]);
        assert.deepEqual(
          Array.from(b.x.subarray(i * 9, (i + 1) * 9)),
          Array.from(image(ds, j), (v) => Math.fround(v / 255)),
        );
      });
    }
    assert.equal([...batches(ds, { batchSize: 4, seed: 5, epoch: 2, dropLast: true })].length, 2);
    const resumed = [...batches(ds, { batchSize: 4, seed: 5, epoch: 2, fromBatch: 1 })];
    assert.deepEqual(resumed, all.slice(1));
    const plain = [...batches(ds, { batchSize: 10, shuffle: false })][0];
    assert.deepEqual(
      Array.from(plain.indices),
      Array.from({ length: 10 }, (_, i) => i),
    );
    assert.throws(() => batches(ds, { batchSize: 0 }).next(), /batchSize must be a positive integer/);
    assert.throws(
      () => batches(ds, { batchSize: 2, fromBatch: -1 }).next(),
      /fromBatch must be a non-negative integer/,
    );
  });

  it('normalises with per-channel mean and std from channelStats', () => {
    const ds = synthetic(20, 4, 4, 3);
    const { mean, std } = channelStats(ds);
    for (let c = 0; c < 3; c++) {
      const v = Array.from(
        ds.images.filter((_, i) => i % 3 === c),
        (x) => x / 255,
      );
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      const s = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
      assert.ok(Math.abs(mean[c] - m) < 1e-12 && Math.abs(std[c] - s) < 1e-12);
    }
    const [b] = [...batches(ds, { batchSize: 20, shuffle: false, mean, std })];
    for (let c = 0; c < 3; c++) {
      const v = Array.from(b.x.filter((_, i) => i % 3 === c));
      const m = v.reduce((a, x) => a + x, 0) / v.length;
      const s = Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / v.length);
      assert.ok(Math.abs(m) < 1e-5 && Math.abs(s - 1) < 1e-5, `channel ${c}: mean ${m}, std ${s}`);
    }
    assert.throws(() => batches(ds, { batchSize: 2, mean: [0], std: [1] }).next(), /need 3 values/);
    assert.throws(() => batches(ds, { batchSize: 2, mean: [0, 0, 0], std: [1, 0, 1] }).next(), /std must be positive/);
  });

  it('augments deterministically per (seed, epoch, index) with real crops and flips', () => {
    const ds = synthetic(64, 32, 32, 3);
    const run = (seed: number, epoch: number) =>
      [...batches(ds, { batchSize: 16, seed, epoch, augment: true })].map((b) => b.x);
    assert.deepEqual(run(1, 0), run(1, 0));
    assert.notDeepEqual(run(1, 0), run(1, 1));
    const params = Array.from({ length: 64 }, (_, i) => augmentParams(1, 0, i, 4));
    assert.ok(params.some((p) => p.flip) && params.some((p) => !p.flip));
    assert.ok(params.every((p) => Math.abs(p.dy) <= 4 && Math.abs(p.dx) <= 4));
    assert.ok(new Set(params.map((p) => `${p.dy},${p.dx}`)).size > 20);
    // Unshuffled so batch row i is image i; check every image against the parameters.
    const [b] = [...batches(ds, { batchSize: 64, shuffle: false, seed: 1, augment: true })];
    let changed = 0;
    for (let i = 0; i < 64; i++) {
      const { dy, dx, flip } = params[i];
      const src = image(ds, i);
      for (let r = 0; r < 32; r++) {
        for (let col = 0; col < 32; col++) {
          const sr = r + dy;
          const sc = (flip ? 31 - col : col) + dx;
          for (let c = 0; c < 3; c++) {
            const want = sr >= 0 && sr < 32 && sc >= 0 && sc < 32 ? src[(sr * 32 + sc) * 3 + c] : 0;
            assert.equal(b.x[((i * 32 + r) * 32 + col) * 3 + c], Math.fround(want / 255));
          }
        }
      }
      if (dy !== 0 || dx !== 0 || flip) {
        assert.notDeepEqual(
          Array.from(b.x.subarray(i * 3072, (i + 1) * 3072)),
          Array.from(src, (v) => Math.fround(v / 255)),
        );
        changed++;
      }
    }
    assert.ok(changed > 50);
  });

  it('pads 2 for 28×28, and a flip-only augmentation mirrors rows', () => {
    const ds = synthetic(40, 28, 28, 1);
    const params = Array.from({ length: 40 }, (_, i) => augmentParams(0, 0, i, 2));
    const [b] = [...batches(ds, { batchSize: 40, shuffle: false, augment: true })];
    const [c] = [...batches(ds, { batchSize: 40, shuffle: false, augment: { pad: 2 } })];
    assert.deepEqual(b, c);
    assert.ok(params.every((p) => Math.abs(p.dy) <= 2 && Math.abs(p.dx) <= 2));
    const [f] = [...batches(ds, { batchSize: 40, shuffle: false, augment: { pad: 0 } })];
    for (let i = 0; i < 40; i++) {
      const flip = augmentParams(0, 0, i, 0).flip;
      const row = Array.from(image(ds, i).subarray(0, 28), (v) => Math.fround(v / 255));
      assert.deepEqual(Array.from(f.x.subarray(i * 784, i * 784 + 28)), flip ? row.reverse() : row);
    }
  });
});
