/** BatchNorm (training statistics, moving averages, inference) and AttentionStem (blocks, values, pooling). */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { AttentionStem } from '../../src/layers/attention_stem.js';
import { BatchNorm } from '../../src/layers/batch_norm.js';
import * as tf from '../../src/tf.js';
import { assertClose, randTensor, setup } from '../helpers.js';

describe('BatchNorm', () => {
  before(setup);

  it('normalises with batch statistics in training and updates the moving ones (decay, unbiased variance)', () => {
    const bn = new BatchNorm({ decay: 0.8 });
    const x = tf.add(tf.mul(randTensor([4, 3, 2, 5], 1), 3), 2);
    const y = bn.apply(x, { training: true }) as tf.Tensor;
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const want = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5)));
    assertClose(y.dataSync(), want.dataSync(), { tol: 1e-5 });
    const [, , movingMean, movingVar] = bn.getWeights();
    const n = 4 * 3 * 2;
    assertClose(movingMean.dataSync(), tf.mul(mean, 0.2).dataSync(), { tol: 1e-5 });
    assertClose(movingVar.dataSync(), tf.add(0.8, tf.mul(variance, (0.2 * n) / (n - 1))).dataSync(), { tol: 1e-5 });
  });

  it('uses the moving statistics in inference, and zero gamma when asked', () => {
    const bn = new BatchNorm({ gammaInitializer: 'zeros', epsilon: 1e-3 });
    const x = randTensor([2, 3, 3, 4], 2);
    bn.apply(x);
    bn.setWeights([tf.ones([4]), tf.fill([4], 0.5), tf.fill([4], 0.25), tf.fill([4], 4)]);
    const y = bn.apply(x, { training: false }) as tf.Tensor;
    assertClose(y.dataSync(), tf.add(tf.div(tf.sub(x, 0.25), Math.sqrt(4 + 1e-3)), 0.5).dataSync(), { tol: 1e-5 });
    assert.equal(new BatchNorm({ gammaInitializer: 'zeros' }).getConfig().gammaInitializer, 'zeros');
  });

  it('frozen (trainable = false): moving statistics in training too, kept, and no trainable weights', () => {
    for (const layer of [new BatchNorm({ relu: true }), new AttentionStem({ filters: 8, heads: 2 })]) {
      const x = randTensor([2, 8, 8, 3], 3);
      layer.apply(x);
      layer.trainable = false;
      const before = layer.getWeights().map((w) => Array.from(w.dataSync()));
      const train = (layer.apply(x, { training: true }) as tf.Tensor).dataSync();
      const infer = (layer.apply(x, { training: false }) as tf.Tensor).dataSync();
      assert.deepEqual(Array.from(train), Array.from(infer), layer.getClassName());
      assert.deepEqual(
        layer.getWeights().map((w) => Array.from(w.dataSync())),
        before,
      );
      assert.equal(layer.trainableWeights.length, 0);
    }
  });

  it('refuses bad options, naming the layer', () => {
    assert.throws(() => new BatchNorm({ name: 'b', decay: 1 }), /BatchNorm 'b': decay must be in \[0, 1\)/);
    assert.throws(() => new BatchNorm({ epsilon: 0 }), /epsilon must be a finite number > 0, got 0/);
  });
});

describe('AttentionStem', () => {
  before(setup);

  it('maps [B,H,W,3] to [B,H/4,W/4,filters] with 4×4 pooling, and keeps H,W with pool 1', () => {
    const x = randTensor([2, 8, 12, 3], 3);
    assert.deepEqual((new AttentionStem({ filters: 16 }).apply(x) as tf.Tensor).shape, [2, 2, 3, 16]);
    assert.deepEqual((new AttentionStem({ filters: 16, pool: 1 }).apply(x) as tf.Tensor).shape, [2, 8, 12, 16]);
    for (const values of ['plain', 'conv'] as const) {
      assert.deepEqual((new AttentionStem({ filters: 8, heads: 2, values }).apply(x) as tf.Tensor).shape, [2, 2, 3, 8]);
    }
  });

  it('attends only within 4×4 blocks: changing one block leaves the others unchanged', () => {
    for (const values of ['mixture', 'plain'] as const) {
      // No ReLU: a pixel whose channels all clip to 0 before and after would look unchanged.
      const stem = new AttentionStem({ filters: 8, heads: 2, pool: 1, values, relu: false });
      const x = randTensor([1, 8, 8, 3], 4);
      const y0 = stem.apply(x) as tf.Tensor;
      const bump = tf.buffer([1, 8, 8, 3]);
      bump.set(5, 0, 1, 2, 0);
      const y1 = stem.apply(tf.add(x, bump.toTensor())) as tf.Tensor;
      const diff = tf.any(tf.notEqual(y0, y1), 3).arraySync() as boolean[][][];
      for (let i = 0; i < 8; i++) {
        for (let j = 0; j < 8; j++) assert.equal(Boolean(diff[0][i][j]), i < 4 && j < 4, `${values} pixel ${i},${j}`);
      }
    }
  });

  it('mixture weights p(a,b,·) are a softmax over the m value matrices', () => {
    const stem = new AttentionStem({ filters: 8, heads: 2, mixtures: 3 });
    stem.apply(randTensor([1, 4, 4, 3], 5));
    const p = stem.mixtureWeights();
    assert.deepEqual(p.shape, [4, 4, 3]);
    assertClose(tf.sum(p, 2).dataSync(), new Float32Array(16).fill(1), { tol: 1e-6 });
    assert.equal(stem.countParams() - 2 * 8, 2 * 3 * 8 + 3 * 3 * 8 + 2 * 4 * 4 + 3 * 4 + 7 * 8 + 2 * 8);
  });

  it('refuses bad options and inputs, naming the layer and the field', () => {
    assert.throws(
      () => new AttentionStem({ name: 's', filters: 10, heads: 4 }),
      /AttentionStem 's': filters 10 must be divisible by heads 4/,
    );
    assert.throws(() => new AttentionStem({ values: 'x' as never }), /values must be one of mixture, plain, conv/);
    assert.throws(() => new AttentionStem({ block: 17 }), /block must be at most 16, got 17/);
    assert.throws(() => new AttentionStem({ block: 0 }), /block must be a positive integer/);
    assert.throws(
      () => new AttentionStem({ filters: 8 }).apply(randTensor([1, 6, 8, 3], 6)),
      /\[6,8\] must be multiples of block 4/,
    );
  });
});
