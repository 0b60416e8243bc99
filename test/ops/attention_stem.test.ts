/**
 * stemAttention: on the active backend, its kernels (composed ones on tfjs's cpu, fused ones on the
 * native backend, composed ones there too for blocks over 100 pixels) against stemAttentionReference
 * (tfjs ops and localAttention2d, differentiated by tfjs); and the native fused kernels against the
 * cpu backend's, values and gradients.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { stemAttention, stemAttentionReference } from '../../src/ops/attention_stem.js';
import * as tf from '../../src/tf.js';
import { compareOnBackends, describeNative, randTensor, setup, weightedSum } from '../helpers.js';

interface Case {
  n: number;
  s: number;
  dIn: number;
  filters: number;
  heads: number;
  positions: 'one' | 'each';
  relative: boolean;
  scale?: number | 'none';
}

const CASES: Case[] = [
  { n: 5, s: 4, dIn: 3, filters: 16, heads: 4, positions: 'each', relative: true },
  { n: 3, s: 4, dIn: 3, filters: 16, heads: 4, positions: 'one', relative: true },
  { n: 4, s: 4, dIn: 2, filters: 8, heads: 2, positions: 'each', relative: false },
  { n: 2, s: 3, dIn: 5, filters: 12, heads: 3, positions: 'each', relative: true, scale: 'none' },
  { n: 2, s: 2, dIn: 1, filters: 4, heads: 1, positions: 'one', relative: true, scale: 0.7 },
  // the paper's stem (heads of 16 channels, one vector): logits through d_in (3 < 16), and d_in 20 > 16 without
  { n: 3, s: 4, dIn: 3, filters: 64, heads: 4, positions: 'each', relative: true },
  { n: 3, s: 4, dIn: 20, filters: 32, heads: 2, positions: 'each', relative: true },
];

/** The inputs of a case from fixed seeds (the same values on every backend). */
function inputs(c: Case) {
  const P = c.positions === 'one' ? 1 : c.s * c.s;
  return {
    x: randTensor([c.n, c.s, c.s, c.dIn], 1) as tf.Tensor4D,
    wq: randTensor([c.dIn, c.filters], 2) as tf.Tensor2D,
    wk: randTensor([c.dIn, c.filters], 3) as tf.Tensor2D,
    wv: randTensor([P, c.dIn, c.filters], 4) as tf.Tensor3D,
    relRow: c.relative ? (randTensor([2 * c.s - 1, c.filters / 2], 5) as tf.Tensor2D) : null,
    relCol: c.relative ? (randTensor([2 * c.s - 1, c.filters / 2], 6) as tf.Tensor2D) : null,
  };
}

const options = (c: Case) => ({ heads: c.heads, ...(c.scale === undefined ? {} : { scale: c.scale }) });

/** y and the gradients of every input of a weighted sum of `op`'s output. */
function valueAndGrads(c: Case, op: typeof stemAttention): tf.Tensor[] {
  const i = inputs(c);
  const tensors = [i.x, i.wq, i.wk, i.wv, ...(c.relative ? [i.relRow, i.relCol] : [])] as tf.Tensor[];
  const f = (x: tf.Tensor, wq: tf.Tensor, wk: tf.Tensor, wv: tf.Tensor, ...tables: tf.Tensor[]) =>
    weightedSum(
      op(
        x as tf.Tensor4D,
        wq as tf.Tensor2D,
        wk as tf.Tensor2D,
        wv as tf.Tensor3D,
        (tables[0] as tf.Tensor2D) ?? null,
        (tables[1] as tf.Tensor2D) ?? null,
        options(c),
      ),
    );
  const out = [op(i.x, i.wq, i.wk, i.wv, i.relRow, i.relCol, options(c)), ...tf.grads(f)(tensors)];
  tf.dispose(Object.values(i).filter((t) => t !== null) as tf.Tensor[]);
  return out;
}

describe('stemAttention: its kernels on the active backend vs stemAttentionReference', () => {
  before(setup);
  const blocksOverTheLimit: Case = { n: 2, s: 11, dIn: 3, filters: 8, heads: 2, positions: 'each', relative: true };
  for (const c of [...CASES, blocksOverTheLimit]) {
    it(`${c.s}x${c.s} blocks, values ${c.positions}, relative ${c.relative}: y and every gradient, no leak`, () => {
      const before = tf.memory().numTensors;
      const kernels = valueAndGrads(c, stemAttention);
      const reference = valueAndGrads(c, stemAttentionReference);
      assert.equal(kernels.length, reference.length);
      kernels.forEach((t, at) => {
        assert.deepEqual(t.shape, reference[at].shape);
        const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(t, reference[at]))).dataSync()[0]);
        assert.ok(diff < 2e-5, `output ${at}: max |kernels - reference| = ${diff}`);
      });
      tf.dispose([...kernels, ...reference]);
      assert.equal(tf.memory().numTensors, before);
    });
  }
});

