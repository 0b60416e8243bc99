/**
 * BatchMatMul (tf.matMul) and _FusedMatMul (tf.fused.matMul) on the native backend against
 * tfjs's JS kernels: every transpose combination, ranks 2-4, batch broadcasting, gradients.
 */
import { before, it } from 'node:test';
import * as tf from '../../src/tf.js';
import {
  assertClose,
  compareOnBackends,
  describeNative,
  FAST,
  gradsOf,
  randArray,
  randTensor,
  runOn,
  setup,
  sizeOf,
} from '../helpers.js';
import { matMulRef } from '../reference.js';

/** Operand shapes for a product [.., m, k] · [.., k, n] with the given transposes. */
function shapes(batchA: number[], batchB: number[], m: number, k: number, n: number, ta: boolean, tb: boolean) {
  return {
    a: [...batchA, ...(ta ? [k, m] : [m, k])],
    b: [...batchB, ...(tb ? [n, k] : [k, n])],
  };
}

interface MatCase {
  name: string;
  batchA: number[];
  batchB: number[];
  m: number;
  k: number;
  n: number;
  fast?: boolean;
}

const matCases: MatCase[] = [
  { name: 'rank 2', batchA: [], batchB: [], m: 5, k: 7, n: 3, fast: true },
  { name: 'rank 2, 1x1 result', batchA: [], batchB: [], m: 1, k: 9, n: 1 },
  { name: 'rank 3', batchA: [3], batchB: [3], m: 4, k: 5, n: 6, fast: true },
  { name: 'rank 3, batch 1', batchA: [1], batchB: [1], m: 7, k: 3, n: 5 },
  { name: 'rank 4', batchA: [2, 3], batchB: [2, 3], m: 3, k: 4, n: 5, fast: true },
  { name: 'rank 3 broadcast [1,..]x[5,..]', batchA: [1], batchB: [5], m: 3, k: 4, n: 2, fast: true },
  { name: 'rank 3 broadcast [4,..]x[1,..]', batchA: [4], batchB: [1], m: 2, k: 5, n: 3 },
  { name: 'rank 4 x rank 2', batchA: [2, 3], batchB: [], m: 4, k: 5, n: 6, fast: true },
  { name: 'rank 2 x rank 3', batchA: [], batchB: [3], m: 4, k: 5, n: 2 },
  { name: 'rank 4 x rank 3 (trailing batch broadcast)', batchA: [2, 3], batchB: [3], m: 2, k: 3, n: 4 },
  { name: 'larger, odd sizes', batchA: [2], batchB: [2], m: 17, k: 33, n: 19 },
];

const transposes: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

before(async () => {
  await setup();
});

describeNative('BatchMatMul (tf.matMul)', () => {
  for (const c of FAST ? matCases.filter((x) => x.fast) : matCases) {
    for (const [ta, tb] of transposes) {
      it(`${c.name}: transposeA=${ta} transposeB=${tb}`, async () => {
        const s = shapes(c.batchA, c.batchB, c.m, c.k, c.n, ta, tb);
        await compareOnBackends(() => tf.matMul(randTensor(s.a, 1), randTensor(s.b, 2), ta, tb));
      });
    }
  }

  it('k = 0 gives zeros', async () => {
    await compareOnBackends(() => tf.matMul(tf.zeros([2, 3, 0]), tf.zeros([2, 0, 4])));
  });

  // tfjs's BatchMatMul gradient does not reduce over broadcast batch dimensions (it throws on
  // [1,..]x[5,..] on every backend), so gradients use equal batches.
  it('gradients through tf.grads, every transpose combination', async () => {
    const list = FAST ? transposes.slice(0, 2) : transposes;
    for (const [ta, tb] of list) {
      for (const c of [matCases[0], matCases[2], matCases[4]]) {
        const s = shapes(c.batchA, c.batchB, c.m, c.k, c.n, ta, tb);
        await compareOnBackends(
          () => gradsOf((a, b) => tf.matMul(a, b, ta, tb), [randTensor(s.a, 3), randTensor(s.b, 4)]),
          { label: `${c.name} ta=${ta} tb=${tb}` },
        );
      }
    }
  });

  it('batch dimensions that broadcast both ways ([3,1,..] x [1,2,..]) match a float64 reference', async () => {
    const aShape = [3, 1, 2, 4];
    const bShape = [1, 2, 4, 5];
    const av = randArray(sizeOf(aShape), 5);
    const bv = randArray(sizeOf(bShape), 6);
    const ref = matMulRef(av, aShape, bv, bShape);
    const [got] = await runOn('native', () => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape)));
    // tfjs's own JS kernel gets this case wrong too (NaN), so the reference is ours.
    if (got.shape.join() !== ref.shape.join()) throw new Error(`shape ${got.shape} != ${ref.shape}`);
    assertClose(got.values, ref.y, { label: 'matMul [3,1,2,4]x[1,2,4,5]' });
  });
});

