/**
 * localAttention2d beyond the golden values:
 *  1. the float64 TypeScript backward agrees with float64 central finite differences of the
 *     float64 forward, for every logits × padding × scale variant over awkward geometries
 *     (window larger than the image, 1×1 images, odd sizes, heads straddling the relRow/relCol
 *     halves, batch 1 and 2); and the tfjs gradient (active backend, float32) agrees with it;
 *  2. properties of the op on the active backend (k = 1 is the identity, uniform attention, scale,
 *     invariance of the softmax to a shift shared by the whole window);
 *  3. bad arguments throw 'localAttention2d: …' errors naming the argument, and leak nothing;
 *  4. no tensors are left behind by the op or its gradient.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type AttentionInputs,
  localAttentionBackward,
  localAttentionForward,
} from '../../src/ops/local_attention/kernel_ts.js';
import { localAttention2d } from '../../src/ops/local_attention/op.js';
import {
  type AttentionGeometry,
  type LocalAttentionOptions,
  type LogitsMode,
  type PaddingMode,
  resolveGeometry,
} from '../../src/ops/local_attention/options.js';
import * as tf from '../../src/tf.js';
import { assertClose, attentionOf, FAST, numericGradient, randArray, setup, sizeOf } from '../helpers.js';

type Shape4 = [number, number, number, number];
type Scale = number | 'none' | undefined;
type InputName = 'q' | 'k' | 'v' | 'relRow' | 'relCol';
const NAMES: readonly InputName[] = ['q', 'k', 'v', 'relRow', 'relCol'];
const GRAD_NAMES = { q: 'dq', k: 'dk', v: 'dv', relRow: 'dRelRow', relCol: 'dRelCol' } as const;

interface Variant {
  logits: LogitsMode;
  padding: PaddingMode;
  scale: Scale;
}

interface Geometry {
  shape: Shape4;
  kernelSize: number;
  heads: number;
  /** Odd channel counts are only valid without relative logits. */
  qkOnly?: boolean;
  why: string;
}

function optionsOf(v: Variant, geo: Pick<Geometry, 'kernelSize' | 'heads'>): LocalAttentionOptions {
  return {
    kernelSize: geo.kernelSize,
    heads: geo.heads,
    logits: v.logits,
    padding: v.padding,
    ...(v.scale === undefined ? {} : { scale: v.scale }),
  };
}

function used(logits: LogitsMode): InputName[] {
  return NAMES.filter((n) => (n === 'k' ? logits !== 'qr' : n === 'relRow' || n === 'relCol' ? logits !== 'qk' : true));
}

/** Seeded float32-representable inputs (as Float32Array) for one case; null where unused. */
function inputs32(shape: Shape4, kernelSize: number, logits: LogitsMode, seed: number) {
  const n = sizeOf(shape);
  const table = kernelSize * (shape[3] / 2);
  const use = used(logits);
  const pick = (name: InputName, len: number, s: number) => (use.includes(name) ? randArray(len, seed * 16 + s) : null);
  return {
    q: randArray(n, seed * 16 + 1),
    k: pick('k', n, 2),
    v: randArray(n, seed * 16 + 3),
    relRow: pick('relRow', table, 4),
    relCol: pick('relCol', table, 5),
    G: randArray(n, seed * 16 + 6),
  };
}

const to64 = (a: Float32Array | null) => (a ? Float64Array.from(a) : null);

function inputs64(x: ReturnType<typeof inputs32>): AttentionInputs & { G: Float64Array } {
  return {
    q: Float64Array.from(x.q),
    k: to64(x.k),
    v: Float64Array.from(x.v),
    relRow: to64(x.relRow),
    relCol: to64(x.relCol),
    G: Float64Array.from(x.G),
  };
}

