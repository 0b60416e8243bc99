/**
 * Inference with the batch norms folded into the convolutions and attention layers (models/folded_inference.ts) against the
 * model run as built: `model.predict` executes the layer graph (conv, then batch norm, then ReLU) and does
 * not go through the folded `model.call`. Batch norms get random statistics so that folding changes numbers.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { BatchNorm } from '../../src/layers/batch_norm.js';
import { LocalSelfAttention2D } from '../../src/layers/local_self_attention.js';
import { FoldedInference } from '../../src/models/folded_inference.js';
import { createModel } from '../../src/models/registry.js';
import * as tf from '../../src/tf.js';
import { assertClose, setup } from '../helpers.js';

/** Random gamma, beta and moving statistics in every batch norm (seeded). */
function randomiseBatchNorms(model: tf.LayersModel, seed: number): void {
  for (const [i, w] of model.weights.entries()) {
    if (/moving_variance|gamma/.test(w.name)) w.write(tf.randomUniform(w.shape, 0.5, 1.5, 'float32', seed + i));
    else if (/moving_mean|beta/.test(w.name)) w.write(tf.randomNormal(w.shape, 0, 0.3, 'float32', seed + i));
  }
}

function folded(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.apply(x, { training: false }) as tf.Tensor).dataSync() as Float32Array);
}

function asBuilt(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

before(async () => {
  await setup();
});

describe('batch norms folded into convolutions at inference', () => {
  for (const name of ['resnet26', 'sasa_resnet26_convstem']) {
    it(`${name}: folded logits equal the layer graph's`, () => {
      const model = createModel(name, { inputSize: 32, classes: 10 }, { seed: 3 });
      randomiseBatchNorms(model, 10);
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4);
      assertClose(folded(model, x), asBuilt(model, x), { label: `${name} logits` });
      tf.dispose(x);
      model.dispose();
    });
  }

  it('every conv → batch norm pair of resnet26 is folded, every block end (residual batch norm) with its add and ReLU', () => {
    const model = createModel('resnet26', { inputSize: 32, classes: 10 }, { seed: 3 });
    const plan = FoldedInference.of(model);
    assert.ok(plan);
    const count = (name: string) => model.layers.filter((l) => l.getClassName() === name).length;
    const residual = model.layers.filter((l) => l instanceof BatchNorm && l.residual).length;
    assert.equal(residual, 8);
    assert.deepEqual(plan.folds(), { pairs: count('BatchNorm'), residual, attention: 0 });
    model.dispose();
  });

  it("every attention layer's batch norm of sasa_resnet26_convstem is folded into W_V", () => {
    const model = createModel('sasa_resnet26_convstem', { inputSize: 32, classes: 10 }, { seed: 3 });
    const plan = FoldedInference.of(model);
    assert.ok(plan);
    const attention = model.layers.filter((l) => l instanceof LocalSelfAttention2D).length;
    assert.equal(attention, 8);
    assert.equal(plan.folds().attention, attention);
    model.dispose();
  });

  // 64²: attention at 16² (the native kernel's windowed path) and below (its small-image path), strided layers
  // pooled in the kernel; 56²: a strided layer at 7², pooled after the kernel.
  for (const size of [64, 56]) {
    it(`sasa_resnet26_convstem at ${size}²: folded logits equal the layer graph's`, () => {
      const model = createModel('sasa_resnet26_convstem', { inputSize: size, classes: 10 }, { seed: 13 });
      randomiseBatchNorms(model, 30);
      const x = tf.randomNormal([1, size, size, 3], 0, 1, 'float32', 14);
      assertClose(folded(model, x), asBuilt(model, x), { label: `convstem ${size}² logits` });
      tf.dispose(x);
      model.dispose();
    });
  }

  it('a weight assigned anew (a training step, loaded weights) refolds', () => {
    const model = createModel('resnet26', { inputSize: 32, classes: 10 }, { seed: 5 });
    const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 6);
    const before = folded(model, x);
    randomiseBatchNorms(model, 20);
    const stem = model.getLayer('stem.conv');
    tf.tidy(() => stem.setWeights([tf.mul(stem.getWeights()[0], 0.5)]));
    const after = folded(model, x);
    assert.ok(
      after.some((v, i) => Math.abs(v - before[i]) > 1e-3),
      'the logits follow the new weights',
    );
    assertClose(after, asBuilt(model, x), { label: 'after new weights' });
    tf.dispose(x);
    model.dispose();
  });

  it('training mode still uses batch statistics and updates the moving ones', () => {
    const model = createModel('resnet26', { inputSize: 32, classes: 10 }, { seed: 7 });
    const x = tf.randomNormal([2, 32, 32, 3], 2, 1, 'float32', 8);
    const mean = () => model.getLayer('stem.bn').getWeights()[2].dataSync()[0];
    const start = mean();
    tf.tidy(() => model.apply(x, { training: true }));
    assert.notEqual(mean(), start, 'stem.bn moving mean updated');
    tf.dispose(x);
    model.dispose();
  });

  it('under a gradient scope inference runs the graph as built, so every weight gets its gradient', () => {
    for (const name of ['resnet26', 'sasa_resnet26_convstem']) {
      const model = createModel(name, { inputSize: 32, classes: 10 }, { seed: 11 });
      const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 12);
      folded(model, x);
      const { value, grads } = tf.variableGrads(
        () => tf.sum(model.apply(x, { training: false }) as tf.Tensor) as tf.Scalar,
      );
      const trainable = model.trainableWeights.map((w) => w.read().name);
      assert.deepEqual(Object.keys(grads).sort(), trainable.sort(), `${name}: a gradient for every trainable weight`);
      tf.dispose([x, value, ...Object.values(grads)]);
      model.dispose();
    }
  });

  it('dispose frees the folded weights', () => {
    for (const name of ['resnet26', 'sasa_resnet26_convstem']) {
      const start = tf.memory().numTensors;
      const model = createModel(name, { inputSize: 32, classes: 10 }, { seed: 9 });
      const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 10);
      folded(model, x);
      tf.dispose(x);
      model.dispose();
      assert.equal(tf.memory().numTensors, start, name);
    }
  });
});
