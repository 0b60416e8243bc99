/**
 * stemAttentionBlockMax (the stem's attention, its training batch norm and the max over each block, one op):
 * on the active backend against batchNormBlockMax(stemAttentionReference(…)) differentiated by tfjs, values
 * and every gradient with a loss on the statistics too; the native fused kernels against the composed ones on
 * tfjs's cpu, and against the unfused native kernels (the same forward bits: the batch norm's chunked sums);
 * the AttentionStem layer's training path through it; bad input.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { AttentionStem } from '../../src/layers/attention_stem.js';
import { stemAttention, stemAttentionReference } from '../../src/ops/attention_stem.js';
import { stemAttentionBlockMax } from '../../src/ops/attention_stem_block_max.js';
import { batchNormBlockMax } from '../../src/ops/batch_norm_train.js';
import * as tf from '../../src/tf.js';
import {
  assertClose,
  compareOnBackends,
  describeNative,
  numericGradient,
  randArray,
  randTensor,
  setup,
  weightedSum,
} from '../helpers.js';

interface Case {
  n: number;
  s: number;
  dIn: number;
  filters: number;
  heads: number;
  positions: 'one' | 'each';
  relative: boolean;
}

const CASES: Case[] = [
  // 70 blocks of 16 pixels: chunks of 4 blocks, the last group partial
  { n: 70, s: 4, dIn: 3, filters: 16, heads: 4, positions: 'each', relative: true },
  // 9-pixel blocks (not a whole vector): groups of 64 blocks, y's rows transposed per head
  { n: 67, s: 3, dIn: 5, filters: 12, heads: 3, positions: 'each', relative: true },
  { n: 9, s: 4, dIn: 2, filters: 8, heads: 2, positions: 'one', relative: false },
  { n: 5, s: 2, dIn: 1, filters: 4, heads: 1, positions: 'each', relative: true },
  // the paper's stem (heads of 16 channels, one vector): logits through d_in (3 < 16), and d_in 20 > 16 without
  { n: 9, s: 4, dIn: 3, filters: 64, heads: 4, positions: 'each', relative: true },
  { n: 6, s: 4, dIn: 20, filters: 32, heads: 2, positions: 'one', relative: true },
  // with 16 lanes (AVX-512) the paper's stem above and the first three of these hold the block's pixels in the
  // lanes (stem_low_rank.h PixelLanes): 1 to 4 input channels, with and without relative logits; d_in 5 does not
  { n: 4, s: 4, dIn: 1, filters: 16, heads: 1, positions: 'each', relative: true },
  { n: 3, s: 4, dIn: 2, filters: 32, heads: 2, positions: 'one', relative: true },
  { n: 7, s: 4, dIn: 4, filters: 32, heads: 2, positions: 'one', relative: false },
  { n: 5, s: 4, dIn: 5, filters: 16, heads: 1, positions: 'each', relative: true },
];

/** A case's inputs from fixed seeds; gamma with negative entries and a zero one (the block's first pixel then). */
function inputs(c: Case) {
  const P = c.positions === 'one' ? 1 : c.s * c.s;
  const gammas = Array.from(randArray(c.filters, 7, 0.5, 1.5), (g, j) => (j === 1 ? 0 : j % 3 === 2 ? -g : g));
  return {
    x: randTensor([c.n, c.s, c.s, c.dIn], 1) as tf.Tensor4D,
    wq: randTensor([c.dIn, c.filters], 2) as tf.Tensor2D,
    wk: randTensor([c.dIn, c.filters], 3) as tf.Tensor2D,
    wv: randTensor([P, c.dIn, c.filters], 4) as tf.Tensor3D,
    relRow: c.relative ? (randTensor([2 * c.s - 1, c.filters / 2], 5) as tf.Tensor2D) : null,
    relCol: c.relative ? (randTensor([2 * c.s - 1, c.filters / 2], 6) as tf.Tensor2D) : null,
    gamma: tf.tensor1d(gammas),
    beta: randTensor([c.filters], 8) as tf.Tensor1D,
  };
}

type Inputs = ReturnType<typeof inputs>;
type Op = (i: Inputs, heads: number) => { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor };

const fused: Op = (i, heads) =>
  stemAttentionBlockMax(i.x, i.wq, i.wk, i.wv, i.relRow, i.relCol, i.gamma, i.beta, { heads });
