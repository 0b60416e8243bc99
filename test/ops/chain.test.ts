/**
 * Gradients of a small training block, conv2d → batchNormTrain → relu → maxPool → weighted sum,
 * w.r.t. the input, filter, gamma and beta: on the active backend against float64 central
 * finite differences of a plain-JS float64 forward, and (native only) against tfjs's cpu backend.
 */
import { before, describe, it } from 'node:test';
import { batchNormTrain } from '../../src/ops/batch_norm_train.js';
import * as tf from '../../src/tf.js';
import {
  assertClose,
  compareOnBackends,
  defaultBackend,
  describeNative,
  FAST,
  gradsOf,
  numericGradient,
  randArray,
  runOn,
  setup,
  sizeOf,
} from '../helpers.js';
import { batchNormTrainRef, conv2dRef, convGeometry, poolRef, reluRef, type Shape4 } from '../reference.js';

type Pad = 'same' | 'valid';

interface Chain {
  name: string;
  x: Shape4;
  w: Shape4;
  convStrides: [number, number];
  convPad: Pad;
  pool: [number, number];
  poolStrides: [number, number];
  poolPad: Pad;
  seed: number;
}

const chains: Chain[] = [
  {
    name: "conv 3x3 s1 'same' → bn → relu → maxPool 2x2 s2 'valid'",
    x: [2, 6, 6, 2],
    w: [3, 3, 2, 3],
    convStrides: [1, 1],
    convPad: 'same',
    pool: [2, 2],
    poolStrides: [2, 2],
    poolPad: 'valid',
    seed: 1,
  },
  {
    name: "conv 3x3 s2 'valid' → bn → relu → maxPool 3x3 s2 'same' (batch 1, odd sizes)",
    x: [1, 11, 9, 3],
    w: [3, 3, 3, 4],
    convStrides: [2, 2],
    convPad: 'valid',
    pool: [3, 3],
    poolStrides: [2, 2],
    poolPad: 'same',
    seed: 2,
  },
];

const EPS = 1e-5;

interface ChainData {
  x: Float32Array;
  w: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  /** Loss weights over the pooled output. */
  r: Float32Array;
  poolOut: Shape4;
}

function chainData(c: Chain): ChainData {
  const conv = convGeometry(c.x, c.w[0], c.w[1], c.convStrides, c.convPad);
  const convOut: Shape4 = [c.x[0], conv.outH, conv.outW, c.w[3]];
  const pool = convGeometry(convOut, c.pool[0], c.pool[1], c.poolStrides, c.poolPad);
  const poolOut: Shape4 = [c.x[0], pool.outH, pool.outW, c.w[3]];
  return {
    x: randArray(sizeOf(c.x), 10 * c.seed),
    w: randArray(sizeOf(c.w), 10 * c.seed + 1, -0.5, 0.5),
    gamma: randArray(c.w[3], 10 * c.seed + 2, 0.5, 1.5),
    beta: randArray(c.w[3], 10 * c.seed + 3, -0.5, 0.5),
    r: randArray(sizeOf(poolOut), 10 * c.seed + 4),
    poolOut,
  };
}

/** The chain's loss on tensors (what a training step differentiates). */
function tensorLoss(c: Chain, d: ChainData) {
  return (x: tf.Tensor, w: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Scalar => {
    const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.convStrides, c.convPad);
    const z = tf.relu(batchNormTrain(y, gamma, beta, EPS).y) as tf.Tensor4D;
    const p = tf.maxPool(z, c.pool, c.poolStrides, c.poolPad);
    return tf.sum(tf.mul(p, tf.tensor(d.r, d.poolOut)));
  };
}

/** The same loss in float64. */
function referenceLoss(c: Chain, d: ChainData) {
  const conv = convGeometry(c.x, c.w[0], c.w[1], c.convStrides, c.convPad);
  return (x: ArrayLike<number>, w: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>): number => {
    const y = conv2dRef(x, c.x, w, c.w, c.convStrides, conv);
    const z = reluRef(batchNormTrainRef(y.y, c.w[3], gamma, beta, EPS).y);
    const pool = convGeometry(y.shape, c.pool[0], c.pool[1], c.poolStrides, c.poolPad);
    const p = poolRef('max', z, y.shape, c.pool, c.poolStrides, pool);
    let s = 0;
    for (let i = 0; i < p.y.length; i++) s += p.y[i] * d.r[i];
    return s;
  };
}

const list = FAST ? chains.slice(0, 1) : chains;

before(async () => {
  await setup();
});

describe('conv → batchNormTrain → relu → maxPool gradients on the active backend', () => {
  for (const c of list) {
    it(`${c.name}: tf.grads against float64 finite differences`, async () => {
      const d = chainData(c);
      const f = referenceLoss(c, d);
      const expected = [
        numericGradient((v) => f(v, d.w, d.gamma, d.beta), d.x, 1e-6),
        numericGradient((v) => f(d.x, v, d.gamma, d.beta), d.w, 1e-6),
        numericGradient((v) => f(d.x, d.w, v, d.beta), d.gamma, 1e-6),
        numericGradient((v) => f(d.x, d.w, d.gamma, v), d.beta, 1e-6),
      ];
      const got = await runOn(await defaultBackend(), () =>
        gradsOf(tensorLoss(c, d), [tf.tensor(d.x, c.x), tf.tensor(d.w, c.w), tf.tensor(d.gamma), tf.tensor(d.beta)]),
      );
      for (const [k, name] of ['dx', 'dfilter', 'dgamma', 'dbeta'].entries()) {
        assertClose(got[k].values, expected[k], { tol: 5e-4, label: name });
      }
      // The loss itself agrees too.
      const [loss] = await runOn(await defaultBackend(), () =>
        tensorLoss(c, d)(tf.tensor(d.x, c.x), tf.tensor(d.w, c.w), tf.tensor(d.gamma), tf.tensor(d.beta)),
      );
      assertClose(loss.values, [f(d.x, d.w, d.gamma, d.beta)], { tol: 1e-4, label: 'loss' });
    });
  }
});

describeNative('conv → batchNormTrain → relu → maxPool gradients: native against tfjs cpu', () => {
  for (const c of list) {
    it(c.name, async () => {
      const d = chainData(c);
      await compareOnBackends(() =>
        gradsOf(tensorLoss(c, d), [tf.tensor(d.x, c.x), tf.tensor(d.w, c.w), tf.tensor(d.gamma), tf.tensor(d.beta)]),
      );
    });
  }
});
