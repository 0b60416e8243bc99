/**
 * AdamW against PyTorch's torch.optim.AdamW (test/golden/training/adamw.json, tools/gen_adamw_golden.py): four
 * steps at changing learning rates, decoupled weight decay on the rank-2 kernel only; and its state's groups.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AdamW } from '../../../src/tasks/training/adamw.js';
import * as tf from '../../../src/tf.js';
import { setup } from '../../helpers.js';

interface Pair {
  kernel: number[];
  bias: number[];
}
const golden = JSON.parse(readFileSync(new URL('../../golden/training/adamw.json', import.meta.url), 'utf8')) as {
  weightDecay: number;
  lrs: number[];
  initial: Pair;
  grads: Pair[];
  after: Pair[];
};

function denseLayer(): tf.layers.Layer {
  const layer = tf.layers.dense({ units: 4, inputShape: [3], name: 'dense' });
  layer.build([null, 3]);
  layer.setWeights([tf.tensor2d(golden.initial.kernel, [3, 4]), tf.tensor1d(golden.initial.bias)]);
  return layer;
}

describe('AdamW', () => {
  it('matches torch.optim.AdamW step by step (decay on the kernel, none on the bias)', async () => {
    await setup();
    const layer = denseLayer();
    const optimizer = new AdamW({ weightDecay: golden.weightDecay });
    golden.lrs.forEach((lr, step) => {
      const grads = [tf.tensor2d(golden.grads[step].kernel, [3, 4]), tf.tensor1d(golden.grads[step].bias)];
      optimizer.apply(layer.trainableWeights, grads, lr);
      tf.dispose(grads);
      const [kernel, bias] = layer.getWeights().map((w) => Array.from(w.dataSync()));
      const expected = golden.after[step];
      const worst = Math.max(
        ...kernel.map((x, i) => Math.abs(x - expected.kernel[i])),
        ...bias.map((x, i) => Math.abs(x - expected.bias[i])),
      );
      assert.ok(worst < 2e-6, `step ${step + 1}: off by ${worst}`);
    });
    const steps = optimizer.state.get('adam_step');
    assert.deepEqual(
      [...(steps ?? [])].map(([name, t]) => [name, t.dataSync()[0]]),
      layer.trainableWeights.map((w) => [w.originalName, 4]),
    );
    optimizer.dispose();
    assert.ok([...optimizer.state.values()].every((group) => group.size === 0));
  });

  it('refuses betas outside [0, 1) and a non-positive epsilon, naming them', () => {
    assert.throws(() => new AdamW({ beta1: 1 }), /beta1 must be in \[0, 1\), got 1/);
    assert.throws(() => new AdamW({ beta2: -0.1 }), /beta2 must be in \[0, 1\)/);
    assert.throws(() => new AdamW({ epsilon: 0 }), /epsilon must be > 0/);
  });
});