function geometryOf(shape: Shape4, logits: LogitsMode, options: LocalAttentionOptions): AttentionGeometry {
  const table = [options.kernelSize, shape[3] / 2];
  return resolveGeometry(
    {
      q: shape,
      k: logits === 'qr' ? null : shape,
      v: shape,
      relRow: logits === 'qk' ? null : table,
      relCol: logits === 'qk' ? null : table,
    },
    options,
  );
}

/** L = Σ G·y in float64. */
function loss(g: AttentionGeometry, x: AttentionInputs, G: Float64Array): number {
  const { y } = localAttentionForward(g, x);
  assert.ok(y instanceof Float64Array, 'float64 inputs must give a float64 output');
  let s = 0;
  for (let i = 0; i < y.length; i++) s += G[i] * y[i];
  return s;
}

/** Analytic float64 gradients of Σ G·y. */
function analytic(g: AttentionGeometry, x: AttentionInputs, G: Float64Array) {
  const { lse } = localAttentionForward(g, x);
  return localAttentionBackward(g, x, G, lse);
}

/** Largest |a - b| and largest |b|. */
function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): { err: number; ref: number } {
  let err = 0;
  let ref = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    ref = Math.max(ref, Math.abs(b[i]));
  }
  return { err, ref };
}

// ---------------------------------------------------------------------------------------------
// 1. Gradients against finite differences

const GEOMETRIES: Geometry[] = [
  { shape: [1, 1, 1, 4], kernelSize: 7, heads: 2, why: '1×1 image, k=7' },
  { shape: [2, 3, 2, 4], kernelSize: 5, heads: 1, why: 'k=5 on 3×2, batch 2, one head' },
  { shape: [1, 5, 3, 6], kernelSize: 3, heads: 3, why: 'odd 5×3, D=2, head 1 straddles the halves' },
  { shape: [2, 4, 4, 12], kernelSize: 3, heads: 3, why: 'C=12, 3 heads, head 1 straddles the halves' },
  { shape: [1, 5, 3, 8], kernelSize: 5, heads: 4, why: 'odd 5×3, heads = C/2' },
  { shape: [2, 2, 3, 2], kernelSize: 1, heads: 1, why: 'k=1' },
  { shape: [1, 6, 5, 4], kernelSize: 3, heads: 2, why: 'interior pixels, heads = C/2' },
  { shape: [1, 3, 3, 4], kernelSize: 7, heads: 4, why: 'k=7 on 3×3, D=1' },
  { shape: [2, 3, 3, 3], kernelSize: 3, heads: 1, qkOnly: true, why: "odd C=3 ('qk' only)" },
];

const VARIANTS: Variant[] = [];
for (const logits of ['qk+qr', 'qr', 'qk'] as const) {
  for (const padding of ['zeros', 'masked'] as const) {
    for (const scale of [undefined, 'none', 0.7] as const) VARIANTS.push({ logits, padding, scale });
  }
}

const variantName = (v: Variant) =>
  `logits '${v.logits}', padding '${v.padding}', scale ${v.scale === undefined ? 'default' : String(v.scale)}`;
const geoName = (g: Geometry) => `[${g.shape.join(',')}] k=${g.kernelSize} heads=${g.heads} (${g.why})`;

const FD_H = 1e-6;
const FD_TOL = 1e-7;

