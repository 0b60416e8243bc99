/**
 * SgdOptimizer: model.compile + model.fit / fitDataset train a sasa model with tfjs callbacks, the
 * update equals the CLI trainer's step (makeTrainStep: Sgd) numerically, the formula on one variable
 * equals the PyTorch formula written out in plain arithmetic, and the optimiser serialises.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createModel } from '../../../src/models/registry.js';
import { makeTrainStep } from '../../../src/tasks/classification/step.js';
import { SgdOptimizer } from '../../../src/tasks/training/sgd_optimizer.js';
import * as tf from '../../../src/tf.js';
import { randArray, setup } from '../../helpers.js';

const BATCH = 8;
const CLASSES = 10;

/** A small attention model (the demo's widths ×0.5, two groups) on [B, 12, 12, 1], seeded. */
function smallModel(seed: number): tf.LayersModel {
  return createModel('sasa_resnet26_demo', { widthMultiplier: 0.125, blocks: [1, 1], inputSize: 12 }, { seed });
}

/** One batch: x [B, 12, 12, 1] in [-1, 1], labels [B] int32. */
function batch(seed: number): { x: tf.Tensor4D; labels: tf.Tensor1D } {
  const labels = Array.from(randArray(BATCH, seed + 1, 0, CLASSES), Math.floor);
  return { x: tf.tensor4d(randArray(BATCH * 144, seed), [BATCH, 12, 12, 1]), labels: tf.tensor1d(labels, 'int32') };
}

/** Softmax cross-entropy of logits [B, K] against one-hot targets [B, K], the mean over B. */
const crossEntropy = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred);

