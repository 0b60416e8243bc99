/** The real Fashion-MNIST IDX files in ../shared/data/fashion-mnist/ (skipped when that folder is absent). */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { channelStats, withClasses } from '../../src/data/dataset.js';
import { loadIdxPair } from '../../src/data/idx.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'data', 'fashion-mnist');
const skip = existsSync(dir)
  ? false
  : `${dir} is absent (Fashion-MNIST is provided on the project machines, SASA.md §7)`;

describe('Fashion-MNIST files', { skip }, () => {
  for (const [split, count] of [
    ['train', 60000],
    ['t10k', 10000],
  ] as const) {
    it(`${split}: ${count} images of 28×28 with labels 0..9`, async () => {
      const images = join(dir, `${split}-images-idx3-ubyte.gz`);
      const set = await loadIdxPair(images, join(dir, `${split}-labels-idx1-ubyte.gz`));
      assert.deepEqual([set.count, set.height, set.width, set.channels], [count, 28, 28, 1]);
      assert.equal(set.images.length, count * 784);
      const ds = withClasses(set, 10, images);
      const perClass = new Array(10).fill(0);
      for (const l of ds.labels) perClass[l]++;
      assert.deepEqual(perClass, new Array(10).fill(count / 10), 'Fashion-MNIST is balanced');
      const { mean, std } = channelStats(ds);
      // The commonly quoted training-set values are 0.2860 and 0.3530.
      assert.ok(Math.abs(mean[0] - 0.286) < 0.005 && Math.abs(std[0] - 0.353) < 0.005, `mean ${mean}, std ${std}`);
    });
  }
});