const reference: Op = (i, heads) =>
  batchNormBlockMax(stemAttentionReference(i.x, i.wq, i.wk, i.wv, i.relRow, i.relCol, { heads }), i.gamma, i.beta);
const unfused: Op = (i, heads) =>
  batchNormBlockMax(stemAttention(i.x, i.wq, i.wk, i.wv, i.relRow, i.relCol, { heads }), i.gamma, i.beta);

/** y, mean, variance, then the gradients of x, every weight, gamma and beta of a loss on all three outputs. */
function valueAndGrads(c: Case, op: Op): tf.Tensor[] {
  const i = inputs(c);
  const names = ['x', 'wq', 'wk', 'wv', 'gamma', 'beta', ...(c.relative ? ['relRow', 'relCol'] : [])] as const;
  const loss = (...ts: tf.Tensor[]) => {
    const given = Object.fromEntries(names.map((n, k) => [n, ts[k]]));
    const r = op({ ...i, ...given } as Inputs, c.heads);
    return tf.add(weightedSum(r.y), tf.add(weightedSum(r.mean, 5), weightedSum(r.variance, 6)));
  };
  const outputs = tf.tidy(() => {
    const r = op(i, c.heads);
    return [r.y, r.mean, r.variance];
  });
  const out = [...outputs, ...tf.grads(loss)(names.map((n) => i[n] as tf.Tensor))];
  tf.dispose(Object.values(i).filter((t) => t !== null) as tf.Tensor[]);
  return out;
}

const label = (c: Case) =>
  `n ${c.n}, ${c.s}x${c.s} blocks, d_in ${c.dIn}, F ${c.filters}, ${c.heads} heads, values ${c.positions}, relative ${c.relative}`;

describe('stemAttentionBlockMax on the active backend vs the composition of its parts in tfjs ops', () => {
  before(setup);
  const blocksOverTheLimit: Case = { n: 3, s: 11, dIn: 3, filters: 8, heads: 2, positions: 'each', relative: true };
  for (const c of [...CASES, blocksOverTheLimit]) {
    it(`${label(c)}: out, mean, variance and every gradient, no leak`, () => {
      const before = tf.memory().numTensors;
      const got = valueAndGrads(c, fused);
      const expected = valueAndGrads(c, reference);
      assert.equal(got.length, expected.length);
      got.forEach((t, at) => {
        assert.deepEqual(t.shape, expected[at].shape);
        assertClose(t.dataSync(), expected[at].dataSync(), { tol: 2e-5, label: `output ${at}` });
      });
      tf.dispose([...got, ...expected]);
      assert.equal(tf.memory().numTensors, before);
    });
  }
});

describeNative('stemAttentionBlockMax: native fused kernels', () => {
  before(setup);
  for (const c of CASES) {
    it(`${label(c)}: against the composed kernels on cpu`, async () => {
      await compareOnBackends(() => valueAndGrads(c, fused), { tol: 2e-5 });
    });
  }

  it('the same forward bits as the unfused native kernels, gradients within rounding', () => {
    for (const c of CASES) {
      const got = valueAndGrads(c, fused);
      const expected = valueAndGrads(c, unfused);
      for (const at of [0, 1, 2]) {
        assert.deepEqual(got[at].dataSync(), expected[at].dataSync(), `${label(c)}: output ${at}`);
      }
      for (let at = 3; at < got.length; at++) {
        assertClose(got[at].dataSync(), expected[at].dataSync(), { tol: 1e-6, label: `${label(c)}: gradient ${at}` });
      }
      tf.dispose([...got, ...expected]);
    }
  });
});

/** A small case's float64 inputs, one flat array each, as the reference takes them. */
interface Ref64 {
  x: Float64Array;
  wq: Float64Array;
  wk: Float64Array;
  wv: Float64Array;
  relRow: Float64Array;
  relCol: Float64Array;
  gamma: Float64Array;
  beta: Float64Array;
}

/**
 * The op in float64, written out from SASA.md §1–2: per block and head, logits scale·q_h·(k_h + r_h(offset))
 * over the block's pixels (r = [relRow[da] | relCol[db]] split across heads like q), softmax, y = Σ p·v with
 * v_p = x_p·wv[p]; the batch norm's biased statistics over all pixels; out = max over each block of BN(y).
 * Returns Σ wOut·out + Σ wMean·mean + Σ wVar·variance.
 */
