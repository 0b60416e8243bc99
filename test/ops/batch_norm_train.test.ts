/**
 * batchNormTrain(x, gamma, beta, eps) (and its ReLU and block-max forms): forward and gradients (w.r.t. x, gamma, beta, including
 * losses that use the returned batch mean and variance).
 * - On whichever backend is active (native kernels, or the tfjs composite on cpu): against a
 *   float64 JS reference and float64 central finite differences.
 * - Native only: the fused kernels against the composite path on tfjs's cpu backend.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadAddon } from '../../src/backend/addon.js';
import { batchNormBlockMax, batchNormTrain } from '../../src/ops/batch_norm_train.js';
import * as tf from '../../src/tf.js';
import {
  assertClose,
  compareOnBackends,
  defaultBackend,
  describeNative,
  FAST,
  gradsOf,
  numericGradient,
  randArray,
  randTensor,
  rng,
  runOn,
  setup,
  sizeOf,
  useBackend,
  weightedSum,
} from '../helpers.js';
import { batchNormTrainRef } from '../reference.js';

interface Case {
  x: number[];
  eps?: number;
  fast?: boolean;
}

const cases: Case[] = [
  { x: [7, 3], fast: true },
  { x: [2, 5, 3] },
  { x: [2, 3, 4, 5], fast: true },
  { x: [1, 4, 4, 3], eps: 1e-3 },
  { x: [3, 5, 5, 1] },
  { x: [2, 2, 3, 2, 3] },
];

const list = FAST ? cases.filter((c) => c.fast) : cases;

/** Inputs as arrays: x with a per-channel offset and spread, gamma around 1, beta around 0. */
function data(shape: number[], seed: number) {
  const c = shape[shape.length - 1];
  const x = randArray(sizeOf(shape), seed);
  const r = rng(seed + 1);
  const shift = Array.from({ length: c }, () => 2 * r() - 1);
  const spread = Array.from({ length: c }, () => 0.5 + 2 * r());
  for (let i = 0; i < x.length; i++) x[i] = x[i] * spread[i % c] + shift[i % c];
  return { x, gamma: randArray(c, seed + 2, 0.5, 1.5), beta: randArray(c, seed + 3), c };
}

/** Loss weights for y, mean and variance. */
function weights(shape: number[], seed: number) {
  const c = shape[shape.length - 1];
  return { wy: randArray(sizeOf(shape), seed), wm: randArray(c, seed + 1), wv: randArray(c, seed + 2) };
}

type LossKind = 'y' | 'y+stats' | 'stats';