describeNative('BatchMatMul against a float64 reference', () => {
  it('rank 3 broadcast and transposes agree with plain JS', async () => {
    for (const [ta, tb] of transposes) {
      const s = shapes([1], [5], 3, 4, 2, ta, tb);
      const av = randArray(sizeOf(s.a), 7);
      const bv = randArray(sizeOf(s.b), 8);
      const ref = matMulRef(av, s.a, bv, s.b, ta, tb);
      const [got] = await runOn('native', () => tf.matMul(tf.tensor(av, s.a), tf.tensor(bv, s.b), ta, tb));
      assertClose(got.values, ref.y, { label: `ta=${ta} tb=${tb}` });
    }
  });
});

describeNative('_FusedMatMul (tf.fused.matMul)', () => {
  type Act = 'relu' | 'linear' | 'elu';
  const configs: { activation: Act; bias: 'none' | 'row' | 'scalar' | 'matrix'; note?: string }[] = [
    { activation: 'relu', bias: 'row' },
    { activation: 'linear', bias: 'row' },
    { activation: 'relu', bias: 'none' },
    { activation: 'linear', bias: 'none' },
    { activation: 'relu', bias: 'scalar' },
    { activation: 'relu', bias: 'matrix', note: ' (JS fallback)' },
    { activation: 'elu', bias: 'row', note: ' (JS fallback)' },
  ];
  const fusedCases = [matCases[0], matCases[2], matCases[4], matCases[5]];
  function biasTensor(kind: string, m: number, n: number, seed: number): tf.Tensor | undefined {
    if (kind === 'row') return randTensor([n], seed);
    if (kind === 'scalar') return randTensor([1], seed);
    if (kind === 'matrix') return randTensor([m, n], seed);
    return undefined;
  }
  for (const cfg of FAST ? configs.slice(0, 3) : configs) {
    for (const c of FAST ? fusedCases.slice(0, 2) : fusedCases) {
      for (const [ta, tb] of FAST ? transposes.slice(0, 2) : transposes) {
        const name = `${cfg.activation}, bias ${cfg.bias}${cfg.note ?? ''}: ${c.name} ta=${ta} tb=${tb}`;
        const s = shapes(c.batchA, c.batchB, c.m, c.k, c.n, ta, tb);
        const run = (a: tf.Tensor, b: tf.Tensor, bias?: tf.Tensor) =>
          tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias, activation: cfg.activation });
        it(`forward ${name}`, async () => {
          await compareOnBackends(() =>
            run(randTensor(s.a, 10), randTensor(s.b, 11), biasTensor(cfg.bias, c.m, c.n, 12)),
          );
        });
        // Broadcast batches: forward only (see the BatchMatMul gradient note above).
        if (c.batchA.join() !== c.batchB.join()) continue;
        it(`gradients ${name}`, async () => {
          await compareOnBackends(() => {
            const bias = biasTensor(cfg.bias, c.m, c.n, 13);
            const a = randTensor(s.a, 14);
            const b = randTensor(s.b, 15);
            if (!bias) return gradsOf((p, q) => run(p, q), [a, b]);
            return gradsOf((p, q, r) => run(p, q, r), [a, b, bias]);
          });
        });
      }
    }
  }
});
