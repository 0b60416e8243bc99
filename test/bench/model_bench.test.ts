/** `sasa bench model`'s step (prepareModelBench/benchModel): bounded memory, training updates, errors. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { benchModel, prepareModelBench } from '../../src/bench/cases.js';
import * as tf from '../../src/tf.js';
import { setup } from '../helpers.js';

const small = { batch: 2, size: 32, classes: 10 };

describe('bench model', () => {
  before(setup);

  for (const [model, train] of [
    ['resnet26', true],
    ['resnet26', false],
    ['sasa_resnet26', true],
  ] as const) {
    it(`${model} ${train ? 'training' : 'inference'} steps do not leak tensors`, () => {
      const before = tf.memory().numTensors;
      const bench = prepareModelBench({ model, ...small, train });
      bench.step(); // the first training step creates the optimiser's momentum accumulators
      const after1 = tf.memory().numTensors;
      bench.step();
      bench.step();
      assert.equal(tf.memory().numTensors, after1, 'tensors grew across steps');
      bench.dispose();
      assert.equal(tf.memory().numTensors, before, 'tensors left after dispose');
    });
  }

  it('a training step changes the weights and the BN moving statistics; inference changes nothing', () => {
    const bench = prepareModelBench({ model: 'resnet26', ...small, train: true });
    const byName = (n: string) => {
      const w = bench.model.weights.find((v) => v.originalName === n || v.name === n);
      assert.ok(w, `weight ${n} not found among ${bench.model.weights.map((v) => v.originalName).join(', ')}`);
      return w;
    };
    const kernel = byName('stem.conv/kernel');
    const mean = bench.model.weights.find((v) => /stem\.bn\/moving_mean/.test(v.originalName));
    assert.ok(mean);
    const k0 = kernel.read().dataSync().slice();
    const m0 = mean.read().dataSync().slice();
    bench.step();
    assert.notDeepEqual(kernel.read().dataSync(), k0);
    assert.notDeepEqual(mean.read().dataSync(), m0);
    bench.dispose();

    const inf = prepareModelBench({ model: 'resnet26', ...small, train: false });
    const w = inf.model.weights.map((v) => v.read().dataSync().slice());
    inf.step();
    for (const [i, v] of inf.model.weights.entries()) assert.deepEqual(v.read().dataSync(), w[i]);
    inf.dispose();
  });

  it('benchModel reports the timing and images/s', () => {
    const r = benchModel({ model: 'resnet26', ...small, train: false }, { runs: 2, warmup: 1 });
    assert.equal(r.runs, 2);
    assert.ok(r.median_ms > 0 && r.min_ms <= r.median_ms && r.median_ms <= r.max_ms);
    assert.ok(Math.abs(r.images_per_s - (2 * 1000) / r.median_ms) < 0.01 + 0.01 * r.images_per_s);
    assert.ok(r.peak_rss_mb > 0);
    assert.ok(r.cpu_ms > 0, `cpu_ms ${r.cpu_ms}`);
  });

  it("unknown models give the registry's error, which lists the known ones", () => {
    assert.throws(
      () => prepareModelBench({ model: 'resnet27', ...small, train: false }),
      /unknown model 'resnet27'; known models: .*resnet26.*sasa_resnet26/,
    );
  });
});
