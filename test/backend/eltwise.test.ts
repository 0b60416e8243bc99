/**
 * Add, Sub, Multiply, RealDiv, Maximum, Minimum, Relu, Step and the fused Relu gradient
 * (SasaReluGrad) on the native backend against tfjs's JS kernels.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import * as tf from '../../src/tf.js';
import {
  compareOnBackends,
  describeNative,
  FAST,
  gradsOf,
  randArray,
  randAwayFromZero,
  randTensor,
  setup,
  sizeOf,
  useBackend,
} from '../helpers.js';

type BinaryFn = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

const ops: { name: string; fn: BinaryFn }[] = [
  { name: 'Add', fn: tf.add },
  { name: 'Sub', fn: tf.sub },
  { name: 'Multiply', fn: tf.mul },
  { name: 'RealDiv', fn: tf.div },
  { name: 'Maximum', fn: tf.maximum },
  { name: 'Minimum', fn: tf.minimum },
];

interface ShapeCase {
  name: string;
  a: number[];
  b: number[];
  fast?: boolean;
}

const shapeCases: ShapeCase[] = [
  { name: 'same shape', a: [2, 3, 4, 5], b: [2, 3, 4, 5], fast: true },
  { name: 'scalar on the right', a: [2, 3, 5], b: [], fast: true },
  { name: 'scalar on the left', a: [], b: [3, 7] },
  { name: '[C] against [B,H,W,C]', a: [2, 3, 5, 4], b: [4], fast: true },
  { name: '[B,H,W,C] against [C] (row on the left)', a: [4], b: [2, 3, 5, 4], fast: true },
  { name: '[1,1,1,C] against [B,H,W,C]', a: [2, 3, 3, 6], b: [1, 1, 1, 6] },
  { name: '[H,W,C] against [B,H,W,C]', a: [3, 4, 5, 2], b: [4, 5, 2] },
  { name: '[3,1] x [1,4] (both broadcast)', a: [3, 1], b: [1, 4], fast: true },
  { name: '[2,1,4] x [3,1] (both broadcast, rank differs)', a: [2, 1, 4], b: [3, 1] },
  { name: '[B,1,1,C] x [B,H,W,1]', a: [2, 1, 1, 3], b: [2, 4, 5, 1] },
  { name: 'size-1 non-scalar [1] x [2,3]', a: [1], b: [2, 3] },
  { name: 'scalar x scalar', a: [], b: [], fast: true },
  { name: '[1] x [1,1]', a: [1], b: [1, 1] },
  { name: 'rank 1, odd length', a: [13], b: [13] },
  { name: 'rank 6 alternating broadcast', a: [2, 1, 3, 1, 2, 1], b: [1, 3, 1, 2, 1, 2] },
  { name: 'rank 7 alternating broadcast', a: [2, 1, 3, 1, 2, 1, 2], b: [1, 3, 1, 2, 1, 2, 1] },
  { name: 'size-1 dimensions in the output', a: [1, 3, 1, 4], b: [2, 1, 1, 4] },
  {
    name: 'rank 8 alternating broadcast (beyond the native rank limit)',
    a: [2, 1, 2, 1, 2, 1, 2, 1],
    b: [1, 2, 1, 2, 1, 2, 1, 2],
  },
  { name: 'empty [0,3] x [3]', a: [0, 3], b: [3] },
  { name: 'past the one-thread limit (2^15 elements): [C] against [B,H,W,C]', a: [2, 64, 64, 8], b: [8], fast: true },
];

function operands(c: ShapeCase, name: string, seed: number): [tf.Tensor, tf.Tensor] {
  const a = tf.tensor(randArray(sizeOf(c.a), seed), c.a);
  // Division needs denominators away from zero.
  const bv = name === 'RealDiv' ? randAwayFromZero(sizeOf(c.b), seed + 1) : randArray(sizeOf(c.b), seed + 1);
  return [a, tf.tensor(bv, c.b)];
}

before(async () => {
  await setup();
});

describeNative('binary elementwise kernels', () => {
  for (const op of ops) {
    for (const [i, c] of (FAST ? shapeCases.filter((s) => s.fast) : shapeCases).entries()) {
      it(`${op.name}: ${c.name} [${c.a}] ∘ [${c.b}]`, async () => {
        await compareOnBackends(() => op.fn(...operands(c, op.name, 10 * i)));
      });
    }
  }

  it('NaN and ±Infinity propagate like tfjs', async () => {
    const av = Float32Array.from([Number.NaN, 1, -2, Number.POSITIVE_INFINITY, 0, Number.NaN, 3, -0.5]);
    const bv = Float32Array.from([1, Number.NaN, -3, 2, Number.NEGATIVE_INFINITY, Number.NaN, 3, 0.25]);
    for (const op of ops) {
      await compareOnBackends(() => op.fn(tf.tensor(av, [2, 4]), tf.tensor(bv, [2, 4])), { label: op.name });
      await compareOnBackends(() => op.fn(tf.tensor(av, [2, 4]), tf.tensor(bv.slice(0, 4), [4])), {
        label: `${op.name} row`,
      });
    }
  });

  it('int32 operands (JS fallback)', async () => {
    for (const op of [tf.add, tf.sub, tf.mul, tf.maximum, tf.minimum]) {
      await compareOnBackends(() =>
        op(tf.tensor([1, -2, 3, 4, 5, -6], [2, 3], 'int32'), tf.tensor([7, 8, -9], [3], 'int32')),
      );
    }
  });

  it('gradients through tf.grads with broadcasting', async () => {
    const cases = FAST
      ? [shapeCases[0], shapeCases[3], shapeCases[7]]
      : [shapeCases[0], shapeCases[1], shapeCases[3], shapeCases[4], shapeCases[7], shapeCases[9]];
    for (const op of ops) {
      for (const c of cases) {
        // tfjs's Maximum/Minimum gradients do not reduce over broadcast axes (they throw on every backend).
        if ((op.name === 'Maximum' || op.name === 'Minimum') && c.a.join() !== c.b.join()) continue;
        await compareOnBackends(
          () => {
            const [a, b] = operands(c, op.name, 77);
            const outShape = tf.backend_util.assertAndGetBroadcastShape(c.a, c.b);
            return gradsOf(op.fn, [a, b], randTensor(outShape, 78));
          },
          { label: `${op.name} ${c.name}` },
        );
      }
    }
  });
});

describeNative('Relu, Step and the Relu gradient', () => {
  const special = Float32Array.from([
    0,
    -0,
    1,
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    1e-30,
  ]);
  const shapes = FAST
    ? [
        [2, 7, 5, 3],
        [3, 20000],
      ]
    : [[2, 7, 5, 3], [13], [1, 1], [3, 4097], [3, 20000]];

  it('Relu forward', async () => {
    for (const s of shapes) await compareOnBackends(() => tf.relu(randTensor(s, 1)), { label: `[${s}]` });
  });

  it('Relu forward keeps NaN and handles ±0 and ±Infinity', async () => {
    await compareOnBackends(() => tf.relu(tf.tensor(special)));
  });

  it('Step forward, alpha 0 and 0.3', async () => {
    for (const alpha of [0, 0.3]) {
      for (const s of shapes)
        await compareOnBackends(() => tf.step(randTensor(s, 2), alpha), { label: `[${s}] alpha ${alpha}` });
      await compareOnBackends(() => tf.step(tf.tensor(special), alpha), { label: `special alpha ${alpha}` });
    }
  });

  it('Relu gradient through tf.grads (including exact zeros in x)', async () => {
    for (const s of shapes) {
      await compareOnBackends(
        () => {
          const xv = randArray(sizeOf(s), 3);
          for (let i = 0; i < xv.length; i += 7) xv[i] = 0;
          return gradsOf((x) => tf.relu(x), [tf.tensor(xv, s)], randTensor(s, 4));
        },
        { label: `[${s}]` },
      );
    }
  });

  it('Relu gradient of a composite loss (relu feeding other ops)', async () => {
    await compareOnBackends(() =>
      gradsOf(
        (x, w) => tf.sum(tf.mul(tf.relu(tf.mul(x, w)), tf.relu(x))),
        [randTensor([3, 4, 5], 5), randTensor([5], 6)],
      ),
    );
  });

  it('on native, the Relu gradient runs the fused SasaReluGrad kernel', async () => {
    await useBackend('native');
    const profile = await tf.profile(() => {
      const [g] = gradsOf((x) => tf.relu(x), [randTensor([4, 6], 7)], randTensor([4, 6], 8));
      return g;
    });
    const names = profile.kernelNames;
    assert.ok(names.includes('SasaReluGrad'), `kernels run: ${names.join(', ')}`);
    assert.ok(!names.includes('Step'), `the composite gradient ran too: ${names.join(', ')}`);
  });
});
