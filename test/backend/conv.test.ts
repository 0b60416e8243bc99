/**
 * Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter and FusedConv2D on the native backend
 * against tfjs's own JS kernels (odd sizes, batch 1, strides 1 and 2, 'same', 'valid' and
 * explicit padding, dilation 2 forward), and gradients through tf.grads.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { loadAddon } from '../../src/backend/addon.js';
import { NATIVE_BACKEND } from '../../src/backend/native.js';
import * as tf from '../../src/tf.js';
import {
  assertClose,
  compareOnBackends,
  describeNative,
  FAST,
  gradsOf,
  randArray,
  randInt,
  randTensor,
  rng,
  runOn,
  setup,
  useBackend,
} from '../helpers.js';
import { convGeometry, type Shape4 } from '../reference.js';

type Explicit = [[number, number], [number, number], [number, number], [number, number]];
type Pad = 'same' | 'valid' | Explicit;

interface ConvCase {
  x: Shape4;
  /** [kh, kw, out channels] */
  k: [number, number, number];
  strides: [number, number];
  pad: Pad;
  dilation?: number;
  fast?: boolean;
}

function explicit(t: number, b: number, l: number, r: number): Explicit {
  return [
    [0, 0],
    [t, b],
    [l, r],
    [0, 0],
  ];
}

function describeCase(c: ConvCase): string {
  const pad = typeof c.pad === 'string' ? c.pad : `explicit${JSON.stringify(c.pad.slice(1, 3))}`;
  const d = c.dilation && c.dilation > 1 ? ` dilation ${c.dilation}` : '';
  return `x [${c.x}] k ${c.k[0]}x${c.k[1]}→${c.k[2]} strides [${c.strides}] ${pad}${d}`;
}

const fixed: ConvCase[] = [
  { x: [1, 5, 5, 3], k: [3, 3, 4], strides: [1, 1], pad: 'same', fast: true },
  { x: [2, 7, 6, 2], k: [3, 3, 5], strides: [2, 2], pad: 'same', fast: true },
  { x: [1, 9, 7, 3], k: [2, 3, 3], strides: [2, 2], pad: 'valid', fast: true },
  { x: [3, 6, 6, 1], k: [1, 1, 2], strides: [1, 1], pad: 'valid' },
  { x: [2, 8, 9, 4], k: [3, 3, 6], strides: [1, 1], pad: explicit(1, 2, 0, 1), fast: true },
  { x: [1, 11, 10, 3], k: [3, 3, 4], strides: [2, 2], pad: explicit(2, 0, 1, 1) },
  { x: [1, 7, 9, 2], k: [3, 2, 3], strides: [1, 2], pad: 'same' },
  { x: [2, 13, 5, 16], k: [3, 3, 8], strides: [2, 1], pad: 'valid' },
  { x: [1, 6, 6, 8], k: [5, 5, 2], strides: [1, 1], pad: 'same' },
];

/** A few seeded random geometries on top of the fixed ones. */
function randomCases(seed: number, count: number): ConvCase[] {
  const r = rng(seed);
  const out: ConvCase[] = [];
  for (let i = 0; i < count; i++) {
    const kh = randInt(r, 1, 3);
    const kw = randInt(r, 1, 3);
    const mode = randInt(r, 0, 2);
    const pad: Pad =
      mode === 0
        ? 'same'
        : mode === 1
          ? 'valid'
          : explicit(randInt(r, 0, 2), randInt(r, 0, 2), randInt(r, 0, 2), randInt(r, 0, 2));
    out.push({
      x: [randInt(r, 1, 3), randInt(r, 5, 11), randInt(r, 5, 11), randInt(r, 1, 6)],
      k: [kh, kw, randInt(r, 1, 6)],
      strides: [randInt(r, 1, 2), randInt(r, 1, 2)],
      pad,
    });
  }
  return out;
}

const cases = FAST ? fixed.filter((c) => c.fast) : [...fixed, ...randomCases(20240611, 4)];

const dilated: ConvCase[] = [
  { x: [1, 9, 9, 2], k: [3, 3, 3], strides: [1, 1], pad: 'same', dilation: 2, fast: true },
  { x: [2, 10, 11, 3], k: [3, 2, 4], strides: [1, 1], pad: 'valid', dilation: 2 },
  { x: [1, 8, 8, 2], k: [2, 2, 2], strides: [1, 1], pad: explicit(1, 1, 2, 0), dilation: 2 },
];

function filterShape(c: ConvCase): Shape4 {
  return [c.k[0], c.k[1], c.x[3], c.k[2]];
}

function outShape(c: ConvCase): Shape4 {
  const g = convGeometry(c.x, c.k[0], c.k[1], c.strides, c.pad);
  return [c.x[0], g.outH, g.outW, c.k[2]];
}

function inputs(c: ConvCase, seed: number): { x: tf.Tensor4D; w: tf.Tensor4D } {
  const x = randTensor(c.x, seed) as tf.Tensor4D;
  const w = randTensor(filterShape(c), seed + 1, -0.5, 0.5) as tf.Tensor4D;
  return { x, w };
}

