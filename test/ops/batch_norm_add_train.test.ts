/**
 * batchNormAddTrain(x, residual, gamma, beta, eps, relu): y = relu?(BN(x) + residual) in training, against
 * the unfused composition (batchNormTrain, tf.add, tf.relu) — values, statistics and the gradients w.r.t.
 * x, residual, gamma, beta (also through the batch statistics) — and against float64 finite differences.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { batchNormAddTrain, batchNormTrain } from '../../src/ops/batch_norm_train.js';
import { valueAndGrads } from '../../src/ops/value_and_grads.js';
import * as tf from '../../src/tf.js';
import {
  assertClose,
  defaultBackend,
  gradsOf,
  numericGradient,
  randArray,
  runOn,
  setup,
  sizeOf,
  useBackend,
} from '../helpers.js';
import { batchNormTrainRef } from '../reference.js';

const EPS = 1e-5;
/** The active backend (native where the addon loads), set before the tests run. */
let defaultBackendName = 'cpu';

/** x with a per-channel offset, a residual, gamma (some negative), beta, and loss weights for y, mean, variance. */
function data(shape: number[], seed: number) {
  const c = shape[shape.length - 1];
  const x = randArray(sizeOf(shape), seed, -2, 2);
  for (let i = 0; i < x.length; i++) x[i] += (i % c) * 0.3;
  const gamma = Array.from(randArray(c, seed + 2, 0.5, 1.5), (g, j) => (j % 3 === 2 ? -g : g));
  return {
    c,
    x,
    residual: randArray(sizeOf(shape), seed + 1),
    gamma,
    beta: randArray(c, seed + 3),
    wy: randArray(sizeOf(shape), seed + 4),
    wm: randArray(c, seed + 5),
    wv: randArray(c, seed + 6),
  };
}

type Data = ReturnType<typeof data>;
type Op = (
  x: tf.Tensor,
  r: tf.Tensor,
  g: tf.Tensor,
  b: tf.Tensor,
) => { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor };

const fused =
  (relu: boolean): Op =>
  (x, r, g, b) =>
    batchNormAddTrain(x, r, g, b, EPS, relu);

const composed =
  (relu: boolean): Op =>
  (x, r, g, b) => {
    const { y, mean, variance } = batchNormTrain(x, g, b, EPS);
    const sum = tf.add(y, r);
    return { y: relu ? tf.relu(sum) : sum, mean, variance };
  };

