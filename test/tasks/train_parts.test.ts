/** Training parts: the learning-rate schedule, smoothed cross-entropy, the weight EMA and one SGD step. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createModel } from '../../src/models/registry.js';
import { WeightAverage } from '../../src/tasks/classification/ema.js';
import { smoothedCrossEntropy } from '../../src/tasks/classification/loss.js';
import { decays, makeTrainStep } from '../../src/tasks/classification/step.js';
import { checkSchedule, learningRate } from '../../src/tasks/training/schedule.js';
import * as tf from '../../src/tf.js';
import { assertClose, randTensor, setup } from '../helpers.js';

describe('learning-rate schedule', () => {
  it('warms up linearly to the base rate, then decays along a cosine to zero', () => {
    const s = { base: 0.4, warmupSteps: 4, totalSteps: 14 };
    assert.deepEqual(
      [0, 1, 2, 3].map((t) => learningRate(s, t)),
      [0.1, 0.2, 0.30000000000000004, 0.4],
    );
    assert.equal(learningRate(s, 4), 0.4);
    assert.ok(Math.abs(learningRate(s, 9) - 0.2) < 1e-12);
    assert.ok(Math.abs(learningRate(s, 14)) < 1e-12);
    assert.ok(learningRate(s, 6) > learningRate(s, 7));
  });

  it('refuses bad schedules', () => {
    assert.throws(() => checkSchedule({ base: 0, warmupSteps: 0, totalSteps: 1 }), /learning rate must be a positive/);
    assert.throws(
      () => checkSchedule({ base: 1, warmupSteps: 5, totalSteps: 4 }),
      /warm-up steps must be an integer from 0 to/,
    );
  });
});

describe('smoothed cross-entropy', () => {
  before(setup);
  it('equals -Σ q log softmax with q = (1-ε) onehot + ε/K, and plain cross-entropy at ε = 0', () => {
    const z = tf.tensor2d([
      [1, 2, 0.5],
      [-1, 0, 3],
    ]);
    const y = tf.tensor1d([1, 2], 'int32');
    const lsm = [z.arraySync()[0], z.arraySync()[1]].map((row) => {
      const m = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
      return row.map((v) => v - m);
    });
    const plain = -(lsm[0][1] + lsm[1][2]) / 2;
    assert.ok(Math.abs(smoothedCrossEntropy(z, y).dataSync()[0] - plain) < 1e-6);
    const e = 0.1;
    const q = (r: number, c: number, label: number) => ((c === label ? 1 - e : 0) + e / 3) * lsm[r][c];
    const smooth = -([0, 1, 2].reduce((s, c) => s + q(0, c, 1) + q(1, c, 2), 0) / 2);
    assert.ok(Math.abs(smoothedCrossEntropy(z, y, e).dataSync()[0] - smooth) < 1e-6);
    assert.throws(() => smoothedCrossEntropy(z, tf.tensor1d([1], 'int32')), /labels \[1\] must have one entry per row/);
  });
});

describe('weight average and training step', () => {
  before(setup);
  const cfg = { widthMultiplier: 0.125, inputSize: 16, classes: 3, blocks: [1, 1], widths: [64, 128] };

  it('EMA: shadow = d·shadow + (1-d)·w, d = min(decay, (1+n)/(10+n)); swapIn puts it in and the restore brings the weights back', () => {
    const model = createModel('resnet26', cfg);
    const ema = new WeightAverage(model, 0.75);
    const before0 = model.weights[0].read().dataSync().slice();
    model.setWeights(model.weights.map((w) => tf.add(w.read(), 1)));
    ema.update(1000);
    assertClose(
      ema.shadow[0].dataSync(),
      before0.map((v) => v + 0.25),
      { tol: 1e-6 },
    );
    const restore = ema.swapIn();
    assertClose(
      model.weights[0].read().dataSync(),
      before0.map((v) => v + 0.25),
      { tol: 1e-6 },
    );
    restore();
    assertClose(
      model.weights[0].read().dataSync(),
      before0.map((v) => v + 1),
      { tol: 1e-6 },
    );
    ema.update(0);
    assertClose(
      ema.shadow[0].dataSync(),
      before0.map((v) => v + 0.25 * 0.1 + 0.9),
      { tol: 1e-5 },
    );
    ema.dispose();
  });

  it('SGD steps lower the loss on a fixed batch; only rank >= 2 weights decay; no tensors leak', () => {
    const model = createModel('sasa_resnet26', { ...cfg, attention: { heads: 2, kernelSize: 3 } });
    assert.ok(model.trainableWeights.filter(decays).every((w) => !/gamma|beta|bias/.test(w.name)));
    assert.ok(model.trainableWeights.some((w) => /gamma/.test(w.name) && !decays(w)));
    const step = makeTrainStep(model, { weightDecay: 1e-4, labelSmoothing: 0.1 });
    const x = randTensor([4, 16, 16, 3], 1) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1, 2, 1], 'int32');
    const first = step.run(x, y, 0.05);
    const tensors = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 8; i++) last = step.run(x, y, 0.05);
    assert.ok(last < first * 0.8, `loss ${first} → ${last}`);
    assert.equal(tf.memory().numTensors, tensors);
  });
});