/** The loss on tensors: sum(y·wy) [+ sum(mean·wm) + sum(variance·wv)]. */
function tensorLoss(kind: LossKind, shape: number[], seed: number, eps: number) {
  const w = weights(shape, seed);
  return (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Scalar => {
    const { y, mean, variance } = batchNormTrain(x, gamma, beta, eps);
    const stats = tf.add(tf.sum(tf.mul(mean, tf.tensor(w.wm))), tf.sum(tf.mul(variance, tf.tensor(w.wv))));
    if (kind === 'stats') return stats as tf.Scalar;
    const main = tf.sum(tf.mul(y, tf.tensor(w.wy, shape)));
    return (kind === 'y' ? main : tf.add(main, stats)) as tf.Scalar;
  };
}

/** The same loss in float64 on flat arrays. */
function referenceLoss(kind: LossKind, shape: number[], seed: number, eps: number) {
  const w = weights(shape, seed);
  const c = shape[shape.length - 1];
  return (x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>): number => {
    const { y, mean, variance } = batchNormTrainRef(x, c, gamma, beta, eps);
    let s = 0;
    if (kind !== 'stats') for (let i = 0; i < y.length; i++) s += y[i] * w.wy[i];
    if (kind !== 'y') for (let j = 0; j < c; j++) s += mean[j] * w.wm[j] + variance[j] * w.wv[j];
    return s;
  };
}

/**
 * Gradients of the loss w.r.t. x, gamma and beta; for the 'stats' loss only w.r.t. x, because
 * on the composite path gamma and beta do not reach the batch statistics and tf.grads refuses
 * unconnected inputs.
 */
function lossGrads(
  kind: LossKind,
  shape: number[],
  seed: number,
  eps: number,
  d: ReturnType<typeof data>,
): tf.Tensor[] {
  const loss = tensorLoss(kind, shape, seed, eps);
  const x = tf.tensor(d.x, shape);
  const gamma = tf.tensor(d.gamma);
  const beta = tf.tensor(d.beta);
  if (kind === 'stats') return gradsOf((v) => loss(v, gamma, beta), [x]);
  return gradsOf(loss, [x, gamma, beta]);
}

before(async () => {
  await setup();
});

describe('batchNormTrain on the active backend', () => {
  for (const [i, c] of list.entries()) {
    const eps = c.eps ?? 1e-5;
    it(`forward matches a float64 reference: x [${c.x}] eps ${eps}`, async () => {
      const d = data(c.x, 10 + i);
      const ref = batchNormTrainRef(d.x, d.c, d.gamma, d.beta, eps);
      const [y, mean, variance] = await runOn(await defaultBackend(), () => {
        const r = batchNormTrain(tf.tensor(d.x, c.x), tf.tensor(d.gamma), tf.tensor(d.beta), eps);
        return [r.y, r.mean, r.variance];
      });
      assert.deepEqual(y.shape, c.x);
      assert.deepEqual(mean.shape, [d.c]);
      assert.deepEqual(variance.shape, [d.c]);
      assertClose(y.values, ref.y, { label: 'y' });
      assertClose(mean.values, ref.mean, { label: 'mean' });
      assertClose(variance.values, ref.variance, { label: 'variance' });
    });
  }

  const fdCases: Case[] = FAST
    ? [{ x: [6, 3] }]
    : [{ x: [6, 3] }, { x: [2, 3, 3, 2] }, { x: [1, 2, 3, 4], eps: 1e-3 }, { x: [2, 1, 2, 2, 2] }];
  for (const [i, c] of fdCases.entries()) {
    for (const kind of ['y', 'y+stats', 'stats'] as const) {
      const eps = c.eps ?? 1e-5;
      it(`gradients match float64 finite differences: x [${c.x}], loss ${kind}`, async () => {
        const d = data(c.x, 30 + i);
        const f = referenceLoss(kind, c.x, 40 + i, eps);
        const expected = [numericGradient((v) => f(v, d.gamma, d.beta), d.x)];
        if (kind !== 'stats') {
          expected.push(numericGradient((v) => f(d.x, v, d.beta), d.gamma));
          expected.push(numericGradient((v) => f(d.x, d.gamma, v), d.beta));
        }
        const got = await runOn(await defaultBackend(), () => lossGrads(kind, c.x, 40 + i, eps, d));
        assert.equal(got.length, expected.length);
        for (const [k, name] of ['dx', 'dgamma', 'dbeta'].slice(0, expected.length).entries()) {
          assertClose(got[k].values, expected[k], { tol: 1e-3, label: name });
        }
      });
    }
  }

  it('does not leak tensors (forward + gradients)', async () => {
    await useBackend(await defaultBackend());
    const d = data([2, 3, 3, 2], 50);
    const x = tf.tensor(d.x, [2, 3, 3, 2]);
    const gamma = tf.tensor(d.gamma);
    const beta = tf.tensor(d.beta);
    const before = tf.memory().numTensors;
    const r = batchNormTrain(x, gamma, beta);
    tf.dispose([r.y, r.mean, r.variance]);
    const grads = tf.grads(tensorLoss('y+stats', [2, 3, 3, 2], 51, 1e-5))([x, gamma, beta]);
    tf.dispose(grads);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, gamma, beta]);
  });
});

