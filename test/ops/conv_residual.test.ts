/**
 * convResidualRelu, y = max(0, conv(x, filter) + bias + residual), on both backends against a float64
 * reference built from conv2dRef (the native kernel: one oneDNN primitive with sum and ReLU post-ops).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { NATIVE_BACKEND } from '../../src/backend/native.js';
import { convResidualRelu } from '../../src/ops/conv_residual.js';
import * as tf from '../../src/tf.js';
import { assertClose, defaultBackend, nativeAvailable, randArray, runOn, setup, useBackend } from '../helpers.js';
import { conv2dRef, convGeometry, type Shape4 } from '../reference.js';

interface Case {
  x: Shape4;
  /** kernel side, filters, stride */
  k: number;
  filters: number;
  stride: number;
}

const cases: Case[] = [
  { x: [1, 7, 7, 8], k: 1, filters: 16, stride: 1 },
  { x: [2, 9, 8, 5], k: 3, filters: 6, stride: 2 },
  { x: [1, 14, 14, 32], k: 1, filters: 64, stride: 1 },
];

function reference(c: Case, x: Float32Array, w: Float32Array, bias: Float32Array, residual: Float32Array) {
  const g = convGeometry(c.x, c.k, c.k, [c.stride, c.stride], 'same');
  const { y, shape } = conv2dRef(x, c.x, w, [c.k, c.k, c.x[3], c.filters], [c.stride, c.stride], g);
  for (let i = 0; i < y.length; i++) y[i] = Math.max(0, y[i] + bias[i % c.filters] + residual[i]);
  return { y, shape };
}

describe('convResidualRelu', () => {
  before(setup);
  const backends = nativeAvailable ? ['cpu', NATIVE_BACKEND] : ['cpu'];
  for (const [i, c] of cases.entries())
    for (const backend of backends)
      it(`${backend}: x [${c.x}] ${c.k}x${c.k}→${c.filters} stride ${c.stride} matches the float64 formula`, async () => {
        const x = randArray(tf.util.sizeFromShape(c.x), 10 * i + 1);
        const w = randArray(c.k * c.k * c.x[3] * c.filters, 10 * i + 2, -0.3, 0.3);
        const bias = randArray(c.filters, 10 * i + 3);
        const g = convGeometry(c.x, c.k, c.k, [c.stride, c.stride], 'same');
        const residual = randArray(c.x[0] * g.outH * g.outW * c.filters, 10 * i + 4);
        const want = reference(c, x, w, bias, residual);
        const back = await defaultBackend();
        try {
          const [got] = await runOn(backend, () =>
            convResidualRelu(
              tf.tensor4d(x, c.x),
              tf.tensor4d(w, [c.k, c.k, c.x[3], c.filters]),
              tf.tensor1d(bias),
              tf.tensor4d(residual, want.shape),
              c.stride,
            ),
          );
          assert.deepEqual(got.shape, want.shape);
          assert.ok(
            got.values.some((v) => v === 0) && got.values.some((v) => v > 0),
            'the ReLU cuts some values, not all',
          );
          assertClose(got.values, want.y, { label: 'y' });
        } finally {
          await useBackend(back);
        }
      });

  it('refuses a residual or bias of the wrong shape, naming it', () => {
    const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
    const w = tf.zeros([1, 1, 2, 3]) as tf.Tensor4D;
    const r = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    assert.throws(() => convResidualRelu(x, w, tf.zeros([3]), r, 1), /residual must be the output's shape \[1,4,4,3\]/);
    assert.throws(() => convResidualRelu(x, w, tf.zeros([2]), r, 2), /bias must be \[3\]/);
    tf.dispose([x, w, r]);
  });
});