before(async () => {
  await setup();
});

describeNative('Conv2D forward', () => {
  for (const [i, c] of cases.entries()) {
    it(describeCase(c), async () => {
      await compareOnBackends(() => {
        const { x, w } = inputs(c, 100 + i);
        return tf.conv2d(x, w, c.strides, c.pad, 'NHWC');
      });
    });
  }
  for (const [i, c] of (FAST ? dilated.filter((d) => d.fast) : dilated).entries()) {
    it(describeCase(c), async () => {
      await compareOnBackends(() => {
        const { x, w } = inputs(c, 200 + i);
        return tf.conv2d(x, w, c.strides, c.pad, 'NHWC', c.dilation);
      });
    });
  }
  it('repeated and interleaved shapes reuse cached primitives correctly', async () => {
    const [a, b] = [cases[0], cases[1]];
    for (const c of [a, b, a, b]) {
      await compareOnBackends(() => {
        const { x, w } = inputs(c, 300);
        return tf.conv2d(x, w, c.strides, c.pad);
      });
    }
  });
  const numericPad = (mode: 'floor' | 'round' | 'ceil', h: number, w: number) => () =>
    tf.conv2d(
      randTensor([1, h, w, 2], 303) as tf.Tensor4D,
      randTensor([3, 3, 2, 3], 304) as tf.Tensor4D,
      2,
      1,
      'NHWC',
      1,
      mode,
    );
  it("numeric padding with dimRoundingMode 'floor'", async () => {
    await compareOnBackends(numericPad('floor', 6, 7));
  });
  for (const mode of ['round', 'ceil'] as const) {
    it(`numeric padding with dimRoundingMode '${mode}' rounding the output size up`, async () => {
      await compareOnBackends(numericPad(mode, 6, 6));
    });
  }
  it('a Float32Array reused for successive input tensors gives fresh results', async () => {
    // tf.tensor(typedArray) does not copy on the cpu-derived backends, so a data loader that refills one
    // buffer per batch hands the kernel the same Float32Array with new contents.
    const shape: Shape4 = [1, 8, 8, 16];
    const wv = randArray(3 * 3 * 16 * 16, 308, -0.2, 0.2);
    const buf = new Float32Array(8 * 8 * 16);
    for (const seed of [309, 310]) {
      buf.set(randArray(buf.length, seed));
      const fresh = Float32Array.from(buf);
      const [ref] = await runOn('cpu', () =>
        tf.conv2d(tf.tensor(fresh, shape) as tf.Tensor4D, tf.tensor(wv, [3, 3, 16, 16]) as tf.Tensor4D, 1, 'same'),
      );
      const [got] = await runOn('native', () =>
        tf.conv2d(tf.tensor(buf, shape) as tf.Tensor4D, tf.tensor(wv, [3, 3, 16, 16]) as tf.Tensor4D, 1, 'same'),
      );
      assertClose(got.values, ref.values, { label: `batch ${seed}` });
    }
  });
  it('raw addon: convForward re-reads x after the caller changes it in place', () => {
    const addon = loadAddon().addon;
    assert.ok(addon);
    const geometry = {
      ...{ batch: 1, inHeight: 8, inWidth: 8, inChannels: 16, outChannels: 16, filterHeight: 3, filterWidth: 3 },
      ...{ outHeight: 8, outWidth: 8, strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1 },
      ...{ padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 },
    };
    const x = new Float32Array(8 * 8 * 16).fill(1);
    const w = new Float32Array(3 * 3 * 16 * 16).fill(1);
    const y1 = new Float32Array(8 * 8 * 16);
    const y2 = new Float32Array(8 * 8 * 16);
    addon.convForward(x, w, y1, geometry);
    x.fill(2);
    addon.convForward(x, w, y2, geometry);
    assertClose(
      y2,
      Float32Array.from(y1, (v) => 2 * v),
      { label: 'y after x doubled' },
    );
  });
  it('a filter used again keeps its reorder until its tensor is freed, and a new filter value is read afresh', async () => {
    // Inference reuses one weight tensor call after call: the addon keeps its reorder from the second call on
    // (convForgetFilter(0) forgets nothing and reports how many filters it keeps). Training assigns new values.
    const addon = loadAddon().addon;
    assert.ok(addon);
    const x = randTensor([1, 8, 8, 16], 311) as tf.Tensor4D;
    const values = [randArray(3 * 3 * 16 * 16, 312, -0.2, 0.2), randArray(3 * 3 * 16 * 16, 313, -0.2, 0.2)];
    const [ref0, ref1] = await Promise.all(
      values.map(async (v) => (await runOn('cpu', () => tf.conv2d(x, tf.tensor4d(v, [3, 3, 16, 16]), 1, 'same')))[0]),
    );
    await useBackend(NATIVE_BACKEND);
    const before = addon.convForgetFilter(0);
    const [w0, w1] = values.map((v) => tf.tensor4d(v, [3, 3, 16, 16]));
    const w = tf.variable(w0);
    w0.dispose();
    const conv = () => tf.tidy(() => tf.conv2d(x, w as tf.Tensor4D, 1, 'same').dataSync());
    for (const call of [1, 2, 3]) assertClose(conv(), ref0.values, { label: `call ${call}` });
    assert.equal(addon.convForgetFilter(0), before + 1, 'the reused filter is kept');
    w.assign(w1);
    w1.dispose();
    assert.equal(addon.convForgetFilter(0), before, 'the old value is forgotten when assign frees it');
    for (const call of [1, 2]) assertClose(conv(), ref1.values, { label: `after assign, call ${call}` });
    w.dispose();
    assert.equal(addon.convForgetFilter(0), before, 'the filter is forgotten when its tensor is freed');
    x.dispose();
  });
  it('NCHW data format (falls back to the JS kernel)', async () => {
    await compareOnBackends(() => {
      const x = randTensor([1, 3, 6, 5], 301) as tf.Tensor4D;
      const w = randTensor([3, 3, 3, 2], 302) as tf.Tensor4D;
      return tf.conv2d(x, w, 1, 'same', 'NCHW');
    });
  });
});