describeNative('batchNormTrain: native kernels against the composite on tfjs cpu', () => {
  for (const [i, c] of list.entries()) {
    const eps = c.eps ?? 1e-5;
    it(`forward y, mean, variance: x [${c.x}] eps ${eps}`, async () => {
      await compareOnBackends(() => {
        const d = data(c.x, 60 + i);
        const r = batchNormTrain(tf.tensor(d.x, c.x), tf.tensor(d.gamma), tf.tensor(d.beta), eps);
        return [r.y, r.mean, r.variance];
      });
    });
    for (const kind of ['y', 'y+stats', 'stats'] as const) {
      // tfjs's FusedBatchNorm gradient (used by the composite) only handles rank <= 4.
      if (c.x.length > 4) continue;
      it(`gradients w.r.t. x, gamma, beta: x [${c.x}] loss ${kind}`, async () => {
        await compareOnBackends(() => lossGrads(kind, c.x, 80 + i, eps, data(c.x, 70 + i)));
      });
    }
  }

  it('gradients with an upstream dy (tf.grads of y directly)', async () => {
    await compareOnBackends(() => {
      const d = data([2, 3, 4, 5], 90);
      return gradsOf(
        (x, g, b) => batchNormTrain(x, g, b).y,
        [tf.tensor(d.x, [2, 3, 4, 5]), tf.tensor(d.gamma), tf.tensor(d.beta)],
        randTensor([2, 3, 4, 5], 91),
      );
    });
  });

  it('uses the fused SasaBatchNormTrain / SasaBatchNormTrainGrad kernels', async () => {
    await useBackend('native');
    const d = data([2, 3, 3, 2], 92);
    const profile = await tf.profile(() =>
      gradsOf(
        (x, g, b) => weightedSum(batchNormTrain(x, g, b).y),
        [tf.tensor(d.x, [2, 3, 3, 2]), tf.tensor(d.gamma), tf.tensor(d.beta)],
      ),
    );
    assert.ok(profile.kernelNames.includes('SasaBatchNormTrain'), profile.kernelNames.join(', '));
    assert.ok(profile.kernelNames.includes('SasaBatchNormTrainGrad'), profile.kernelNames.join(', '));
  });

  it('epsilons that differ only below 1e-6 are not mixed up (same shape, several epsilons)', async () => {
    const shape = [10, 4];
    // Tiny variance (~1e-9) so that eps dominates the normalisation.
    const x = randArray(sizeOf(shape), 93, -1e-4, 1e-4);
    const gamma = new Float32Array(4).fill(1);
    const beta = new Float32Array(4);
    for (const eps of [4e-7, 1e-9, 4e-7]) {
      const ref = batchNormTrainRef(x, 4, gamma, beta, eps);
      const [y] = await runOn(
        'native',
        () => batchNormTrain(tf.tensor(x, shape), tf.tensor(gamma), tf.tensor(beta), eps).y,
      );
      assertClose(y.values, ref.y, { tol: 1e-3, label: `y with eps ${eps}` });
    }
  });

  it('many rows (chunked sums), a mean 1000x the spread: forward and backward as float64, same bits at 3 and 1 threads', async () => {
    const shape = [5, 13, 11, 37]; // 715 rows: 12 chunks of 64, split unevenly over 3 threads
    const c = 37;
    const rows = 715;
    const x = randArray(rows * c, 94);
    for (let i = 0; i < x.length; i++) x[i] = 1000 + x[i];
    const dy = randArray(rows * c, 95);
    const gamma = randArray(c, 96, 0.5, 1.5);
    const beta = randArray(c, 97);
    const eps = 1e-5;
    const run = () =>
      runOn('native', () => {
        const [xt, g, b] = [tf.tensor(x, shape), tf.tensor(gamma), tf.tensor(beta)];
        const r = batchNormTrain(xt, g, b, eps);
        const grads = gradsOf((a, gg, bb) => batchNormTrain(a, gg, bb, eps).y, [xt, g, b], tf.tensor(dy, shape));
        return [r.y, r.mean, r.variance, ...grads];
      });
    const addon = loadAddon().addon;
    assert.ok(addon);
    const threads = addon.info().threads;
    let one: Awaited<ReturnType<typeof run>>;
    let three: Awaited<ReturnType<typeof run>>;
    try {
      addon.setThreads(1);
      one = await run();
      addon.setThreads(3);
      three = await run();
    } finally {
      addon.setThreads(threads);
    }
    for (const [k, r] of three.entries())
      assert.deepEqual(r.values, one[k].values, `output ${k} differs between 3 and 1 threads`);
    const ref = batchNormTrainRef(x, c, gamma, beta, eps);
    const [y, mean, variance, dx, dgamma, dbeta] = one;
    assertClose(mean.values, ref.mean, { tol: 1e-6, label: 'mean' });
    // The spread is 1e-3 of the mean: a variance from E[x^2] - mean^2 in float32 would be noise.
    assertClose(variance.values, ref.variance, { tol: 1e-5, label: 'variance' });
    assertClose(y.values, ref.y, { tol: 1e-3, label: 'y' });
    // dbeta = sum dy, dgamma = sum dy*xhat, dx = gamma/sigma (dy - dbeta/M - xhat dgamma/M), in float64.
    const sdy = new Float64Array(c);
    const sdyx = new Float64Array(c);
    const xhat = (i: number) => (x[i] - ref.mean[i % c]) / Math.sqrt(ref.variance[i % c] + eps);
    for (let i = 0; i < x.length; i++) {
      sdy[i % c] += dy[i];
      sdyx[i % c] += dy[i] * xhat(i);
    }
    const wantDx = Float64Array.from(x, (_, i) => {
      const j = i % c;
      return (gamma[j] / Math.sqrt(ref.variance[j] + eps)) * (dy[i] - sdy[j] / rows - (xhat(i) * sdyx[j]) / rows);
    });
    assertClose(dbeta.values, sdy, { tol: 1e-5, label: 'dbeta' });
    assertClose(dgamma.values, sdyx, { tol: 1e-3, label: 'dgamma' });
    assertClose(dx.values, wantDx, { tol: 1e-3, label: 'dx' });
  });
});

