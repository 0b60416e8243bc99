/**
 * Sum and Mean on the native backend against tfjs's JS kernels: all axes, leading, trailing,
 * middle contiguous and non-contiguous axes (a strided copy first), keepDims, and gradients.
 */
import { before, it } from 'node:test';
import * as tf from '../../src/tf.js';
import { compareOnBackends, describeNative, FAST, gradsOf, randTensor, setup } from '../helpers.js';

interface ReduceCase {
  name: string;
  shape: number[];
  axis?: number | number[];
  fast?: boolean;
}

const cases: ReduceCase[] = [
  { name: 'all axes', shape: [3, 4, 5, 6], fast: true },
  { name: 'leading axis', shape: [3, 4, 5, 6], axis: 0, fast: true },
  { name: 'leading two axes', shape: [3, 4, 5, 6], axis: [0, 1] },
  { name: 'leading three axes (batch-norm style)', shape: [2, 5, 3, 7], axis: [0, 1, 2] },
  { name: 'trailing axis', shape: [3, 4, 5, 6], axis: 3, fast: true },
  { name: 'trailing axis as -1', shape: [3, 4, 5, 6], axis: -1 },
  { name: 'trailing two axes', shape: [3, 4, 5, 6], axis: [2, 3] },
  { name: 'middle contiguous [1,2]', shape: [3, 4, 5, 6], axis: [1, 2], fast: true },
  { name: 'middle contiguous, unsorted [2,1]', shape: [3, 4, 5, 6], axis: [2, 1] },
  { name: 'non-contiguous [0,2]', shape: [3, 4, 5, 6], axis: [0, 2], fast: true },
  { name: 'non-contiguous [1,3]', shape: [3, 4, 5, 6], axis: [1, 3] },
  { name: 'non-contiguous [0,4] (the attention stem mixture gradient)', shape: [50, 2, 2, 4, 3], axis: [0, 4] },
  { name: 'non-contiguous, unsorted [3,0]', shape: [3, 4, 5, 6], axis: [3, 0] },
  { name: 'rank 1', shape: [17] },
  { name: 'rank 2, axis 0 (one outer slice)', shape: [33, 5], axis: 0 },
  { name: 'rank 2, axis 1', shape: [7, 9], axis: 1 },
  { name: 'axis of size 1', shape: [3, 1, 4], axis: 1 },
  { name: 'batch 1, leading axis', shape: [1, 5, 5, 3], axis: 0 },
  { name: 'long reduction (accuracy)', shape: [4099], axis: 0 },
  { name: 'empty axis list (identity)', shape: [2, 3], axis: [] },
];

before(async () => {
  await setup();
});

for (const kind of ['Sum', 'Mean'] as const) {
  const op = kind === 'Sum' ? tf.sum : tf.mean;
  describeNative(`${kind} (tf.${kind.toLowerCase()})`, () => {
    for (const [i, c] of (FAST ? cases.filter((x) => x.fast) : cases).entries()) {
      for (const keepDims of [false, true]) {
        it(`${c.name}: [${c.shape}] axis ${JSON.stringify(c.axis ?? null)} keepDims=${keepDims}`, async () => {
          await compareOnBackends(() => op(randTensor(c.shape, 40 + i), c.axis, keepDims));
        });
      }
    }

    it('int32 input (JS fallback)', async () => {
      await compareOnBackends(() => op(tf.tensor([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), 1));
    });

    it('scalar input (JS fallback)', async () => {
      await compareOnBackends(() => op(tf.scalar(2.5)));
    });

    it('gradients through tf.grads', async () => {
      const list = FAST ? [cases[1], cases[7], cases[9]] : cases;
      for (const c of list) {
        await compareOnBackends(() => gradsOf((x) => tf.mul(op(x, c.axis), 1.5), [randTensor(c.shape, 90)]), {
          label: c.name,
        });
      }
    });
  });
}