function stemLoss64(c: Case, a: Ref64, wOut: Float32Array, wMean: Float32Array, wVar: Float32Array): number {
  const { n, s, dIn, filters: F, heads } = c;
  const S = s * s;
  const D = F / heads;
  const scale = D ** -0.5;
  const project = (w: Float64Array, p: number, xb: number, matrix: number) => {
    const out = new Float64Array(F);
    for (let f = 0; f < F; f++) for (let i = 0; i < dIn; i++) out[f] += a.x[xb + p * dIn + i] * w[matrix + i * F + f];
    return out;
  };
  const y = new Float64Array(n * S * F);
  for (let b = 0; b < n; b++) {
    const xb = b * S * dIn;
    const q = Array.from({ length: S }, (_, p) => project(a.wq, p, xb, 0));
    const k = Array.from({ length: S }, (_, p) => project(a.wk, p, xb, 0));
    const v = Array.from({ length: S }, (_, p) => project(a.wv, p, xb, c.positions === 'one' ? 0 : p * dIn * F));
    for (let p = 0; p < S; p++) {
      for (let h = 0; h < heads; h++) {
        const logits = Array.from({ length: S }, (_, t) => {
          const [da, db] = [Math.floor(t / s) - Math.floor(p / s) + s - 1, (t % s) - (p % s) + s - 1];
          let l = 0;
          for (let d = h * D; d < (h + 1) * D; d++) {
            const r = !c.relative ? 0 : d < F / 2 ? a.relRow[da * (F / 2) + d] : a.relCol[db * (F / 2) + d - F / 2];
            l += scale * q[p][d] * (k[t][d] + r);
          }
          return l;
        });
        const m = Math.max(...logits);
        const e = logits.map((l) => Math.exp(l - m));
        const sum = e.reduce((u, w) => u + w, 0);
        for (let d = h * D; d < (h + 1) * D; d++) {
          y[(b * S + p) * F + d] = e.reduce((u, w, t) => u + (w / sum) * v[t][d], 0);
        }
      }
    }
  }
  let loss = 0;
  for (let f = 0; f < F; f++) {
    let mean = 0;
    for (let r = 0; r < n * S; r++) mean += y[r * F + f] / (n * S);
    let variance = 0;
    for (let r = 0; r < n * S; r++) variance += (y[r * F + f] - mean) ** 2 / (n * S);
    const gain = a.gamma[f] / Math.sqrt(variance + 1e-5);
    for (let b = 0; b < n; b++) {
      let best = Number.NEGATIVE_INFINITY;
      for (let p = 0; p < S; p++) best = Math.max(best, (y[(b * S + p) * F + f] - mean) * gain + a.beta[f]);
      loss += wOut[b * F + f] * best;
    }
    loss += wMean[f] * mean + wVar[f] * variance;
  }
  return loss;
}

describe('stemAttentionBlockMax against float64 central differences of its formula', () => {
  before(setup);
  for (const c of [CASES[3], { ...CASES[2], n: 3 }]) {
    it(`${label(c)}: the loss and the gradient of every input`, () => {
      // gamma without its zero: there every pixel ties and the loss has a kink in gamma
      const base = inputs(c);
      base.gamma.dispose();
      const gamma = tf.tensor1d(randArray(c.filters, 14, 0.5, 1.5).map((g, j) => (j % 2 ? -g : g)));
      const i = { ...base, gamma };
      const names = ['x', 'wq', 'wk', 'wv', 'gamma', 'beta', ...(c.relative ? ['relRow', 'relCol'] : [])] as const;
      const wOut = randArray(c.n * c.filters, 11);
      const [wMean, wVar] = [randArray(c.filters, 12), randArray(c.filters, 13)];
      const loss = (...ts: tf.Tensor[]) => {
        const given = Object.fromEntries(names.map((name, k) => [name, ts[k]])) as Partial<Inputs>;
        const a = { ...i, ...given };
        const r = stemAttentionBlockMax(a.x, a.wq, a.wk, a.wv, a.relRow, a.relCol, a.gamma, a.beta, { heads: c.heads });
        const w = tf.tensor(wOut, [c.n, 1, 1, c.filters]);
        return tf.add(tf.sum(tf.mul(r.y, w)), tf.add(tf.sum(tf.mul(r.mean, wMean)), tf.sum(tf.mul(r.variance, wVar))));
      };
      const tensors = names.map((name) => i[name] as tf.Tensor);
      const { value, grads } = tf.tidy(() => {
        const g = tf.grads(loss)(tensors);
        return { value: loss(...tensors), grads: g };
      });
      const empty = new Float64Array(0);
      const at = Object.fromEntries(
        (['x', 'wq', 'wk', 'wv', 'relRow', 'relCol', 'gamma', 'beta'] as const).map((name) => [
          name,
          i[name] ? Float64Array.from(i[name].dataSync()) : empty,
        ]),
      ) as unknown as Ref64;
      const f = (name: keyof Ref64) => (v: Float64Array) => stemLoss64(c, { ...at, [name]: v }, wOut, wMean, wVar);
      assertClose(value.dataSync(), [f('x')(at.x)], { tol: 1e-5, label: 'loss' });
      names.forEach((name, k) => {
        assertClose(grads[k].dataSync(), numericGradient(f(name), at[name]), { tol: 1e-4, label: `d${name}` });
      });
      tf.dispose([value, ...grads, ...(Object.values(i).filter((t) => t !== null) as tf.Tensor[])]);
    });
  }
});

