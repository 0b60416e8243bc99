/**
 * The bugs the fuzzer found (scripts/fuzz.ts), one case each: native results must match the cpu
 * backend, refusals must be clear Errors naming the argument, NaN must stay NaN.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { batchNormBlockMax, batchNormTrain } from '../../src/ops/batch_norm_train.js';
import { sgdUpdate } from '../../src/ops/sgd_update.js';
import * as tf from '../../src/tf.js';
import { describeNative, setup, useBackend } from '../helpers.js';
import { type FuzzCase, judge } from './harness.js';
import { FUZZ_OPS } from './ops.js';
import type { InputSpec } from './random.js';
import { caseOf } from './sweep.js';

const plain = (shape: number[]): InputSpec => ({ shape, dtype: 'float32', view: 'plain', special: false });

/** Runs op `name` on both backends and asserts the native result matches cpu's (shapes: plain float32 inputs). */
async function assertMatches(
  name: string,
  shapes: (number[] | InputSpec)[],
  attrs: Record<string, unknown>,
  grad = false,
) {
  const op = FUZZ_OPS.find((o) => o.name === name);
  assert.ok(op, name);
  const c: FuzzCase = {
    op: name,
    seed: 7,
    index: 0,
    inputs: shapes.map((s) => (Array.isArray(s) ? plain(s) : s)),
    attrs,
    grad,
    reduction: 64,
    unusual: false,
  };
  assert.deepEqual(await judge(c, op.run, op.slack), { kind: 'match' });
}

/** Asserts `fn` throws an Error (on native) whose message contains every one of `parts`. */
function throwsNaming(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof Error, `expected an Error, got ${String(err)}`);
    for (const p of parts)
      assert.ok(err.message.includes(p), `${JSON.stringify(err.message)} lacks ${JSON.stringify(p)}`);
    return true;
  });
}