describe('batchNormTrain with the ReLU fused (relu = true)', () => {
  const shapes = FAST
    ? [[6, 3]]
    : [
        [6, 3],
        [2, 3, 3, 2],
        [3, 2, 4],
      ];
  for (const [i, shape] of shapes.entries()) {
    it(`y = max(0, reference) and gradients match float64 finite differences: x [${shape}]`, async () => {
      const d = data(shape, 60 + i);
      const w = randArray(sizeOf(shape), 61 + i);
      const eps = 1e-5;
      const ref = batchNormTrainRef(d.x, d.c, d.gamma, d.beta, eps);
      const f = (x: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>) => {
        const { y } = batchNormTrainRef(x, d.c, g, b, eps);
        let s = 0;
        for (let k = 0; k < y.length; k++) s += Math.max(0, y[k]) * w[k];
        return s;
      };
      const backend = await defaultBackend();
      const [y] = await runOn(backend, () => [
        batchNormTrain(tf.tensor(d.x, shape), tf.tensor(d.gamma), tf.tensor(d.beta), eps, true).y,
      ]);
      assertClose(
        y.values,
        Array.from(ref.y, (v) => Math.max(0, v)),
        { label: 'y' },
      );
      const got = await runOn(backend, () =>
        gradsOf(
          (x, g, b) => tf.sum(tf.mul(batchNormTrain(x, g, b, eps, true).y, tf.tensor(w, shape))),
          [tf.tensor(d.x, shape), tf.tensor(d.gamma), tf.tensor(d.beta)],
        ),
      );
      const expected = [
        numericGradient((v) => f(v, d.gamma, d.beta), d.x),
        numericGradient((v) => f(d.x, v, d.beta), d.gamma),
        numericGradient((v) => f(d.x, d.gamma, v), d.beta),
      ];
      for (const [k, name] of ['dx', 'dgamma', 'dbeta'].entries()) {
        assertClose(got[k].values, expected[k], { tol: 1e-3, label: name });
      }
    });
  }
});

describeNative('batchNormTrain with relu: native kernels against the composite on tfjs cpu', () => {
  it('forward and gradients, [2, 5, 5, 8] and [300, 7]', async () => {
    for (const shape of [
      [2, 5, 5, 8],
      [300, 7],
    ]) {
      await compareOnBackends(() => {
        const d = data(shape, 90);
        const x = tf.tensor(d.x, shape);
        const gamma = tf.tensor(d.gamma);
        const beta = tf.tensor(d.beta);
        const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => weightedSum(batchNormTrain(a, g, b, 1e-5, true).y);
        return [batchNormTrain(x, gamma, beta, 1e-5, true).y, ...gradsOf(loss, [x, gamma, beta])];
      });
    }
  });
});