describe('localAttention2d float64 gradients match central finite differences', () => {
  VARIANTS.forEach((variant, vi) => {
    describe(variantName(variant), () => {
      GEOMETRIES.forEach((geo, gi) => {
        if (geo.qkOnly && variant.logits !== 'qk') return;
        // Fast mode: a third of the geometries per variant, rotating so each geometry is still used.
        if (FAST && (gi + vi) % 3 !== 0) return;
        it(geoName(geo), () => {
          const options = optionsOf(variant, geo);
          const g = geometryOf(geo.shape, variant.logits, options);
          const x = inputs64(inputs32(geo.shape, geo.kernelSize, variant.logits, 100 + 17 * gi + vi));
          const G = x.G;
          const grads = analytic(g, x, G);
          for (const name of NAMES) {
            const input = x[name];
            const grad = grads[GRAD_NAMES[name]];
            if (!input) {
              assert.equal(grad, null, `d${name} must be null when ${name} is unused`);
              continue;
            }
            assert.ok(grad instanceof Float64Array, `d${name} must be float64`);
            assert.equal(grad.length, input.length, `d${name} length`);
            const numeric = numericGradient((p) => loss(g, { ...x, [name]: p }, G), input, FD_H);
            const { err, ref } = maxErr(grad, numeric);
            assert.ok(
              err <= FD_TOL * (1 + ref),
              `d${name}: max |analytic - numeric| ${err.toExponential(3)} > ${FD_TOL} · (1 + ${ref.toPrecision(4)})`,
            );
          }
        });
      });
    });
  });
});

/** localAttention2d(...inputs) with the unused inputs null, as a function of the used ones. */
function opOf(logits: LogitsMode, options: LocalAttentionOptions) {
  return attentionOf(used(logits), options);
}

