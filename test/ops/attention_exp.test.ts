/**
 * The vector exp of the native attention kernels' softmax (expNonPositive, through the addon's
 * attentionExp) against Math.exp: within 1.5 float ulps of e^x over [-87, 0] (every range-reduction
 * step n = round(x·log2 e) from 0 to -126, both ends of each step's |r| <= ln 2 / 2, the values near
 * 0 that carry most of a softmax), exactly 1 at 0, 0 below -87 and at -Infinity (masked window
 * positions), NaN kept, and a count that is not a whole number of SIMD vectors.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loadAddon } from '../../src/backend/addon.js';
import { describeNative } from '../helpers.js';

/** The addon's exp of xs (rounded to float first), as numbers. */
function nativeExp(xs: number[]): number[] {
  const addon = loadAddon().addon;
  if (!addon) throw new Error('addon missing');
  const x = Float32Array.from(xs);
  const y = new Float32Array(x.length).fill(Number.NaN);
  addon.attentionExp(x, y, x.length);
  return Array.from(y);
}

/** The spacing of floats at |v| (v a normal float). */
function floatUlp(v: number): number {
  return 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23);
}

describeNative('the attention kernels’ exp', () => {
  it('is within 1.5 ulps of Math.exp over [-87, 0]', () => {
    const xs: number[] = [];
    for (let i = 0; i <= 200_000; i++) xs.push(-87 * (i / 200_000));
    for (let n = 0; n <= 125; n++) {
      // the ends of each reduction step, where |r| is largest
      for (const d of [-0.3465, -1e-4, 0, 1e-4, 0.3465]) xs.push(Math.max(-87, -(n + d) * Math.LN2));
    }
    for (let e = -40; e <= -1; e++) xs.push(-(2 ** e));
    const ys = nativeExp(xs);
    let worst = 0;
    let worstAt = 0;
    xs.forEach((x, i) => {
      const xf = Math.fround(x);
      const exact = Math.exp(xf);
      const err = Math.abs(ys[i] - exact) / floatUlp(exact);
      if (!(err <= worst)) {
        worst = err;
        worstAt = xf;
      }
    });
    assert.ok(worst <= 1.5, `worst error ${worst} ulps at x = ${worstAt}`);
  });

  it('gives 1 at 0, 0 below -87 and at -Infinity, and keeps NaN', () => {
    const ys = nativeExp([0, -87.01, -88, -100, -1e30, Number.NEGATIVE_INFINITY, Number.NaN]);
    assert.equal(ys[0], 1);
    assert.deepEqual(ys.slice(1, 6), [0, 0, 0, 0, 0]);
    assert.ok(Number.isNaN(ys[6]), `exp(NaN) = ${ys[6]}`);
  });

  it('writes exactly n values when n is not a whole number of vectors', () => {
    const addon = loadAddon().addon;
    if (!addon) throw new Error('addon missing');
    const x = new Float32Array(37).fill(-1);
    const y = new Float32Array(37).fill(-5);
    addon.attentionExp(x, y, 35);
    for (let i = 0; i < 35; i++) assert.ok(Math.abs(y[i] - Math.exp(-1)) < 1e-7, `y[${i}] = ${y[i]}`);
    assert.deepEqual(Array.from(y.slice(35)), [-5, -5]);
  });
});