describeNative('stemAttention: native fused kernels vs the composed kernels on cpu', () => {
  before(setup);
  for (const c of CASES) {
    const label = `n ${c.n}, ${c.s}x${c.s} blocks, d_in ${c.dIn}, F ${c.filters}, ${c.heads} heads, values ${c.positions}, relative ${c.relative}${c.scale === undefined ? '' : `, scale ${c.scale}`}`;
    it(`${label}: y and the gradients of x and every weight`, async () => {
      await compareOnBackends(() => valueAndGrads(c, stemAttention), { tol: 2e-5 });
    });
  }

  it('the weights alone (the stem: no gradient for the image) get the same gradients', async () => {
    const c = CASES[0];
    await compareOnBackends(
      () => {
        const i = inputs(c);
        const vars = [i.wq, i.wk, i.wv, i.relRow, i.relCol].map((t) => tf.variable(t as tf.Tensor));
        const { grads } = tf.variableGrads(() =>
          weightedSum(
            stemAttention(
              i.x,
              vars[0] as tf.Tensor2D,
              vars[1] as tf.Tensor2D,
              vars[2] as tf.Tensor3D,
              vars[3] as tf.Tensor2D,
              vars[4] as tf.Tensor2D,
              options(c),
            ),
          ),
        );
        const out = vars.map((v) => tf.clone(grads[v.name]));
        tf.dispose([...vars, ...Object.values(grads)]);
        return out;
      },
      { tol: 2e-5 },
    );
  });

  it('equals the composition run on the native backend too (same inputs, same backend)', () => {
    const c = CASES[1];
    tf.tidy(() => {
      const i = inputs(c);
      const fused = stemAttention(i.x, i.wq, i.wk, i.wv, i.relRow, i.relCol, options(c));
      const composed = stemAttentionReference(i.x, i.wq, i.wk, i.wv, i.relRow, i.relCol, options(c));
      const diff = tf.max(tf.abs(tf.sub(fused, composed))).dataSync()[0];
      assert.ok(diff < 1e-5, `max |fused - composed| = ${diff}`);
    });
  });
});

describe('stemAttention: bad input', () => {
  before(setup);
  const c = CASES[0];
  it('names the argument and the shape at fault', () => {
    const i = inputs(c);
    const call = (o: Partial<ReturnType<typeof inputs>>, heads = 4) => {
      const a = { ...i, ...o };
      return () => stemAttention(a.x, a.wq, a.wk, a.wv, a.relRow, a.relCol, { heads });
    };
    assert.throws(
      call({ x: tf.zeros([2, 4, 3, 3]) as tf.Tensor4D }),
      /stemAttention: x must be blocks \[n, s, s, d_in\], got \[2,4,3,3\]/,
    );
    assert.throws(
      call({ wq: tf.zeros([2, 16]) as tf.Tensor2D }),
      /stemAttention: wq must be \[d_in, F\] = \[3, F\], got \[2,16\]/,
    );
    assert.throws(
      call({ wk: tf.zeros([3, 8]) as tf.Tensor2D }),
      /stemAttention: wk \[3,8\] must have wq's shape \[3,16\]/,
    );
    assert.throws(
      call({ wv: tf.zeros([4, 3, 16]) as tf.Tensor3D }),
      /stemAttention: wv must be \[1 or s² = 16, d_in, F\]/,
    );
    assert.throws(call({ relCol: null }), /relRow and relCol must both be tensors or both null/);
    assert.throws(
      call({ relRow: tf.zeros([7, 6]) as tf.Tensor2D }),
      /relRow \[7,6\] must be \[kernelSize, C\/2\] = \[7,8\]/,
    );
    assert.throws(call({}, 3), /channels 16 .* must be divisible by heads 3/);
    assert.throws(
      call({ x: tf.zeros([5, 4, 4, 3], 'int32') as tf.Tensor4D }),
      /stemAttention: x must be float32, got int32/,
    );
  });
});