describe('localAttention2d tfjs gradients (float32, active backend) match the float64 analytic ones', () => {
  before(setup);
  const cases: { variant: Variant; geo: Geometry }[] = [
    { variant: { logits: 'qk+qr', padding: 'zeros', scale: undefined }, geo: GEOMETRIES[3] },
    { variant: { logits: 'qr', padding: 'masked', scale: 0.7 }, geo: GEOMETRIES[4] },
    { variant: { logits: 'qk', padding: 'masked', scale: 'none' }, geo: GEOMETRIES[1] },
    { variant: { logits: 'qk+qr', padding: 'masked', scale: 'none' }, geo: GEOMETRIES[7] },
  ];
  cases.forEach(({ variant, geo }, ci) => {
    it(`${variantName(variant)}: ${geoName(geo)}`, () => {
      const options = optionsOf(variant, geo);
      const x32 = inputs32(geo.shape, geo.kernelSize, variant.logits, 500 + ci);
      const x = inputs64(x32);
      const g = geometryOf(geo.shape, variant.logits, options);
      const expectedY = localAttentionForward(g, x).y;
      const expected = analytic(g, x, x.G);
      const names = used(variant.logits);
      const half = geo.shape[3] / 2;
      const tensors = names.map((n) =>
        n === 'relRow' || n === 'relCol'
          ? tf.tensor2d(x32[n] as Float32Array, [geo.kernelSize, half])
          : tf.tensor4d(x32[n] as Float32Array, geo.shape),
      );
      const dy = tf.tensor4d(x32.G, geo.shape);
      const f = opOf(variant.logits, options);
      const y = f(...tensors);
      assertClose(y.dataSync(), expectedY, { tol: 1e-5, label: 'y' });
      const grads = tf.grads(f)(tensors, dy);
      names.forEach((n, i) => {
        assert.deepEqual(grads[i].shape, tensors[i].shape, `d${n} shape`);
        assertClose(grads[i].dataSync(), expected[GRAD_NAMES[n]] as Float64Array, { tol: 1e-4, label: `d${n}` });
      });
      tf.dispose([y, dy, ...grads, ...tensors]);
    });
  });

  it('self-attention (one tensor as q, k and v) accumulates the three gradients', () => {
    const geo = GEOMETRIES[2];
    const variant: Variant = { logits: 'qk+qr', padding: 'zeros', scale: undefined };
    const options = optionsOf(variant, geo);
    const x32 = inputs32(geo.shape, geo.kernelSize, variant.logits, 600);
    const g = geometryOf(geo.shape, variant.logits, options);
    const xs = Float64Array.from(x32.q);
    const G = Float64Array.from(x32.G);
    const self: AttentionInputs = { q: xs, k: xs, v: xs, relRow: to64(x32.relRow), relCol: to64(x32.relCol) };
    const a = analytic(g, self, G);
    const expected = a.dq.map((d, i) => d + (a.dk as Float64Array)[i] + a.dv[i]);
    // The float64 sum is itself checked against finite differences of the shared input.
    const numeric = numericGradient((p) => loss(g, { ...self, q: p, k: p, v: p }, G), xs, FD_H);
    const { err, ref } = maxErr(expected, numeric);
    assert.ok(err <= FD_TOL * (1 + ref), `float64 dx: ${err.toExponential(3)}`);
    const t = tf.tensor4d(x32.q, geo.shape);
    const rr = tf.tensor2d(x32.relRow as Float32Array, [geo.kernelSize, geo.shape[3] / 2]);
    const rc = tf.tensor2d(x32.relCol as Float32Array, [geo.kernelSize, geo.shape[3] / 2]);
    const dy = tf.tensor4d(x32.G, geo.shape);
    const [dx] = tf.grads((v: tf.Tensor) =>
      localAttention2d(v as tf.Tensor4D, v as tf.Tensor4D, v as tf.Tensor4D, rr, rc, options),
    )([t], dy);
    assertClose(dx.dataSync(), expected, { tol: 1e-4, label: 'dx' });
    tf.dispose([t, rr, rc, dy, dx]);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Properties (active backend)

/** Runs the op on float32 arrays and returns y as a Float32Array; disposes everything. */
function run(
  shape: Shape4,
  x: {
    q: Float32Array;
    k: Float32Array | null;
    v: Float32Array;
    relRow: Float32Array | null;
    relCol: Float32Array | null;
  },
  options: LocalAttentionOptions,
): Float32Array {
  return tf.tidy(() => {
    const t4 = (a: Float32Array | null) => (a ? tf.tensor4d(a, shape) : null);
    const t2 = (a: Float32Array | null) => (a ? tf.tensor2d(a, [options.kernelSize, shape[3] / 2]) : null);
    const y = localAttention2d(
      t4(x.q) as tf.Tensor4D,
      t4(x.k),
      t4(x.v) as tf.Tensor4D,
      t2(x.relRow),
      t2(x.relCol),
      options,
    );
    return y.dataSync() as Float32Array;
  });
}

describe('localAttention2d properties', () => {
  before(setup);

  it('kernelSize 1 is the identity on v (exactly), for every logits × padding', () => {
    const shape: Shape4 = [2, 3, 4, 6];
    for (const v of VARIANTS) {
      const x = inputs32(shape, 1, v.logits, 700);
      const y = run(shape, x, optionsOf(v, { kernelSize: 1, heads: 3 }));
      assert.deepEqual(y, x.v, variantName(v));
    }
  });

  it("padding 'masked' on a 1×1 image is the identity on v (exactly) for any kernelSize", () => {
    const shape: Shape4 = [2, 1, 1, 4];
    for (const v of VARIANTS.filter((u) => u.padding === 'masked')) {
      for (const kernelSize of [3, 5, 7]) {
        const x = inputs32(shape, kernelSize, v.logits, 710 + kernelSize);
        const y = run(shape, x, optionsOf(v, { kernelSize, heads: 2 }));
        assert.deepEqual(y, x.v, `${variantName(v)}, k=${kernelSize}`);
      }
    }
  });

  it("logits 'qk' with q = 0: 'masked' averages the in-image window, 'zeros' divides its sum by k²", () => {
    const shape: Shape4 = [2, 5, 3, 4];
    const [B, H, W, C] = shape;
    for (const kernelSize of [3, 5]) {
      const h = (kernelSize - 1) / 2;
      const x = inputs32(shape, kernelSize, 'qk', 720 + kernelSize);
      x.q.fill(0);
      for (const padding of ['masked', 'zeros'] as const) {
        const y = run(shape, x, { kernelSize, heads: 2, logits: 'qk', padding });
        const expected = new Float64Array(y.length);
        for (let b = 0; b < B; b++) {
          for (let i = 0; i < H; i++) {
            for (let j = 0; j < W; j++) {
              let count = 0;
              const sum = new Float64Array(C);
              for (let a = Math.max(0, i - h); a <= Math.min(H - 1, i + h); a++) {
                for (let c = Math.max(0, j - h); c <= Math.min(W - 1, j + h); c++) {
                  count++;
                  for (let ch = 0; ch < C; ch++) sum[ch] += x.v[((b * H + a) * W + c) * C + ch];
                }
              }
              const n = padding === 'masked' ? count : kernelSize * kernelSize;
              for (let ch = 0; ch < C; ch++) expected[((b * H + i) * W + j) * C + ch] = sum[ch] / n;
            }
          }
        }
        assertClose(y, expected, { tol: 1e-6, label: `k=${kernelSize} ${padding}` });
      }
    }
  });

  it("scale 'none' is scale 1 and the default is (C/heads)^-0.5, bit for bit", () => {
    const shape: Shape4 = [1, 4, 3, 8];
    for (const logits of ['qk+qr', 'qr', 'qk'] as const) {
      for (const padding of ['zeros', 'masked'] as const) {
        const x = inputs32(shape, 3, logits, 730);
        const base = { kernelSize: 3, heads: 2, logits, padding };
        assert.deepEqual(run(shape, x, { ...base, scale: 'none' }), run(shape, x, { ...base, scale: 1 }), logits);
        assert.deepEqual(run(shape, x, base), run(shape, x, { ...base, scale: 0.5 }), logits);
        // And the scale does matter.
        assert.notDeepEqual(run(shape, x, base), run(shape, x, { ...base, scale: 1 }), logits);
      }
    }
  });

  it('adding one vector to every row of relRow (or relCol) shifts a whole window alike: y unchanged', () => {
    const shape: Shape4 = [2, 4, 5, 12];
    const kernelSize = 5;
    const half = shape[3] / 2;
    const shifted = (t: Float32Array, seed: number) => {
      const c = randArray(half, seed, -2, 2);
      return t.map((val, i) => val + c[i % half]);
    };
    for (const logits of ['qk+qr', 'qr'] as const) {
      for (const padding of ['zeros', 'masked'] as const) {
        const options: LocalAttentionOptions = { kernelSize, heads: 3, logits, padding };
        const x = inputs32(shape, kernelSize, logits, 740);
        const ref = run(shape, x, options);
        const rows = run(shape, { ...x, relRow: shifted(x.relRow as Float32Array, 741) }, options);
        const cols = run(shape, { ...x, relCol: shifted(x.relCol as Float32Array, 742) }, options);
        assertClose(rows, ref, { tol: 1e-5, label: `${logits} ${padding} relRow + c` });
        assertClose(cols, ref, { tol: 1e-5, label: `${logits} ${padding} relCol + c` });
        // A shift of a single row is not uniform over the window and must change y.
        const one = (x.relRow as Float32Array).slice();
        for (let c = 0; c < half; c++) one[c] += 1;
        assert.notDeepEqual(run(shape, { ...x, relRow: one }, options), ref, `${logits} ${padding} row 0 + 1`);
      }
    }
  });

  it('batch elements are independent', () => {
    const one: Shape4 = [1, 3, 4, 4];
    const two: Shape4 = [2, 3, 4, 4];
    const options: LocalAttentionOptions = { kernelSize: 3, heads: 2 };
    const a = inputs32(one, 3, 'qk+qr', 750);
    const b = inputs32(one, 3, 'qk+qr', 751);
    const cat = (u: Float32Array, w: Float32Array) => Float32Array.from([...u, ...w]);
    const both = run(
      two,
      {
        q: cat(a.q, b.q),
        k: cat(a.k as Float32Array, b.k as Float32Array),
        v: cat(a.v, b.v),
        relRow: a.relRow,
        relCol: a.relCol,
      },
      options,
    );
    const ya = run(one, a, options);
    const yb = run(one, { ...b, relRow: a.relRow, relCol: a.relCol }, options);
    assert.deepEqual(both, cat(ya, yb));
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Bad arguments

describe('localAttention2d rejects bad arguments with errors naming them, and leaks nothing', () => {
  // Base: q, k, v [1,3,4,4]; kernelSize 3; heads 2; tables [3,2].
  const T: Record<string, tf.Tensor> = {};
  const opts: LocalAttentionOptions = { kernelSize: 3, heads: 2 };
  before(async () => {
    await setup();
    const t4 = (shape: number[], seed: number) => tf.tensor(randArray(sizeOf(shape), seed), shape, 'float32');
    Object.assign(T, {
      q: t4([1, 3, 4, 4], 1),
      k: t4([1, 3, 4, 4], 2),
      v: t4([1, 3, 4, 4], 3),
      relRow: t4([3, 2], 4),
      relCol: t4([3, 2], 5),
      q3: t4([1, 3, 4, 3], 6),
      rel31: t4([3, 1], 7),
      k443: t4([1, 4, 4, 4], 8),
      k2: t4([2, 3, 4, 4], 9),
      v2ch: t4([1, 3, 4, 2], 10),
      rel34: t4([3, 4], 11),
      rel52: t4([5, 2], 12),
      rel6: t4([6], 13),
      qRank3: t4([3, 4, 4], 14),
      qEmpty: t4([1, 0, 4, 4], 15),
      qInt: tf.zeros([1, 3, 4, 4], 'int32'),
      relInt: tf.zeros([3, 2], 'int32'),
    });
  });
  after(() => tf.dispose(Object.values(T)));

  const call = (
    over: Partial<Record<InputName, unknown>>,
    options: Partial<LocalAttentionOptions> | Record<string, unknown> = {},
  ) => {
    const get = (n: InputName) => (n in over ? over[n] : T[n]);
    return () =>
      localAttention2d(
        get('q') as tf.Tensor4D,
        get('k') as tf.Tensor4D,
        get('v') as tf.Tensor4D,
        get('relRow') as tf.Tensor2D,
        get('relCol') as tf.Tensor2D,
        { ...opts, ...options } as LocalAttentionOptions,
      );
  };

  // Each case: a name, the call (evaluated lazily, after before()), and substrings the message must contain.
  const cases: [string, () => () => unknown, string[]][] = [
    ['channels not divisible by heads', () => call({}, { heads: 3 }), ['channels 4', '[1,3,4,4]', 'heads 3']],
    [
      'odd channels with relative logits',
      () => call({ q: T.q3, k: T.q3, v: T.q3, relRow: T.rel31, relCol: T.rel31 }, { heads: 1 }),
      ['channels 3', '[1,3,4,3]', 'must be even'],
    ],
    [
      "odd channels with logits 'qr'",
      () => call({ q: T.q3, k: null, v: T.q3, relRow: T.rel31, relCol: T.rel31 }, { heads: 3, logits: 'qr' }),
      ['channels 3', 'must be even'],
    ],
    ['even kernelSize', () => call({}, { kernelSize: 4 }), ['kernelSize', 'odd', '4']],
    ['kernelSize 0', () => call({}, { kernelSize: 0 }), ['kernelSize', 'got 0']],
    ['non-integer kernelSize', () => call({}, { kernelSize: 2.5 }), ['kernelSize', '2.5']],
    ['NaN kernelSize', () => call({}, { kernelSize: Number.NaN }), ['kernelSize', 'NaN']],
    ['kernelSize missing', () => call({}, { kernelSize: undefined }), ['kernelSize', 'undefined']],
    ['kernelSize above 31', () => call({}, { kernelSize: 33 }), ['kernelSize', 'from 1 to 31', '33']],
    ['heads 0', () => call({}, { heads: 0 }), ['heads', 'got 0']],
    ['negative heads', () => call({}, { heads: -2 }), ['heads', '-2']],
    ['non-integer heads', () => call({}, { heads: 1.5 }), ['heads', '1.5']],
    ['k of another spatial shape', () => call({ k: T.k443 }), ['k [1,4,4,4]', 'q [1,3,4,4]']],
    ['k of another batch', () => call({ k: T.k2 }), ['k [2,3,4,4]', 'q [1,3,4,4]']],
    ['v of another channel count', () => call({ v: T.v2ch }), ['v [1,3,4,2]', 'q [1,3,4,4]']],
    ['v of another spatial shape', () => call({ v: T.k443 }), ['v [1,4,4,4]', 'q [1,3,4,4]']],
    ['relRow [k, C] instead of [k, C/2]', () => call({ relRow: T.rel34 }), ['relRow [3,4]', '[3,2]']],
    ['relCol [k, C] instead of [k, C/2]', () => call({ relCol: T.rel34 }), ['relCol [3,4]', '[3,2]']],
    ['relRow of the wrong kernelSize', () => call({ relRow: T.rel52 }), ['relRow [5,2]', '[3,2]']],
    ['relCol of the wrong kernelSize', () => call({ relCol: T.rel52 }), ['relCol [5,2]', '[3,2]']],
    ['relCol of rank 1', () => call({ relCol: T.rel6 }), ['relCol [6]', '[3,2]']],
    ["k null with logits 'qk+qr'", () => call({ k: null }), ['k none', "'qk+qr'"]],
    ["k null with logits 'qk'", () => call({ k: null }, { logits: 'qk' }), ['k none', "'qk'"]],
    ["relRow null with logits 'qr'", () => call({ k: null, relRow: null }, { logits: 'qr' }), ['relRow none', "'qr'"]],
    ["relCol null with logits 'qr'", () => call({ k: null, relCol: null }, { logits: 'qr' }), ['relCol none', "'qr'"]],
    ["k given with logits 'qr'", () => call({}, { logits: 'qr' }), ['k must be null', "'qr'"]],
    ["tables given with logits 'qk'", () => call({}, { logits: 'qk' }), ['relRow and relCol must be null', "'qk'"]],
    ["tables null with logits 'qk+qr'", () => call({ relRow: null, relCol: null }), ['relRow none', "'qk+qr'"]],
    ['unknown logits', () => call({}, { logits: 'qk+qv' }), ['logits', "'qk+qv'"]],
    ['unknown padding', () => call({}, { padding: 'same' }), ['padding', "'same'"]],
    ['NaN scale', () => call({}, { scale: Number.NaN }), ['scale', 'NaN']],
    ['infinite scale', () => call({}, { scale: Number.POSITIVE_INFINITY }), ['scale', 'Infinity']],
    ['string scale', () => call({}, { scale: 'auto' }), ['scale', 'auto']],
    ['rank-3 q', () => call({ q: T.qRank3 }), ['q', '[3,4,4]', '[B, H, W, C]']],
    ['empty q', () => call({ q: T.qEmpty, k: T.qEmpty, v: T.qEmpty }), ['q [1,0,4,4]', 'empty']],
    ['int32 q', () => call({ q: T.qInt }), ['q', 'float32', 'int32']],
    ['int32 relRow', () => call({ relRow: T.relInt }), ['relRow', 'float32', 'int32']],
    ['q a plain array', () => call({ q: [[[[1, 2, 3, 4]]]] }), ['q', 'tf.Tensor']],
    ['relCol a Float32Array', () => call({ relCol: new Float32Array(6) }), ['relCol', 'tf.Tensor']],
    ['v a number', () => call({ v: 3 }), ['v', 'tf.Tensor', 'number']],
    ['v null', () => call({ v: null }), ['v', 'required']],
    ['q undefined', () => call({ q: undefined }), ['q', 'required']],
  ];

  for (const [name, make, parts] of cases) {
    it(name, () => {
      const fn = make();
      const before = tf.memory().numTensors;
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof Error, `expected an Error, got ${String(e)}`);
        assert.ok(
          e.message.startsWith('localAttention2d:'),
          `message '${e.message}' must start with 'localAttention2d:'`,
        );
        for (const p of parts) assert.ok(e.message.includes(p), `message '${e.message}' must mention '${p}'`);
        return true;
      });
      assert.equal(tf.memory().numTensors, before, 'tensors leaked on error');
    });
  }

  it('the valid base call works (so the cases above fail for their stated reason)', () => {
    tf.dispose(call({})() as tf.Tensor);
    tf.dispose(call({ k: null }, { logits: 'qr' })() as tf.Tensor);
    tf.dispose(call({ relRow: null, relCol: null }, { logits: 'qk' })() as tf.Tensor);
    tf.dispose(
      call({ q: T.q3, k: T.q3, v: T.q3, relRow: null, relCol: null }, { heads: 3, logits: 'qk' })() as tf.Tensor,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Memory

describe('localAttention2d leaves no tensors behind', () => {
  before(setup);
  const shape: Shape4 = [2, 3, 4, 4];

  for (const logits of ['qk+qr', 'qr', 'qk'] as const) {
    it(`logits '${logits}': forward inside tf.tidy, and its single output outside`, () => {
      const x = inputs32(shape, 3, logits, 800);
      const names = used(logits);
      const tensors = names.map((n) =>
        n === 'relRow' || n === 'relCol'
          ? tf.tensor2d(x[n] as Float32Array, [3, 2])
          : tf.tensor4d(x[n] as Float32Array, shape),
      );
      const f = opOf(logits, { kernelSize: 3, heads: 2, logits });
      const start = tf.memory().numTensors;
      tf.tidy(() => {
        f(...tensors).dataSync();
      });
      assert.equal(tf.memory().numTensors, start, 'after tf.tidy');
      const y = f(...tensors);
      assert.equal(tf.memory().numTensors, start + 1, 'the op must create exactly one tensor');
      y.dispose();
      assert.equal(tf.memory().numTensors, start, 'after disposing y');
      tf.dispose(tensors);
    });

    it(`logits '${logits}': tf.grads and tf.valueAndGrads leave only their results`, () => {
      const x = inputs32(shape, 3, logits, 810);
      const names = used(logits);
      const tensors = names.map((n) =>
        n === 'relRow' || n === 'relCol'
          ? tf.tensor2d(x[n] as Float32Array, [3, 2])
          : tf.tensor4d(x[n] as Float32Array, shape),
      );
      const dy = tf.tensor4d(x.G, shape);
      const f = opOf(logits, { kernelSize: 3, heads: 2, logits, padding: 'masked' });
      const start = tf.memory().numTensors;
      const grads = tf.grads(f)(tensors, dy);
      assert.equal(grads.length, names.length);
      assert.equal(tf.memory().numTensors, start + names.length, 'tf.grads must leave only the gradients');
      tf.dispose(grads);
      assert.equal(tf.memory().numTensors, start, 'after disposing the gradients');
      const { value, grads: g2 } = tf.valueAndGrads(f)(tensors, dy);
      assert.equal(tf.memory().numTensors, start + 1 + names.length, 'tf.valueAndGrads must leave value + gradients');
      tf.dispose([value, ...g2]);
      assert.equal(tf.memory().numTensors, start, 'after disposing value and gradients');
      // A scalar loss inside tf.tidy, gradient through the op, nothing kept.
      tf.tidy(() => {
        tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), dy)))(tensors);
      });
      assert.equal(tf.memory().numTensors, start, 'after tf.tidy around tf.grads');
      tf.dispose([dy, ...tensors]);
    });
  }
});