describe('AttentionStem in training: the fused op', () => {
  before(setup);
  it('gives relu(batchNormBlockMax(stemAttention(blocks))) and the moving statistics it implies', () => {
    const layer = new AttentionStem({ filters: 16, heads: 4, seed: 3, batchNorm: { decay: 0.9 } });
    const x = randTensor([2, 8, 12, 3], 4) as tf.Tensor4D;
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const weight = (name: string) => {
      const w = layer.weights.find((v) => v.name.endsWith(`/${name}`));
      assert.ok(w, `weight ${name}`);
      return w.read();
    };
    const blocks = tf.reshape(tf.transpose(tf.reshape(x, [2, 2, 4, 3, 4, 3]), [0, 1, 3, 2, 4, 5]), [12, 4, 4, 3]);
    const attended = stemAttention(
      blocks as tf.Tensor4D,
      weight('query_kernel') as tf.Tensor2D,
      weight('key_kernel') as tf.Tensor2D,
      layer.valueMatrices(),
      weight('rel_row') as tf.Tensor2D,
      weight('rel_col') as tf.Tensor2D,
      { heads: 4 },
    );
    const r = batchNormBlockMax(attended as tf.Tensor4D, weight('bn_gamma'), weight('bn_beta'));
    assertClose(y.dataSync(), tf.relu(tf.reshape(r.y, [2, 2, 3, 16])).dataSync(), { tol: 1e-6, label: 'y' });
    assertClose(weight('bn_moving_mean').dataSync(), tf.mul(r.mean, 0.1).dataSync(), { tol: 1e-6, label: 'mean' });
    const rows = 2 * 8 * 12;
    const movingVariance = tf.add(0.9, tf.mul(r.variance, (0.1 * rows) / (rows - 1)));
    assertClose(weight('bn_moving_variance').dataSync(), movingVariance.dataSync(), { tol: 1e-6, label: 'variance' });
  });
});

describe('stemAttentionBlockMax: bad input', () => {
  before(setup);
  it('names the argument at fault', () => {
    const i = inputs(CASES[0]);
    const call = (o: Partial<Inputs>, epsilon?: number) => () => {
      const a = { ...i, ...o };
      return stemAttentionBlockMax(a.x, a.wq, a.wk, a.wv, a.relRow, a.relCol, a.gamma, a.beta, { heads: 4, epsilon });
    };
    assert.throws(call({ gamma: tf.ones([15]) as tf.Tensor1D }), /stemAttentionBlockMax: gamma must be float32 \[16\]/);
    assert.throws(
      call({ beta: tf.ones([16], 'int32') as tf.Tensor1D }),
      /stemAttentionBlockMax: beta must be float32 \[16\]/,
    );
    assert.throws(call({}, 0), /stemAttentionBlockMax: epsilon must be a finite number > 0/);
    assert.throws(call({ wq: tf.zeros([2, 16]) as tf.Tensor2D }), /stemAttention: wq must be \[d_in, F\] = \[3, F\]/);
  });
});