/** sum(y·wy) + sum(mean·wm) + sum(variance·wv): a loss that reaches every output. */
function loss(op: Op, d: Data, shape: number[]) {
  return (x: tf.Tensor, r: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar => {
    const { y, mean, variance } = op(x, r, g, b);
    return tf.addN([
      tf.sum(tf.mul(y, tf.tensor(d.wy, shape))),
      tf.sum(tf.mul(mean, tf.tensor(d.wm))),
      tf.sum(tf.mul(variance, tf.tensor(d.wv))),
    ]) as tf.Scalar;
  };
}

function inputs(d: Data, shape: number[]): tf.Tensor[] {
  return [tf.tensor(d.x, shape), tf.tensor(d.residual, shape), tf.tensor(d.gamma), tf.tensor(d.beta)];
}

/** The same loss in float64. */
function referenceLoss(d: Data, relu: boolean) {
  return (x: ArrayLike<number>, r: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>): number => {
    const { y, mean, variance } = batchNormTrainRef(x, d.c, g, b, EPS);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += (relu ? Math.max(0, y[i] + r[i]) : y[i] + r[i]) * d.wy[i];
    for (let j = 0; j < d.c; j++) s += mean[j] * d.wm[j] + variance[j] * d.wv[j];
    return s;
  };
}

/** The fused op against the composition on `backend`: outputs and the gradients of every input. */
async function compare(backend: string, relu: boolean, shape: number[], seed: number): Promise<void> {
  const d = data(shape, seed);
  const run = (op: Op) =>
    runOn(backend, () => {
      const xs = inputs(d, shape);
      const { y, mean, variance } = op(xs[0], xs[1], xs[2], xs[3]);
      return [y, mean, variance, ...gradsOf(loss(op, d, shape), xs)];
    });
  const want = await run(composed(relu));
  const got = await run(fused(relu));
  for (const [k, name] of ['y', 'mean', 'variance', 'dx', 'dresidual', 'dgamma', 'dbeta'].entries()) {
    assert.deepEqual(got[k].shape, want[k].shape, `${backend}: ${name}`);
    assertClose(got[k].values, want[k].values, { tol: 1e-5, label: `${backend}: ${name}` });
  }
}

before(async () => {
  await setup();
  defaultBackendName = await defaultBackend();
});

describe('batchNormAddTrain', () => {
  for (const relu of [true, false]) {
    for (const [i, shape] of [
      [2, 3, 4, 5],
      [7, 3],
      [3, 8, 8, 16],
    ].entries()) {
      it(`equals batchNormTrain + add${relu ? ' + relu' : ''}: values and gradients, x [${shape}], cpu and active backend`, async () => {
        for (const backend of new Set(['cpu', defaultBackendName])) await compare(backend, relu, shape, 10 + i);
      });
    }
    it(`gradients match float64 finite differences (relu ${relu})`, async () => {
      const shape = [2, 3, 3, 2];
      const d = data(shape, 30);
      const f = referenceLoss(d, relu);
      const expected = [
        numericGradient((v) => f(v, d.residual, d.gamma, d.beta), d.x),
        numericGradient((v) => f(d.x, v, d.gamma, d.beta), d.residual),
        numericGradient((v) => f(d.x, d.residual, v, d.beta), d.gamma),
        numericGradient((v) => f(d.x, d.residual, d.gamma, v), d.beta),
      ];
      const got = await runOn(defaultBackendName, () => gradsOf(loss(fused(relu), d, shape), inputs(d, shape)));
      for (const [k, name] of ['dx', 'dresidual', 'dgamma', 'dbeta'].entries()) {
        assertClose(got[k].values, expected[k], { tol: 1e-3, label: name });
      }
    });
  }

  it('keeps only x and y for the backward pass (BN(x) and the residual are freed with the forward)', async () => {
    await useBackend(defaultBackendName);
    const shape = [2, 4, 4, 8];
    const d = data(shape, 40);
    const [x, residual, gamma, beta] = inputs(d, shape);
    const before = tf.memory().numTensors;
    const { grads, value } = valueAndGrads(() => {
      const r = tf.mul(residual, 2);
      const { y } = batchNormAddTrain(x, r, gamma, beta);
      const tape = (tf.engine() as unknown as { state: { activeTape: { kernelName: string; saved?: tf.Tensor[] }[] } })
        .state.activeTape;
      const node = tape.find((n) => n.kernelName === 'SasaBatchNormAddTrain');
      assert.ok(node?.saved);
      const savedIds = node.saved.map((t) => t.dataId);
      assert.ok(savedIds.includes(x.dataId) && savedIds.includes(y.dataId), 'x and y are saved');
      assert.ok(!savedIds.includes(r.dataId), 'the residual is not saved');
      assert.equal(node.saved.filter((t) => t.size === x.size).length, 2, 'no other tensor of x size is saved');
      return tf.sum(y) as tf.Scalar;
    }, [x, residual, gamma, beta]);
    tf.dispose([value, ...grads]);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, residual, gamma, beta]);
  });

  it('refuses a residual of another shape or dtype, naming it', () => {
    const x = tf.zeros([2, 3]);
    const g = tf.ones([3]);
    const b = tf.zeros([3]);
    assert.throws(() => batchNormAddTrain(x, tf.zeros([2, 4]), g, b), /residual must be float32 of x's shape \[2,3\]/);
    assert.throws(() => batchNormAddTrain(x, tf.zeros([2, 3], 'int32'), g, b), /residual must be float32/);
  });
});