describeNative('Conv2D gradients via tf.grads (Conv2DBackpropInput + Conv2DBackpropFilter)', () => {
  const gradCases = FAST ? cases.filter((c) => c.fast).slice(0, 3) : cases;
  for (const [i, c] of gradCases.entries()) {
    it(describeCase(c), async () => {
      await compareOnBackends(() => {
        const { x, w } = inputs(c, 400 + i);
        const dy = randTensor(outShape(c), 500 + i);
        return gradsOf((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), [x, w], dy);
      });
    });
  }
});

describeNative('Conv2DBackpropInput directly (tf.conv2dTranspose)', () => {
  const list = FAST ? cases.filter((c) => c.fast).slice(0, 2) : cases;
  for (const [i, c] of list.entries()) {
    it(describeCase(c), async () => {
      await compareOnBackends(() => {
        const dy = randTensor(outShape(c), 600 + i) as tf.Tensor4D;
        const w = randTensor(filterShape(c), 601 + i) as tf.Tensor4D;
        return tf.conv2dTranspose(dy, w, c.x, c.strides, c.pad);
      });
    });
  }
});

describeNative('Conv2DBackpropFilter directly (runKernel)', () => {
  const list = FAST ? cases.filter((c) => c.fast).slice(0, 2) : cases;
  for (const [i, c] of list.entries()) {
    it(describeCase(c), async () => {
      await compareOnBackends(
        () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              { x: randTensor(c.x, 700 + i), dy: randTensor(outShape(c), 701 + i) },
              { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: filterShape(c) },
            ) as tf.Tensor,
      );
    });
  }
});

describeNative('FusedConv2D (tf.fused.conv2d)', () => {
  const base = cases.filter((c) => c.fast);
  const configs: { activation: 'relu' | 'linear' | 'elu'; bias: boolean; fallback?: boolean }[] = [
    { activation: 'relu', bias: true },
    { activation: 'linear', bias: true },
    { activation: 'relu', bias: false },
    { activation: 'linear', bias: false },
    { activation: 'elu', bias: true, fallback: true },
  ];
  for (const cfg of FAST ? configs.slice(0, 2) : configs) {
    for (const [i, c] of (FAST ? base.slice(0, 2) : base).entries()) {
      const name = `${cfg.activation}${cfg.bias ? ' + bias' : ''}${cfg.fallback ? ' (JS fallback)' : ''}: ${describeCase(c)}`;
      const run = (x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor) =>
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          strides: c.strides,
          pad: c.pad,
          bias: b,
          activation: cfg.activation,
        });
      it(`forward ${name}`, async () => {
        await compareOnBackends(() => {
          const { x, w } = inputs(c, 800 + i);
          return run(x, w, cfg.bias ? randTensor([c.k[2]], 801 + i) : undefined);
        });
      });
      it(`gradients ${name}`, async () => {
        await compareOnBackends(() => {
          const { x, w } = inputs(c, 900 + i);
          const dy = randTensor(outShape(c), 901 + i);
          if (!cfg.bias) return gradsOf((a, b) => run(a, b), [x, w], dy);
          return gradsOf((a, b, bias) => run(a, b, bias), [x, w, randTensor([c.k[2]], 902 + i)], dy);
        });
      });
    }
  }
  it('dilation 2 with bias and relu', async () => {
    const c = dilated[0];
    await compareOnBackends(() => {
      const { x, w } = inputs(c, 950);
      return tf.fused.conv2d({
        x,
        filter: w,
        strides: 1,
        pad: c.pad,
        dilations: 2,
        bias: randTensor([c.k[2]], 951),
        activation: 'relu',
      });
    });
  });
  it('bias of shape [1] broadcasts over the output channels', async () => {
    await compareOnBackends(() => {
      const c = cases[0];
      const { x, w } = inputs(c, 960);
      return tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', bias: tf.tensor1d([0.25]), activation: 'relu' });
    });
  });
});
