/** movingStatsUpdate: a batch norm's moving statistics against a float64 reference, on both backends, and bit for bit across them. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { NATIVE_BACKEND } from '../../src/backend/native.js';
import { movingStatsUpdate } from '../../src/ops/moving_stats.js';
import * as tf from '../../src/tf.js';
import { assertClose, defaultBackend, nativeAvailable, randArray, runOn, setup, useBackend } from '../helpers.js';

/** decay · moving + (1 − decay) · stat in float64, the variance's stat times unbiased first. */
function reference(
  m: Float32Array,
  v: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  decay: number,
  unbiased: number,
) {
  return {
    mean: Float64Array.from(m, (x, i) => decay * x + (1 - decay) * mean[i]),
    variance: Float64Array.from(v, (x, i) => decay * x + (1 - decay) * unbiased * variance[i]),
  };
}

describe('movingStatsUpdate', () => {
  before(setup);
  const c = 2053;
  const [m, mean] = [randArray(c, 1), randArray(c, 2)];
  const [v, variance] = [randArray(c, 3, 0.1, 4), randArray(c, 4, 0, 3)];
  const cases = [
    { decay: 0.9, unbiased: 64 / 63 },
    { decay: 0.9999, unbiased: 1 },
    { decay: 0, unbiased: 2 },
  ];
  const backends = nativeAvailable ? ['cpu', NATIVE_BACKEND] : ['cpu'];
  const run = (backend: string, o: { decay: number; unbiased: number }) =>
    runOn(backend, () => {
      const t = (a: Float32Array) => tf.tensor1d(a);
      const r = movingStatsUpdate(t(m), t(v), t(mean), t(variance), o.decay, o.unbiased);
      return [r.mean, r.variance];
    });
  for (const o of cases) {
    for (const backend of backends)
      it(`${backend}: ${JSON.stringify(o)} matches the float64 formula`, async () => {
        const back = await defaultBackend();
        try {
          const [m1, v1] = await run(backend, o);
          assert.deepEqual(m1.shape, [c]);
          const ref = reference(m, v, mean, variance, o.decay, o.unbiased);
          assertClose(m1.values, ref.mean, { tol: 1e-6, label: 'mean' });
          assertClose(v1.values, ref.variance, { tol: 1e-6, label: 'variance' });
        } finally {
          await useBackend(back);
        }
      });
    if (nativeAvailable)
      it(`native: ${JSON.stringify(o)} rounds as the tfjs ops on cpu do, bit for bit`, async () => {
        const back = await defaultBackend();
        try {
          const [cm, cv] = await run('cpu', o);
          const [nm, nv] = await run(NATIVE_BACKEND, o);
          assert.deepEqual(Array.from(nm.values), Array.from(cm.values));
          assert.deepEqual(Array.from(nv.values), Array.from(cv.values));
        } finally {
          await useBackend(back);
        }
      });
  }

  // The native backend's kernel is one call; elsewhere the op runs as its tfjs ops (composed_kernels.ts), taped as before.
  if (nativeAvailable)
    it('native: adds one kernel and saves nothing under a gradient tape', async () => {
      const back = await defaultBackend();
      await useBackend(NATIVE_BACKEND);
      try {
        await oneUntapedKernel();
      } finally {
        await useBackend(back);
      }
    });

  async function oneUntapedKernel() {
    const kernelsOf = async (update: boolean) => {
      const profile = await tf.profile(() => {
        const [x, m, v] = [tf.ones([3]), tf.zeros([3]), tf.ones([3])];
        const dx = tf.grad((y: tf.Tensor) => {
          const sq = tf.mul(y, y);
          if (update) {
            const r = movingStatsUpdate(m, v, y, sq, 0.9, 1.5);
            tf.dispose([r.mean, r.variance]);
          }
          return tf.sum(sq);
        })(x);
        tf.dispose([x, m, v, dx]);
      });
      return profile.kernels.map((k) => k.name);
    };
    const without = await kernelsOf(false);
    const withUpdate = await kernelsOf(true);
    assert.deepEqual(
      withUpdate.filter((k) => k !== 'SasaMovingStats'),
      without,
    );
    assert.equal(withUpdate.length, without.length + 1);
  }

  it('refuses mismatched shapes and bad attributes, naming them', () => {
    const a = tf.zeros([3]);
    assert.throws(
      () => movingStatsUpdate(a, a, tf.zeros([4]), a, 0.9, 1),
      /movingStatsUpdate: mean \[4\] must have movingMean's shape \[3\]/,
    );
    assert.throws(() => movingStatsUpdate(a, a, a, tf.zeros([3], 'int32'), 0.9, 1), /variance must be float32/);
    assert.throws(() => movingStatsUpdate(a, a, a, a, Number.NaN, 1), /decay must be a finite number/);
  });
});