describeNative('fuzzer findings stay fixed', () => {
  before(async () => {
    await setup();
  });

  it('conv2d: an explicit pad with unequal strides (no oneDNN geometry) falls back', async () => {
    await assertMatches(
      'conv2d',
      [
        [1, 7, 6, 2],
        [4, 4, 2, 3],
      ],
      { strides: [3, 1], pad: 2, dilations: 1 },
      true,
    );
  });

  it('conv2d: an input smaller than the filter gives cpu’s empty output, not an error', async () => {
    await assertMatches(
      'conv2d',
      [
        [1, 2, 2, 1],
        [3, 3, 1, 1],
      ],
      { strides: 1, pad: 'valid', dilations: 1 },
    );
  });

  it('fused.conv2d: a bias that broadcasts the channels falls back', async () => {
    await assertMatches('fused.conv2d', [[1, 3, 5, 5], [2, 2, 5, 1], [2]], {
      strides: 3,
      pad: 2,
      dilations: 1,
      activation: 'relu',
    });
  });

  it('avgPool: a window wholly in the padding is NaN, as on cpu', async () => {
    await assertMatches('avgPool', [[1, 1, 5, 5]], { filterSize: 2, strides: [2, 3], pad: 2 });
  });

  it('pools: a 1×1 window with strides 2 and pad 2 samples the padded input (cpu’s identity shortcut is not the reference)', async () => {
    const attrs = { filterSize: 1, strides: 2, pad: 2 };
    await assertMatches('avgPool', [[2, 4, 4, 1]], attrs);
    await assertMatches('sasa.avgPool', [[2, 4, 4, 1]], attrs, true);
    await assertMatches('maxPool', [[2, 4, 4, 1]], attrs, true);
    await useBackend('native');
    const column = (t: tf.Tensor) => Array.from(t.dataSync()).filter((_, i) => i % 4 === 1 && i < 16);
    const x = tf.reshape(tf.range(0, 16), [1, 4, 4, 1]);
    assert.deepEqual(column(tf.avgPool(x as tf.Tensor4D, 1, 2, 2)), [Number.NaN, 0, 8, Number.NaN]);
  });

  it('sgdUpdate: without weight decay an infinite weight does not reach the velocity (0·∞ is NaN)', async () => {
    await useBackend('native');
    const options = { lr: 0.5, momentum: 0.9, weightDecay: 0, nesterov: true };
    const { v } = sgdUpdate(tf.tensor1d([Number.POSITIVE_INFINITY, Number.NaN]), tf.ones([2]), tf.ones([2]), options);
    assert.deepEqual(Array.from(v.dataSync()), [1.9, 1.9].map(Math.fround));
  });

  it('batchNormBlockMax: the gradient of one-pixel blocks (cpu’s oneHot refused depth 1)', async () => {
    await assertMatches('batchNormBlockMax', [[2, 1, 1, 3], [3], [3]], { epsilon: 1e-3 }, true);
  });

  it('matMul: batch dimensions broadcast in different places pair the right matrices', async () => {
    await assertMatches(
      'matMul',
      [
        [2, 3, 7],
        [3, 1, 7, 6],
      ],
      { ta: false, tb: false },
    );
  });

  it('matMul: a bool or int32 operand broadcast in other dimensions pairs the right matrices too', async () => {
    const bool: InputSpec = { shape: [1, 2, 1, 9, 3], dtype: 'bool', view: 'plain', special: false };
    await assertMatches('matMul', [[2, 3, 4, 9], bool], { ta: false, tb: false });
    const int32 = (shape: number[]): InputSpec => ({ shape, dtype: 'int32', view: 'plain', special: false });
    await assertMatches('matMul', [int32([2, 1, 3, 4]), int32([3, 4, 5])], { ta: false, tb: false });
    await assertMatches('matMul', [int32([3, 4, 2]), [2, 1, 5, 4]], { ta: true, tb: true });
  });

  it('batch norms: a non-finite gamma gives cpu’s ±∞ (0 after the ReLU), not the folded form’s ∞ − ∞', async () => {
    const run = async (backend: string) => {
      await useBackend(backend);
      const x = tf.tensor4d([3, -1, 0.5, 2, -2, 1, 0, 4], [2, 2, 1, 2]);
      const gamma = tf.tensor1d([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
      const beta = tf.tensor1d([0.5, -1]);
      const y = (b: tf.Tensor) => batchNormTrain(x, gamma, b, 1e-3, true).y;
      return {
        train: Array.from(batchNormTrain(x, gamma, beta, 1e-3, false).y.dataSync()),
        relu: Array.from(y(beta).dataSync()),
        blockMax: Array.from(batchNormBlockMax(x, gamma, beta, 1e-3).y.dataSync()),
        dBeta: Array.from(
          tf
            .grad((b: tf.Tensor) => tf.sum(y(b)))(beta)
            .dataSync(),
        ),
      };
    };
    const native = await run('native');
    assert.deepEqual(native, await run('cpu'));
    assert.ok(
      native.relu.every((v) => v === 0 || v === Number.POSITIVE_INFINITY),
      `${native.relu}`,
    );
  });

  it('batch norms of one or two values per channel: a rounding of x times 1/√ε is within the conditioning slack', async () => {
    for (const [name, index] of [
      ['batchNormTrain', 152],
      ['batchNormTrain', 400],
      ['batchNormBlockMax', 2660],
    ] as const) {
      const op = FUZZ_OPS.find((o) => o.name === name);
      assert.ok(op);
      const c = caseOf(op, 1, index);
      assert.equal((await judge(c, op.run)).kind, 'mismatch', `${name} ${index} without the slack`);
      assert.deepEqual(await judge(c, op.run, op.slack), { kind: 'match' }, `${name} ${index}`);
    }
  });

  it('conv2d: a NaN dy at a padded tap leaves the filter gradient’s other taps finite, as on cpu', async () => {
    const op = FUZZ_OPS.find((o) => o.name === 'fused.conv2d');
    assert.ok(op);
    for (const index of [1814, 8514]) assert.deepEqual(await judge(caseOf(op, 1, index), op.run), { kind: 'match' });
  });

  it('bad attributes and huge outputs are refused by name before allocating', async () => {
    await useBackend('native');
    const x = tf.ones([1, 4, 4, 1]);
    throwsNaming(() => tf.conv2d(x, tf.ones([2, 2, 1, 1]), 0.5 as unknown as 1, 'same'), 'Conv2D', 'strides', '0.5');
    throwsNaming(() => tf.maxPool(x, 2, 1, -1 as unknown as 'same'), 'MaxPool', 'pad', '-1');
    // relu6 falls back to tfjs's kernel, whose loops over Infinity output rows never ended (fused.conv2d 1401).
    const filter = tf.ones([3, 4, 1, 0]) as tf.Tensor4D;
    const strides = 0 as unknown as 1;
    throwsNaming(
      () => tf.fused.conv2d({ x, filter, strides, pad: 'same', bias: tf.ones([1]), activation: 'relu6' }),
      'FusedConv2D',
      'strides',
      'got 0',
    );
    throwsNaming(() => tf.pad(tf.ones([2]), [[2 ** 31, 0]]), 'PadV2', 'output [2147483650]');
    throwsNaming(() => tf.sum(tf.ones([4]), [0, 0]), 'Sum', 'axis [0,0]', 'twice');
    throwsNaming(() => batchNormTrain(tf.ones([0, 2]), tf.ones([2]), tf.zeros([2])), 'x [0,2]', 'empty');
    throwsNaming(() => batchNormTrain(tf.ones([3, 2]), tf.ones([2], 'int32'), tf.zeros([2])), 'gamma', 'int32');
  });

  it('NaN stays NaN: batch statistics, the ReLU gradient and the batch norm’s ReLU gate', async () => {
    await useBackend('native');
    const x = tf.tensor2d([
      [1, Number.POSITIVE_INFINITY],
      [2, 3],
    ]);
    const { variance } = batchNormTrain(x, tf.ones([2]), tf.zeros([2]));
    assert.ok(Number.isNaN(variance.dataSync()[1]), `variance ${variance.dataSync()}`);
    const reluGrad = tf.grad((t: tf.Tensor) => tf.relu(t))(tf.tensor1d([Number.NaN, 1, -1]));
    assert.deepEqual(Array.from(reluGrad.dataSync()), [Number.NaN, 1, 0]);
    const xs = tf.tensor2d([[Number.NaN], [1], [2]]);
    const dBeta = tf.grad((b: tf.Tensor) => batchNormTrain(xs, tf.ones([1]), b, 1e-3, true).y)(tf.zeros([1]));
    assert.ok(Number.isNaN(dBeta.dataSync()[0]), `dBeta ${dBeta.dataSync()}`);
    const blockY = batchNormBlockMax(tf.ones([1, 2, 2, 1]), tf.ones([1]), tf.zeros([1])).y;
    assert.deepEqual(Array.from(blockY.dataSync()), [0]);
  });
});