describe('SgdOptimizer', () => {
  it('applies w ← w − lr·(g′ + μ·v′), v′ = μ·v + g′, g′ = g + λ·w (rank ≥ 2) over two steps', async () => {
    await setup();
    const w0 = [0.5, -1, 2, 0.25];
    const g = [0.1, 0.2, -0.3, 0.4];
    const kernel = tf.variable(tf.tensor2d(w0, [2, 2]));
    const bias = tf.variable(tf.tensor1d(w0));
    const optimizer = new SgdOptimizer(0.1, { momentum: 0.9, weightDecay: 0.01 });
    for (let step = 0; step < 2; step++) {
      optimizer.applyGradients({ [kernel.name]: tf.tensor2d(g, [2, 2]), [bias.name]: tf.tensor1d(g) });
    }
    const expected = (decay: number) =>
      w0.map((w, i) => {
        let v = 0;
        for (let step = 0; step < 2; step++) {
          const gi = g[i] + decay * w;
          v = 0.9 * v + gi;
          w -= 0.1 * (gi + 0.9 * v);
        }
        return w;
      });
    const close = (got: ArrayLike<number>, want: number[]) => {
      for (const [i, x] of want.entries()) assert.ok(Math.abs(got[i] - x) < 1e-6, `element ${i}: ${got[i]} vs ${x}`);
    };
    close(kernel.dataSync(), expected(0.01));
    close(bias.dataSync(), expected(0));
    assert.equal(optimizer.iterations, 2);
    optimizer.dispose();
    tf.dispose([kernel, bias]);
  });

  it('model.fit takes the same steps as the CLI trainer step (makeTrainStep) on the same weights', async () => {
    await setup();
    const ours = smallModel(3);
    const theirs = smallModel(3);
    const { x, labels } = batch(7);
    const initial = ours.weights.map((w) => w.read().dataSync().slice());
    const step = makeTrainStep(ours, { momentum: 0.9, weightDecay: 1e-3 });
    for (let i = 0; i < 2; i++) step.run(x, labels, 0.05);
    theirs.compile({ optimizer: new SgdOptimizer(0.05, { weightDecay: 1e-3 }), loss: crossEntropy });
    await theirs.fit(x, tf.oneHot(labels, CLASSES), { batchSize: BATCH, epochs: 2, shuffle: false, verbose: 0 });
    let worst = 0;
    ours.weights.forEach((w, i) => {
      const a = w.read().dataSync();
      const b = theirs.weights[i].read().dataSync();
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]) / (1e-3 + Math.abs(a[j])));
    });
    assert.ok(worst < 1e-3, `largest relative weight difference ${worst}`);
    const moved = ours.weights.some((w, i) =>
      w
        .read()
        .dataSync()
        .some((v, j) => Math.abs(v - initial[i][j]) > 1e-4),
    );
    assert.ok(moved, 'the weights did not move');
  });

  it('lowers the loss over a few model.fit steps, calling tfjs callbacks per batch', async () => {
    await setup();
    const model = smallModel(5);
    const { x, labels } = batch(11);
    model.compile({ optimizer: new SgdOptimizer(0.05), loss: crossEntropy });
    const losses: number[] = [];
    const callbacks = { onBatchEnd: async (_: number, logs?: tf.Logs) => void losses.push(logs?.loss ?? NaN) };
    await model.fit(x, tf.oneHot(labels, CLASSES), { batchSize: BATCH, epochs: 4, verbose: 0, callbacks });
    assert.equal(losses.length, 4);
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    assert.ok(losses[3] < losses[0] * 0.9, `loss went ${losses[0]} → ${losses[3]}`);
  });

  it('trains with model.fitDataset on a dataset of batches', async () => {
    await setup();
    const model = smallModel(9);
    model.compile({ optimizer: new SgdOptimizer(0.05), loss: crossEntropy });
    /** Three batches per epoch, made afresh: fitDataset disposes each batch once used. */
    const next = (seed: number) => {
      const { x, labels } = batch(seed);
      return { value: { xs: x, ys: tf.oneHot(labels, CLASSES) }, done: false };
    };
    const dataset = {
      iterator: async () => {
        let i = 0;
        return { next: async () => (i < 2 ? next(++i) : { value: null, done: true }) };
      },
    };
    const history = await model.fitDataset(dataset as unknown as Parameters<typeof model.fitDataset>[0], {
      epochs: 3,
      verbose: 0,
    });
    const loss = history.history.loss as number[];
    assert.equal(loss.length, 3);
    assert.ok(loss[2] < loss[0], `epoch loss went ${loss[0]} → ${loss[2]}`);
  });

  it('serialises: getConfig → fromConfig gives the same settings, getWeights → setWeights the same state', async () => {
    await setup();
    const optimizer = new SgdOptimizer(0.2, { momentum: 0.5, weightDecay: 0, nesterov: false });
    const w = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]));
    optimizer.applyGradients({ [w.name]: tf.ones([2, 2]) });
    const cls = tf.serialization.SerializationMap.getMap().classNameMap.SasaSgd;
    assert.ok(cls, 'SasaSgd is not registered');
    const copy = cls[1](cls[0], optimizer.getConfig()) as SgdOptimizer;
    assert.ok(copy instanceof SgdOptimizer);
    assert.deepEqual(copy.getConfig(), { learningRate: 0.2, momentum: 0.5, weightDecay: 0, nesterov: false });
    await copy.setWeights(await optimizer.getWeights());
    const state = await copy.getWeights();
    assert.deepEqual(
      state.map((s) => s.name),
      ['iter', `${w.name}/momentum`],
    );
    assert.deepEqual(Array.from(state[1].tensor.dataSync()), [1, 1, 1, 1]);
  });

  it('refuses bad settings, naming the setting', () => {
    assert.throws(() => new SgdOptimizer(-1), /learningRate must be a finite number >= 0, got -1/);
    assert.throws(() => new SgdOptimizer(0.1, { momentum: 1 }), /momentum must be in \[0, 1\), got 1/);
    assert.throws(() => new SgdOptimizer(0.1, { weightDecay: Number.NaN }), /weightDecay must be/);
  });
});
