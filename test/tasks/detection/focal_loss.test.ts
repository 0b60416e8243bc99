/** The sigmoid focal loss against a float64 reference written as torchvision writes it (p, BCE, p_t). */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { hostKernels } from '../../../src/backend/host_kernels.js';
import type { FocalLossConfig } from '../../../src/tasks/detection/config.js';
import {
  focalLossRowsJs,
  sigmoidFocalLoss,
  sigmoidFocalLossOfClasses,
  weightedFocalLoss,
} from '../../../src/tasks/detection/focal_loss.js';
import * as tf from '../../../src/tf.js';
import { assertClose, nativeAvailable, numericGradient, randArray, rng, setup } from '../../helpers.js';
import { focalRef } from './retinanet_reference.js';

/** Random classes in -1..k-1 and their one-hot 0/1 targets [n, k]. */
function randomClasses(n: number, k: number, seed: number): { classes: Int32Array; targets: Float32Array } {
  const r = rng(seed);
  const classes = Int32Array.from({ length: n }, () => Math.floor(r() * (k + 1)) - 1);
  const targets = new Float32Array(n * k);
  classes.forEach((c, i) => {
    if (c >= 0) targets[i * k + c] = 1;
  });
  return { classes, targets };
}

const CONFIGS: FocalLossConfig[] = [
  { alpha: 0.25, gamma: 2 },
  { alpha: 0.5, gamma: 1.5 },
  { alpha: -1, gamma: 0 },
];

