/**
 * Bad input must throw a JS Error that names the op and the shapes, never crash the process:
 * kernels called directly through runKernel (bypassing tfjs's op-level checks), the
 * batchNormTrain op (on every backend), and the raw addon with short buffers and wrong types.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { loadAddon } from '../../src/backend/addon.js';
import { batchNormTrain } from '../../src/ops/batch_norm_train.js';
import * as tf from '../../src/tf.js';
import { assertClose, describeNative, randTensor, runOn, setup, useBackend } from '../helpers.js';

/** Asserts `fn` throws an Error whose message contains every one of `parts`. */
function throwsNaming(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof Error, `expected an Error, got ${String(err)}`);
    for (const p of parts)
      assert.ok(err.message.includes(p), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(p)}`);
    return true;
  });
}

function run(kernel: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): unknown {
  return tf.tidy(() => tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor);
}

const convAttrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 };

before(async () => {
  await setup();
});

describeNative(
  'native kernels reject bad shapes with errors naming the op and shapes',
  () => {
    before(async () => {
      await useBackend('native');
    });

    it('Conv2D with mismatched channels', () => {
      throwsNaming(
        () => run('Conv2D', { x: tf.zeros([1, 5, 5, 3]), filter: tf.zeros([3, 3, 2, 4]) }, convAttrs),
        'Conv2D',
        '[1,5,5,3]',
        '[3,3,2,4]',
      );
    });

    it('Conv2D with a rank-3 input', () => {
      throwsNaming(
        () => run('Conv2D', { x: tf.zeros([5, 5, 3]), filter: tf.zeros([3, 3, 3, 4]) }, convAttrs),
        'Conv2D',
        '[5,5,3]',
      );
    });

    it("Conv2D with an input smaller than the filter ('valid') gives tfjs's empty output", () => {
      const y = run(
        'Conv2D',
        { x: tf.zeros([1, 2, 2, 1]), filter: tf.zeros([3, 3, 1, 1]) },
        { ...convAttrs, pad: 'valid' },
      );
      assert.deepEqual((y as tf.Tensor).shape, [1, 0, 0, 1]);
    });

    it('FusedConv2D with mismatched channels and with a bias of the wrong length', () => {
      const attrs = { ...convAttrs, activation: 'relu', dimRoundingMode: 'floor' };
      throwsNaming(
        () => run('FusedConv2D', { x: tf.zeros([1, 5, 5, 3]), filter: tf.zeros([3, 3, 2, 4]) }, attrs),
        'FusedConv2D',
        '[1,5,5,3]',
      );
      throwsNaming(
        () =>
          run('FusedConv2D', { x: tf.zeros([1, 5, 5, 3]), filter: tf.zeros([3, 3, 3, 4]), bias: tf.zeros([5]) }, attrs),
        'FusedConv2D',
        '[5]',
      );
    });

    it('Conv2DBackpropInput with dy of the wrong shape', () => {
      throwsNaming(
        () =>
          run(
            'Conv2DBackpropInput',
            { dy: tf.zeros([1, 4, 4, 4]), filter: tf.zeros([3, 3, 3, 4]) },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [1, 5, 5, 3] },
          ),
        'Conv2DBackpropInput',
        '[1,4,4,4]',
        '[1,5,5,4]',
      );
    });

    it('Conv2DBackpropFilter with dy of the wrong shape', () => {
      throwsNaming(
        () =>
          run(
            'Conv2DBackpropFilter',
            { x: tf.zeros([1, 5, 5, 3]), dy: tf.zeros([1, 5, 5, 2]) },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] },
          ),
        'Conv2DBackpropFilter',
        '[1,5,5,2]',
      );
    });

    it('BatchMatMul with mismatched inner dimensions', () => {
      throwsNaming(
        () =>
          run('BatchMatMul', { a: tf.zeros([2, 3]), b: tf.zeros([4, 5]) }, { transposeA: false, transposeB: false }),
        'BatchMatMul',
        '[2,3]',
        '[4,5]',
      );
      throwsNaming(
        () =>
          run(
            'BatchMatMul',
            { a: tf.zeros([2, 3, 4]), b: tf.zeros([2, 3, 5]) },
            { transposeA: false, transposeB: true },
          ),
        'BatchMatMul',
        '[2,3,4]',
        '[2,3,5]',
      );
    });

    it('BatchMatMul with batch dimensions that do not broadcast, and with rank-1 inputs', () => {
      throwsNaming(
        () =>
          run(
            'BatchMatMul',
            { a: tf.zeros([2, 3, 4]), b: tf.zeros([3, 4, 5]) },
            { transposeA: false, transposeB: false },
          ),
        'BatchMatMul',
        '[2,3,4]',
        '[3,4,5]',
      );
      throwsNaming(() => run('BatchMatMul', { a: tf.zeros([3]), b: tf.zeros([3]) }), 'BatchMatMul', '[3]');
    });

    it('_FusedMatMul with mismatched inner dimensions', () => {
      throwsNaming(
        () =>
          run(
            '_FusedMatMul',
            { a: tf.zeros([2, 3]), b: tf.zeros([4, 5]) },
            { transposeA: false, transposeB: false, activation: 'relu' },
          ),
        '_FusedMatMul',
        '[2,3]',
        '[4,5]',
      );
    });

    it('MaxPoolGrad and AvgPoolGrad with dy of the wrong shape', () => {
      const input = tf.zeros([1, 6, 6, 2]);
      const attrs = { filterSize: 2, strides: 2, pad: 'valid' };
      throwsNaming(
        () => run('MaxPoolGrad', { dy: tf.zeros([1, 2, 2, 2]), input, output: tf.zeros([1, 3, 3, 2]) }, attrs),
        'MaxPoolGrad',
        '[1,2,2,2]',
        '[1,3,3,2]',
      );
      throwsNaming(
        () => run('AvgPoolGrad', { dy: tf.zeros([1, 3, 3, 5]), input }, attrs),
        'AvgPoolGrad',
        '[1,3,3,5]',
        '[1,3,3,2]',
      );
    });

    it('MaxPool and AvgPool with a rank-3 input', () => {
      const attrs = { filterSize: 2, strides: 2, pad: 'valid' };
      throwsNaming(() => run('MaxPool', { x: tf.zeros([6, 6, 2]) }, attrs), 'MaxPool', '[6,6,2]');
      throwsNaming(() => run('AvgPool', { x: tf.zeros([6, 6, 2]) }, attrs), 'AvgPool', '[6,6,2]');
    });

    it('SasaReluGrad with mismatched shapes', () => {
      throwsNaming(
        () => run('SasaReluGrad', { dy: tf.zeros([2, 3]), x: tf.zeros([3, 2]) }),
        'ReluGrad',
        '[2,3]',
        '[3,2]',
      );
    });

    it('SasaBatchNormTrain / SasaBatchNormTrainGrad called directly with bad parameters', () => {
      const x = tf.zeros([2, 3, 3, 4]);
      throwsNaming(
        () => run('SasaBatchNormTrain', { x, gamma: tf.ones([3]), beta: tf.zeros([4]) }, { epsilon: 1e-5 }),
        'batchNormTrain',
        'gamma',
        '[3]',
      );
      throwsNaming(
        () =>
          run(
            'SasaBatchNormTrainGrad',
            {
              dy: tf.zeros([2, 3, 3, 3]),
              x,
              mean: tf.zeros([4]),
              variance: tf.ones([4]),
              gamma: tf.ones([4]),
              beta: tf.zeros([4]),
            },
            { epsilon: 1e-5 },
          ),
        'batchNormTrain',
        '[2,3,3,3]',
        '[2,3,3,4]',
      );
    });

    it('binary ops with shapes that do not broadcast', () => {
      assert.throws(() => run('Add', { a: tf.zeros([2, 3]), b: tf.zeros([4]) }), Error);
      assert.throws(() => run('Multiply', { a: tf.zeros([2, 3]), b: tf.zeros([3, 2]) }), Error);
    });

    it('the backend still works after all of the above', async () => {
      const [y] = await runOn('native', () => tf.matMul(tf.tensor([[1, 2]]), tf.tensor([[3], [4]])));
      assertClose(y.values, [11]);
    });
  },
  'these checks are in the native kernels',
);

describe('batchNormTrain rejects bad arguments (any backend)', () => {
  const x = () => randTensor([2, 3, 4, 5], 1);
  it('gamma of the wrong shape', () => {
    tf.tidy(() => {
      throwsNaming(
        () => batchNormTrain(x(), tf.ones([4]), tf.zeros([5])),
        'batchNormTrain',
        '[2,3,4,5]',
        'gamma',
        '[4]',
      );
      throwsNaming(() => batchNormTrain(x(), tf.ones([1, 5]), tf.zeros([5])), 'batchNormTrain', 'gamma', '[1,5]');
    });
  });
  it('beta of the wrong shape', () => {
    tf.tidy(() => {
      throwsNaming(() => batchNormTrain(x(), tf.ones([5]), tf.zeros([6])), 'batchNormTrain', 'beta', '[6]');
    });
  });
  it('x of rank 1 or not float32', () => {
    tf.tidy(() => {
      throwsNaming(() => batchNormTrain(tf.zeros([5]), tf.ones([5]), tf.zeros([5])), 'batchNormTrain', '[5]', 'rank');
      throwsNaming(
        () => batchNormTrain(tf.zeros([2, 5], 'int32'), tf.ones([5]), tf.zeros([5])),
        'batchNormTrain',
        'float32',
      );
    });
  });
  it('epsilon that is not > 0', () => {
    tf.tidy(() => {
      for (const eps of [0, -1e-5, Number.NaN]) {
        throwsNaming(() => batchNormTrain(x(), tf.ones([5]), tf.zeros([5]), eps), 'batchNormTrain', 'epsilon');
      }
    });
  });
  it('arguments that are not tensors', () => {
    tf.tidy(() => {
      const bad = [1, 1, 1, 1, 1] as unknown as tf.Tensor;
      throwsNaming(() => batchNormTrain(x(), bad, tf.zeros([5])), 'batchNormTrain', 'gamma');
    });
  });
  it('does not leak tensors when it throws', () => {
    const gamma = tf.ones([4]);
    const beta = tf.zeros([5]);
    const xt = x();
    const before = tf.memory().numTensors;
    assert.throws(() => batchNormTrain(xt, gamma, beta));
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([gamma, beta, xt]);
  });
});

type Loose = Record<string, (...args: unknown[]) => unknown>;

describeNative(
  'the raw addon throws JS errors on short buffers and wrong types',
  () => {
    const load = loadAddon();
    const addon = load.addon as unknown as Loose;
    const f = (n: number) => new Float32Array(n);
    const ints = (...v: number[]) => Int32Array.from(v);
    // 1x5x5x1 → 3x3 'same' → 1x5x5x1
    const convGeom = {
      ...{ batch: 1, inHeight: 5, inWidth: 5, inChannels: 1, outChannels: 1, filterHeight: 3, filterWidth: 3 },
      ...{ outHeight: 5, outWidth: 5, strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1 },
      ...{ padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 },
    };
    // 1x4x4x1, 2x2 window, stride 2
    const poolGeom = {
      ...{ batch: 1, inHeight: 4, inWidth: 4, channels: 1, outHeight: 2, outWidth: 2 },
      ...{ filterHeight: 2, filterWidth: 2, strideHeight: 2, strideWidth: 2, padTop: 0, padLeft: 0 },
    };

    function rejects(name: string, args: unknown[], kind: ErrorConstructor = Error, pattern?: RegExp): void {
      assert.throws(
        () => addon[name](...args),
        (err: unknown) => {
          assert.ok(err instanceof kind, `${name}: expected ${kind.name}, got ${String(err)}`);
          if (pattern) assert.match((err as Error).message, pattern);
          return true;
        },
      );
    }

    it('convForward / convBackwardData / convBackwardWeights', () => {
      addon.convForward(f(25), f(9), f(25), convGeom); // valid call works
      rejects('convForward', [f(24), f(9), f(25), convGeom], RangeError, /x has 24 elements, needs 25/);
      rejects('convForward', [f(25), f(8), f(25), convGeom], RangeError, /filter/);
      rejects('convForward', [f(25), f(9), f(24), convGeom], RangeError, /y/);
      rejects('convForward', [Array.from(f(25)), f(9), f(25), convGeom], TypeError, /Float32Array/);
      rejects('convForward', [new Float64Array(25), f(9), f(25), convGeom], TypeError, /Float32Array/);
      rejects(
        'convForward',
        [f(25), f(9), f(25), ints(1, 5, 5)],
        TypeError,
        /geometry must be an object with named fields/,
      );
      rejects('convForward', [f(25), f(9), f(25), { ...convGeom, batch: undefined }], TypeError, /conv geometry.batch/);
      rejects('convForward', [f(25), f(9), f(25), { ...convGeom, padRight: 1.5 }], TypeError, /padRight/);
      rejects('convForward', [f(25), f(9), f(25), { ...convGeom, strideWidth: 0 }], Error, /strides/);
      rejects('convForward', [], TypeError);
      // Inconsistent geometry (output 9x9 from a 5x5 input): oneDNN refuses, as a JS error naming the op.
      rejects('convForward', [f(100), f(100), f(100), { ...convGeom, outHeight: 9, outWidth: 9 }], Error, /Conv2D/);
      rejects('convBackwardData', [f(25), f(9), f(20), convGeom], RangeError, /dx/);
      rejects('convBackwardWeights', [f(25), f(25), f(8), convGeom], RangeError, /dw/);
      rejects('convBackwardWeights', [f(25), 'dy', f(9), convGeom], TypeError);
    });

    it('batchMatMul', () => {
      // batchA, batchB, batch, m, n, k, transposeA, transposeB
      const geom = ints(1, 1, 1, 2, 3, 4, 0, 0);
      addon.batchMatMul(f(8), f(12), f(6), geom);
      rejects('batchMatMul', [f(7), f(12), f(6), geom], RangeError, /a/);
      rejects('batchMatMul', [f(8), f(11), f(6), geom], RangeError, /b/);
      rejects('batchMatMul', [f(8), f(12), f(5), geom], RangeError, /c/);
      rejects('batchMatMul', [f(8), f(12), f(6), ints(1, 1, 1)], TypeError, /geometry/);
      rejects('batchMatMul', [f(8), null, f(6), geom], TypeError);
    });

    it('bnTrainForward / bnBackward / bnInference', () => {
      // [N, S, C] = 2 x 3 x 2
      const geom = ints(2, 3, 2);
      addon.bnTrainForward(f(12), f(2).fill(1), f(2), f(12), f(2), f(2), geom, 1e-5);
      rejects('bnTrainForward', [f(11), f(2), f(2), f(12), f(2), f(2), geom, 1e-5], RangeError, /x/);
      rejects('bnTrainForward', [f(12), f(1), f(2), f(12), f(2), f(2), geom, 1e-5], RangeError, /gamma/);
      rejects('bnTrainForward', [f(12), f(2), f(2), f(12), f(2), f(2), geom], TypeError, /epsilon/);
      rejects('bnTrainForward', [f(12), f(2), f(2), f(12), f(2), f(2), geom, '1e-5'], TypeError, /epsilon/);
      const bwd = (dx: number) => [f(12), f(12), f(2), f(2).fill(1), f(2).fill(1), f(2), f(dx), f(2), f(2), geom, 1e-5];
      addon.bnBackward(...bwd(12));
      rejects('bnBackward', bwd(11), RangeError, /dx/);
      // bnInference: x, mean, variance, scale | null, offset | null, y, [rows, C], eps
      addon.bnInference(f(12), f(2), f(2).fill(1), null, null, f(12), ints(6, 2), 1e-3);
      rejects('bnInference', [f(12), f(2), f(2), undefined, null, f(12), ints(6, 2), 1e-3], TypeError, /scale/);
      rejects('bnInference', [f(12), f(2), f(2), null, null, f(11), ints(6, 2), 1e-3], RangeError, /y/);
    });

    it('maxPool / avgPool forward and backward', () => {
      addon.maxPoolForward(f(16), f(4), poolGeom);
      rejects('maxPoolForward', [f(15), f(4), poolGeom], RangeError, /x/);
      rejects('maxPoolForward', [f(16), f(3), poolGeom], RangeError, /y/);
      rejects('maxPoolBackward', [f(16), f(3), f(16), poolGeom], RangeError, /dy/);
      rejects('maxPoolBackward', [f(16), f(4), f(15), poolGeom], RangeError, /dx/);
      rejects(
        'avgPoolForward',
        [f(16), f(4), ints(1, 4, 4)],
        TypeError,
        /geometry must be an object with named fields/,
      );
      rejects('avgPoolForward', [f(16), f(4), { ...poolGeom, padTop: -1 }], Error, /paddings/);
      rejects('avgPoolBackward', [f(4), f(15), poolGeom], RangeError, /dx/);
      rejects('avgPoolBackward', [f(4), 'dx', poolGeom], TypeError);
    });

    it('binary / relu / reluGrad / step / reduceSum', () => {
      rejects('binary', [f(4), f(4), f(4), ints(0)], Error);
      rejects('binary', ['a', f(4), f(4), ints(0, 1, 4, 1, 1)], TypeError);
      addon.relu(f(4), f(4), 4);
      rejects('relu', [f(4), f(4), 5], RangeError, /x has 4 elements, needs 5/);
      rejects('relu', [f(4), f(3), 4], RangeError, /y/);
      rejects('relu', [f(4), f(4), -1], RangeError);
      rejects('relu', [f(4), f(4), '4'], TypeError, /n/);
      rejects('reluGrad', [f(4), f(3), f(4), 4], RangeError, /x/);
      rejects('step', [f(4), f(4), 4], TypeError, /alpha/);
      rejects('step', [f(4), f(2), 4, 0], RangeError, /y/);
      addon.reduceSum(f(12), f(4), ints(1, 3, 4), false);
      rejects('reduceSum', [f(12), f(4), ints(1, 3, 4), 1], TypeError, /mean/);
      rejects('reduceSum', [f(11), f(4), ints(1, 3, 4), false], RangeError, /x/);
      rejects('reduceSum', [f(12), f(3), ints(1, 3, 4), false], RangeError, /y/);
    });

    it('setThreads with a non-number', () => {
      rejects('setThreads', ['two'], TypeError, /threads/);
    });

    it('the addon and the backend still work afterwards', async () => {
      const x = Float32Array.from([-1, 2, -3, 4]);
      const y = f(4);
      addon.relu(x, y, 4);
      assert.deepEqual(Array.from(y), [0, 2, 0, 4]);
      const [out] = await runOn('native', () => tf.relu(tf.tensor([-1, 2])));
      assertClose(out.values, [0, 2]);
    });

    it('batchMatMul with a zero batch count throws instead of crashing (checked in a child process)', () => {
      const script = `
        const addon = require(${JSON.stringify(load.addon ? (load as { path: string }).path : '')});
        const g = Int32Array.from([0, 1, 1, 2, 2, 2, 0, 0]);
        try { addon.batchMatMul(new Float32Array(0), new Float32Array(4), new Float32Array(4), g); console.log('returned'); }
        catch (e) { console.log('threw ' + e.message); }
      `;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.signal, null, `the child process was killed by ${r.signal}`);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^threw /);
    });
  },
  'needs the built addon',
);