/** max over each block's H·W pixels of [N, H, W, C] values, as [N·C] (float64). */
function blockMaxRef(y: ArrayLike<number>, shape: number[]): Float64Array {
  const [n, h, w, c] = shape;
  const out = new Float64Array(n * c).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < h * w; p++)
      for (let j = 0; j < c; j++) out[i * c + j] = Math.max(out[i * c + j], y[(i * h * w + p) * c + j]);
  return out;
}

describe('batchNormBlockMax (batch norm, then the max over each block)', () => {
  const shapes = FAST
    ? [[5, 2, 2, 3]]
    : [
        [5, 2, 2, 3],
        [3, 4, 4, 2],
        [2, 3, 3, 5],
      ];
  for (const [i, shape] of shapes.entries()) {
    it(`y, mean, variance and float64 finite-difference gradients: x [${shape}]`, async () => {
      const d = data(shape, 100 + i);
      const gamma = Array.from(d.gamma, (g, j) => (j % 2 ? -g : g)); // negative scales too
      const w = randArray(shape[0] * d.c, 101 + i);
      const eps = 1e-5;
      const ref = batchNormTrainRef(d.x, d.c, gamma, d.beta, eps);
      const f = (x: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>) => {
        const y = blockMaxRef(batchNormTrainRef(x, d.c, g, b, eps).y, shape);
        return y.reduce((s, v, k) => s + v * w[k], 0);
      };
      const backend = await defaultBackend();
      const [y, mean, variance] = await runOn(backend, () => {
        const r = batchNormBlockMax(
          tf.tensor4d(d.x, shape as [number, number, number, number]),
          tf.tensor(gamma),
          tf.tensor(d.beta),
          eps,
        );
        return [r.y, r.mean, r.variance];
      });
      assert.deepEqual(y.shape, [shape[0], 1, 1, d.c]);
      assertClose(y.values, blockMaxRef(ref.y, shape), { label: 'y' });
      assertClose(mean.values, ref.mean, { label: 'mean' });
      assertClose(variance.values, ref.variance, { label: 'variance' });
      const got = await runOn(backend, () =>
        gradsOf(
          (x, g, b) =>
            tf.sum(tf.mul(batchNormBlockMax(x as tf.Tensor4D, g, b, eps).y, tf.tensor(w, [shape[0], 1, 1, d.c]))),
          [tf.tensor(d.x, shape), tf.tensor(gamma), tf.tensor(d.beta)],
        ),
      );
      const expected = [
        numericGradient((v) => f(v, gamma, d.beta), d.x),
        numericGradient((v) => f(d.x, v, d.beta), gamma),
        numericGradient((v) => f(d.x, gamma, v), d.beta),
      ];
      for (const [k, name] of ['dx', 'dgamma', 'dbeta'].entries()) {
        assertClose(got[k].values, expected[k], { tol: 1e-3, label: name });
      }
    });
  }

  it('refuses an input that is not [N, H, W, C]', () => {
    assert.throws(
      () => batchNormBlockMax(tf.zeros([4, 3]) as unknown as tf.Tensor4D, tf.ones([3]), tf.zeros([3])),
      /batchNormBlockMax: x \[4,3\] must be \[N, H, W, C\]/,
    );
  });
});

describeNative('batchNormBlockMax: native kernels against batchNorm + maxPool on tfjs cpu', () => {
  it('values and gradients, with ties (integer inputs), negative gamma, and a loss on the statistics', async () => {
    for (const [shape, ties] of [
      [[6, 4, 4, 8], false],
      [[4, 4, 4, 3], true],
      [[3, 2, 5, 4], false],
    ] as const) {
      await compareOnBackends(() => {
        const d = data([...shape], 120);
        const xs = ties ? Array.from(d.x, (v) => Math.round(v)) : Array.from(d.x);
        const x = tf.tensor4d(xs, [...shape] as [number, number, number, number]);
        const gamma = tf.tensor(Array.from(d.gamma, (g, j) => (j % 3 === 1 ? -g : g)));
        const beta = tf.tensor(d.beta);
        const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const r = batchNormBlockMax(a as tf.Tensor4D, g, b);
          return tf.add(weightedSum(r.y), tf.add(weightedSum(r.mean, 5), weightedSum(r.variance, 6)));
        };
        const r = batchNormBlockMax(x, gamma, beta);
        return [r.y, r.mean, r.variance, ...gradsOf(loss, [x, gamma, beta])];
      });
    }
  });
});
