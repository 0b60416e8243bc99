/**
 * MaxPool, AvgPool and their gradients on the native backend. Forward and MaxPoolGrad are
 * compared with tfjs's JS kernels. AvgPoolGrad: tfjs's JS kernel divides by the full window
 * area even where its own forward excludes padding, so with 'same' padding the native gradient
 * (the exact gradient of the forward) is checked against float64 finite differences instead.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { avgPool } from '../../src/ops/avg_pool.js';
import * as tf from '../../src/tf.js';
import {
  assertClose,
  compareOnBackends,
  describeNative,
  FAST,
  gradsOf,
  numericGradient,
  randArray,
  randTensor,
  runOn,
  setup,
  sizeOf,
} from '../helpers.js';
import { convGeometry, poolRef, type Shape4 } from '../reference.js';

interface PoolCase {
  x: Shape4;
  window: [number, number];
  strides: [number, number];
  pad: 'same' | 'valid';
  fast?: boolean;
}

const cases: PoolCase[] = [
  { x: [1, 5, 5, 3], window: [2, 2], strides: [2, 2], pad: 'same', fast: true },
  { x: [2, 7, 6, 4], window: [3, 3], strides: [2, 2], pad: 'same', fast: true },
  { x: [1, 9, 7, 2], window: [3, 3], strides: [1, 1], pad: 'same' },
  { x: [2, 6, 6, 5], window: [2, 2], strides: [1, 1], pad: 'same' },
  { x: [1, 7, 7, 3], window: [2, 2], strides: [2, 2], pad: 'valid', fast: true },
  { x: [3, 8, 5, 2], window: [3, 3], strides: [2, 2], pad: 'valid' },
  { x: [1, 5, 9, 4], window: [3, 3], strides: [1, 1], pad: 'valid', fast: true },
  { x: [2, 6, 7, 3], window: [2, 3], strides: [1, 2], pad: 'same' },
  { x: [1, 11, 13, 16], window: [3, 2], strides: [2, 1], pad: 'valid' },
  { x: [1, 4, 4, 70], window: [2, 2], strides: [2, 2], pad: 'same' },
];

const list = FAST ? cases.filter((c) => c.fast) : cases;

function name(c: PoolCase): string {
  return `x [${c.x}] window ${c.window.join('x')} strides [${c.strides}] ${c.pad}`;
}

function outShape(c: PoolCase): Shape4 {
  const g = convGeometry(c.x, c.window[0], c.window[1], c.strides, c.pad);
  return [c.x[0], g.outH, g.outW, c.x[3]];
}

before(async () => {
  await setup();
});

describeNative('MaxPool and AvgPool forward', () => {
  for (const [i, c] of list.entries()) {
    it(`maxPool ${name(c)}`, async () => {
      await compareOnBackends(() => tf.maxPool(randTensor(c.x, 10 + i) as tf.Tensor4D, c.window, c.strides, c.pad));
    });
    it(`avgPool ${name(c)}`, async () => {
      await compareOnBackends(() => tf.avgPool(randTensor(c.x, 20 + i) as tf.Tensor4D, c.window, c.strides, c.pad));
    });
  }

  it('numeric padding with dimRoundingMode floor/round/ceil (forward and gradient)', async () => {
    for (const mode of ['floor', 'round', 'ceil'] as const) {
      const x = () => randTensor([1, 6, 7, 3], 32) as tf.Tensor4D;
      await compareOnBackends(() => tf.maxPool(x(), 3, 2, 1, mode), { label: `maxPool ${mode}` });
      await compareOnBackends(() => tf.avgPool(x(), 3, 2, 1, mode), { label: `avgPool ${mode}` });
    }
    // tfjs's MaxPool gradient drops dimRoundingMode, so only 'floor' (the default) is differentiable. (AvgPool's
    // padded gradient differs from tfjs's by design, see the file comment.)
    await compareOnBackends(() =>
      gradsOf((v) => tf.maxPool(v as tf.Tensor4D, 3, 2, 1, 'floor'), [randTensor([1, 6, 7, 3], 33)]),
    );
  });

  it("maxPool with 'same' padding on all-negative input ignores the padding", async () => {
    for (const c of [cases[0], cases[1], cases[7]]) {
      await compareOnBackends(() => tf.maxPool(randTensor(c.x, 30, -5, -1) as tf.Tensor4D, c.window, c.strides, c.pad));
    }
  });

  it("avgPool with 'same' padding divides by the in-image pixels (float64 reference)", async () => {
    for (const c of list.filter((p) => p.pad === 'same')) {
      const xv = randArray(sizeOf(c.x), 31);
      const g = convGeometry(c.x, c.window[0], c.window[1], c.strides, c.pad);
      const ref = poolRef('avg', xv, c.x, c.window, c.strides, g);
      const [got] = await runOn('native', () =>
        tf.avgPool(tf.tensor(xv, c.x) as tf.Tensor4D, c.window, c.strides, c.pad),
      );
      assertClose(got.values, ref.y, { label: name(c) });
    }
  });
});

describeNative('MaxPoolGrad via tf.grads', () => {
  for (const [i, c] of list.entries()) {
    it(name(c), async () => {
      await compareOnBackends(() =>
        gradsOf(
          (x) => tf.maxPool(x as tf.Tensor4D, c.window, c.strides, c.pad),
          [randTensor(c.x, 40 + i)],
          randTensor(outShape(c), 50 + i),
        ),
      );
    });
  }
});

describeNative('AvgPoolGrad via tf.grads', () => {
  for (const [i, c] of list.filter((p) => p.pad === 'valid').entries()) {
    it(`${name(c)} (against tfjs)`, async () => {
      await compareOnBackends(() =>
        gradsOf(
          (x) => tf.avgPool(x as tf.Tensor4D, c.window, c.strides, c.pad),
          [randTensor(c.x, 60 + i)],
          randTensor(outShape(c), 70 + i),
        ),
      );
    });
  }
  for (const [i, c] of list.filter((p) => p.pad === 'same').entries()) {
    it(`${name(c)} (against float64 finite differences of the forward)`, () =>
      sameGradAgainstReference(c, i, 'native'));
  }
});

// tfjs's own cpu AvgPoolGrad divides windows cut by the padding by the full area; sasa's avgPool op
// (ops/avg_pool.ts) rescales dy there, so its gradient is exact on tfjs's JS backend too, while
// tfjs's avgPool keeps tfjs's own gradient (importing sasa changes no tfjs gradient).
describe("sasa's avgPool gradient on tfjs's JS backend", () => {
  before(setup);
  for (const [i, c] of list.filter((p) => p.pad === 'same').entries()) {
    it(`${name(c)} (against float64 finite differences of the forward)`, () => sameGradAgainstReference(c, i, 'cpu'));
  }
  it("leaves tf.avgPool's gradient as tfjs has it (full-area division at cut windows)", async () => {
    const [own] = await runOn('cpu', () =>
      gradsOf((x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'same'), [tf.ones([1, 3, 3, 1])], tf.ones([1, 2, 2, 1])),
    );
    const [exact] = await runOn('cpu', () =>
      gradsOf((x) => avgPool(x as tf.Tensor4D, 2, 2, 'same'), [tf.ones([1, 3, 3, 1])], tf.ones([1, 2, 2, 1])),
    );
    // the corner pixel (2, 2) is the only one in its window: exact 1, tfjs 1/4
    assert.equal(exact.values[8], 1);
    assert.equal(own.values[8], 0.25);
  });
});

/** tf.grads of sasa's avgPool with 'same' padding on `backend` against float64 central differences. */
async function sameGradAgainstReference(c: (typeof list)[number], i: number, backend: string): Promise<void> {
  const xv = randArray(sizeOf(c.x), 80 + i);
  const dyv = randArray(sizeOf(outShape(c)), 90 + i);
  const g = convGeometry(c.x, c.window[0], c.window[1], c.strides, c.pad);
  // loss(x) = sum(avgPool(x) · dy) is linear in x, so central differences are exact up to rounding.
  const loss = (x: Float64Array) => {
    const { y } = poolRef('avg', x, c.x, c.window, c.strides, g);
    let s = 0;
    for (let j = 0; j < y.length; j++) s += y[j] * dyv[j];
    return s;
  };
  const expected = numericGradient(loss, xv, 0.5);
  const [got] = await runOn(backend, () =>
    gradsOf(
      (x) => avgPool(x as tf.Tensor4D, c.window, c.strides, c.pad),
      [tf.tensor(xv, c.x)],
      tf.tensor(dyv, outShape(c)),
    ),
  );
  assertClose(got.values, expected, { label: `${name(c)} on ${backend}` });
}