describe('sigmoid focal loss', () => {
  before(setup);

  for (const config of CONFIGS) {
    it(`matches torchvision's formula in float64, values and gradient (α ${config.alpha}, γ ${config.gamma})`, async () => {
      const n = 12;
      const k = 3;
      const x = randArray(n * k, 5, -6, 6);
      const { targets } = randomClasses(n, k, 6);
      const sumRef = (v: ArrayLike<number>) => {
        let s = 0;
        for (let i = 0; i < v.length; i++) s += focalRef(v[i], targets[i], config);
        return s;
      };
      const t = tf.tensor2d(targets, [n, k]);
      const loss = sigmoidFocalLoss(tf.tensor2d(x, [n, k]), t, config);
      assertClose(
        await loss.data(),
        Array.from(x, (v, i) => focalRef(v, targets[i], config)),
        { tol: 1e-6 },
      );
      const [grad] = tf.grads((logits: tf.Tensor) => tf.sum(sigmoidFocalLoss(logits, t, config)))([
        tf.tensor2d(x, [n, k]),
      ]);
      assertClose(await grad.data(), numericGradient(sumRef, x), { tol: 1e-5, label: 'gradient' });
    });
  }

  it('is finite with a gradient for logits of ±200 (log-sigmoid form)', async () => {
    const x = Float32Array.from([200, -200, 200, -200, 30, -30]);
    const targets = Float32Array.from([1, 1, 0, 0, 1, 0]);
    const config = CONFIGS[0];
    const t = tf.tensor1d(targets);
    const loss = await sigmoidFocalLoss(tf.tensor1d(x), t, config).data();
    assertClose(
      loss,
      Array.from(x, (v, i) => focalRef(v, targets[i], config)),
      { tol: 1e-6 },
    );
    assert.ok(Math.abs(loss[1] - 50) < 1e-4, `x = -200, t = 1: α·200 = 50, got ${loss[1]}`);
    const [grad] = tf.grads((v: tf.Tensor) => tf.sum(sigmoidFocalLoss(v, t, config)))([tf.tensor1d(x)]);
    const g = await grad.data();
    assert.ok(g.every(Number.isFinite), `gradient ${g}`);
    assert.ok(Math.abs(g[1] + 0.25) < 1e-6 && Math.abs(g[2] - 0.75) < 1e-6, `saturated gradients ∓α_t: got ${g}`);
  });

  for (const k of [1, 4]) {
    it(`from class indices equals the one-hot form (K = ${k}, -1: no class)`, async () => {
      const n = 10;
      const x = randArray(n * k, 8, -5, 5);
      const { classes, targets } = randomClasses(n, k, 9);
      const viaClasses = sigmoidFocalLossOfClasses(tf.tensor2d(x, [n, k]), tf.tensor1d(classes, 'int32'));
      const viaTargets = sigmoidFocalLoss(tf.tensor2d(x, [n, k]), tf.tensor2d(targets, [n, k]));
      assertClose(await viaClasses.data(), await viaTargets.data(), { tol: 1e-7 });
    });
  }

  for (const config of CONFIGS) {
    it(`the fused weighted sum equals the tensor form, values and gradient (α ${config.alpha}, γ ${config.gamma})`, async () => {
      const [n, k] = [16, 4];
      const x = randArray(n * k, 11, -9, 9);
      x[5] = 200;
      x[6] = -200;
      const { classes } = randomClasses(n, k, 12);
      const weights = randArray(n, 13, 0, 1);
      weights[3] = 0;
      const c = tf.tensor1d(classes, 'int32');
      const w = tf.tensor2d(weights, [n, 1]);
      const viaTensors = (v: tf.Tensor) => tf.sum(tf.mul(sigmoidFocalLossOfClasses(v, c, config), w));
      const fused = (v: tf.Tensor) => weightedFocalLoss(v, classes, weights, config);
      const logits = tf.tensor2d(x, [n, k]);
      assertClose([await fused(logits).array()], [await viaTensors(logits).array()], { tol: 1e-6 });
      const [gFused] = tf.grads(fused)([logits], tf.scalar(3));
      const [gTensors] = tf.grads(viaTensors)([logits], tf.scalar(3));
      assertClose(await gFused.data(), await gTensors.data(), { tol: 1e-6, label: 'gradient' });
      assert.ok(
        (await gFused.data()).subarray(3 * k, 4 * k).every((g) => g === 0),
        'weight 0: no gradient',
      );
    });
  }

  if (nativeAvailable)
    it("the addon's row pass (rows split over threads) equals the JS pass, loss and slopes, every config", () => {
      const native = hostKernels.focalLossRows;
      assert.ok(native, 'the loaded addon registers focalLossRows');
      const [n, k] = [4000, 91];
      const x = randArray(n * k, 31, -12, 8);
      x[7] = 200;
      x[8] = -200;
      const { classes } = randomClasses(n, k, 32);
      const weights = randArray(n, 33, 0, 1);
      for (let r = 0; r < n; r += 9) weights[r] = 0;
      for (const config of CONFIGS) {
        const [slopesNative, slopesJs] = [new Float32Array(n * k), new Float32Array(n * k)];
        const a = native(x, classes, weights, slopesNative, n, k, config.alpha, config.gamma);
        const b = focalLossRowsJs(x, classes, weights, slopesJs, n, k, config.alpha, config.gamma);
        assertClose([a], [b], { tol: 1e-9, label: `loss ${JSON.stringify(config)}` });
        assertClose(slopesNative, slopesJs, { tol: 1e-7, label: `slopes ${JSON.stringify(config)}` });
        assert.ok(
          slopesNative.subarray(0, k).every((g) => g === 0),
          'weight 0: no slope',
        );
      }
    });

  it('refuses mismatched shapes and bad α, γ', () => {
    const x = tf.zeros([2, 3]);
    assert.throws(
      () => sigmoidFocalLoss(x, tf.zeros([3, 2])),
      /targets \[3,2\] must have the shape of the logits \[2,3\]/,
    );
    assert.throws(() => sigmoidFocalLossOfClasses(x, tf.zeros([2], 'float32')), /classes must be int32 \[2\]/);
    assert.throws(() => sigmoidFocalLoss(x, x, { alpha: 1.5, gamma: 2 }), /alpha must be in \[0, 1\]/);
    assert.throws(() => sigmoidFocalLoss(x, x, { alpha: 0.25, gamma: -1 }), /gamma must be a finite number ≥ 0/);
    assert.throws(
      () => weightedFocalLoss(x, new Int32Array(3), new Float32Array(2)),
      /classes \(3\) and weights \(2\) need one entry per row of logits \[2,3\]/,
    );
  });
});
