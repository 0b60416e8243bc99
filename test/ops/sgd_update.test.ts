/** sgdUpdate: the fused SGD-with-momentum step against a float64 reference, on both backends. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { NATIVE_BACKEND } from '../../src/backend/native.js';
import { type SgdUpdateOptions, sgdUpdate } from '../../src/ops/sgd_update.js';
import * as tf from '../../src/tf.js';
import { assertClose, defaultBackend, nativeAvailable, randArray, runOn, setup, useBackend } from '../helpers.js';

/** PyTorch's SGD step in float64: g' = g + wd w, v' = mu v + g', w' = w - lr (nesterov ? g' + mu v' : v'). */
function reference(w: Float32Array, v: Float32Array, g: Float32Array, o: SgdUpdateOptions) {
  const n = w.length;
  const w1 = new Float64Array(n);
  const v1 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g1 = g[i] + o.weightDecay * w[i];
    v1[i] = o.momentum * v[i] + g1;
    w1[i] = w[i] - o.lr * (o.nesterov ? g1 + o.momentum * v1[i] : v1[i]);
  }
  return { w: w1, v: v1 };
}

describe('sgdUpdate', () => {
  before(setup);
  const n = 7 * 10_001; // past the native kernel's threading threshold, and odd
  const [w, v, g] = [randArray(n, 1), randArray(n, 2), randArray(n, 3)];
  const cases: SgdUpdateOptions[] = [
    { lr: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true },
    { lr: 0.1, momentum: 0.9, weightDecay: 0, nesterov: false },
    { lr: 0.5, momentum: 0, weightDecay: 0.01, nesterov: true },
  ];
  const backends = nativeAvailable ? ['cpu', NATIVE_BACKEND] : ['cpu'];
  for (const o of cases)
    for (const backend of backends)
      it(`${backend}: ${JSON.stringify(o)} matches the float64 formula`, async () => {
        const back = await defaultBackend();
        try {
          const [w1, v1] = await runOn(backend, () => {
            const r = sgdUpdate(tf.tensor2d(w, [7, n / 7]), tf.tensor2d(v, [7, n / 7]), tf.tensor2d(g, [7, n / 7]), o);
            return [r.w, r.v];
          });
          assert.deepEqual(w1.shape, [7, n / 7]);
          const ref = reference(w, v, g, o);
          assertClose(w1.values, ref.w, { tol: 1e-6, label: 'w' });
          assertClose(v1.values, ref.v, { tol: 1e-6, label: 'v' });
        } finally {
          await useBackend(back);
        }
      });

  it('refuses mismatched shapes and bad hyper-parameters, naming them', () => {
    const a = tf.zeros([2, 3]);
    assert.throws(
      () => sgdUpdate(a, tf.zeros([3, 2]), a, cases[0]),
      /sgdUpdate: v \[3,2\] must have w's shape \[2,3\]/,
    );
    assert.throws(() => sgdUpdate(a, a, tf.zeros([2, 3], 'int32'), cases[0]), /sgdUpdate: g must be float32/);
    assert.throws(() => sgdUpdate(a, a, a, { ...cases[0], lr: Number.NaN }), /sgdUpdate: lr must be a finite number/);
  });
});
