/**
 * FusedBatchNorm (tfjs's inference batch norm, tf.batchNorm) on the native backend against
 * tfjs's JS kernel, with and without scale and offset, and gradients through tf.grads.
 */
import { before, it } from 'node:test';
import * as tf from '../../src/tf.js';
import { compareOnBackends, describeNative, FAST, gradsOf, randTensor, setup } from '../helpers.js';

interface BnCase {
  x: number[];
  /** Shape of mean, variance, scale and offset. */
  param?: number[];
  eps?: number;
  fast?: boolean;
}

const cases: BnCase[] = [
  { x: [2, 5, 5, 3], fast: true },
  { x: [1, 7, 6, 8], eps: 1e-5 },
  { x: [9, 4], fast: true },
  { x: [3, 5, 2] },
  { x: [6] },
  { x: [2, 3, 3, 4], param: [1, 1, 1, 4] },
  { x: [2, 3, 3, 4], param: [1], eps: 0.1 },
];

function params(c: BnCase, seed: number) {
  const shape = c.param ?? [c.x[c.x.length - 1]];
  return {
    mean: randTensor(shape, seed, -0.5, 0.5),
    variance: randTensor(shape, seed + 1, 0.1, 2),
    offset: randTensor(shape, seed + 2),
    scale: randTensor(shape, seed + 3, 0.5, 1.5),
  };
}

const variants = [
  { name: 'scale and offset', scale: true, offset: true },
  { name: 'scale only', scale: true, offset: false },
  { name: 'offset only', scale: false, offset: true },
  { name: 'neither', scale: false, offset: false },
];

before(async () => {
  await setup();
});

describeNative('FusedBatchNorm (tf.batchNorm)', () => {
  for (const [i, c] of (FAST ? cases.filter((x) => x.fast) : cases).entries()) {
    for (const v of variants) {
      const label = `x [${c.x}] params [${c.param ?? [c.x[c.x.length - 1]]}] eps ${c.eps ?? 'default'}, ${v.name}`;
      it(`forward ${label}`, async () => {
        await compareOnBackends(() => {
          const p = params(c, 10 * i);
          return tf.batchNorm(
            randTensor(c.x, 10 * i + 5),
            p.mean,
            p.variance,
            v.offset ? p.offset : undefined,
            v.scale ? p.scale : undefined,
            c.eps,
          );
        });
      });
      // tfjs's own FusedBatchNorm gradient needs both scale and offset and per-channel [C] params
      // (it fails on every backend otherwise), so only that variant is differentiated.
      if (!v.scale || !v.offset || c.param) continue;
      it(`gradients ${label}`, async () => {
        await compareOnBackends(() => {
          const p = params(c, 10 * i + 100);
          const x = randTensor(c.x, 10 * i + 105);
          const dy = randTensor(c.x, 10 * i + 106);
          return gradsOf(
            (a, m, va, o, s) => tf.batchNorm(a, m, va, o, s, c.eps),
            [x, p.mean, p.variance, p.offset, p.scale],
            dy,
          );
        });
      });
    }
  }
});
