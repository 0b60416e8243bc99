/**
 * Two builds of the native addon's local attention, alternated call by call in one process: each
 * addon's localAttentionForward and localAttentionBackward on the same seeded packed q|k|v (k 7, 8 heads):
 *   npx tsx bench/attention_addons_ab.ts --a OLD.node --b NEW.node [--shape 8,56,56,128] [--pool] [--rounds 15]
 * Prints the median ms (first round left out) of each side's forward and backward and the largest
 * |A − B| of y, dq|dk|dv and dRelRow: 0 for a change that should be bit-identical.
 */

import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { median } from '../src/bench/timing.js';
import { arg, flag } from './args.js';
import { seededUniform } from './random.js';

type Addon = Record<string, (...args: unknown[]) => void>;
const load = (path: string): Addon => createRequire(import.meta.url)(resolve(path)) as Addon;
const addons = { A: load(arg('a', '')), B: load(arg('b', '')) };
const [B, H, W, C] = arg('shape', '8,56,56,128').split(',').map(Number);
const pool = flag('pool');
const rounds = Number(arg('rounds', '15'));
const K = 7;

const qkv = seededUniform(B * H * W * 3 * C, 1);
const [q, k, v] = [0, C, 2 * C].map((o) => qkv.subarray(o));
const [relRow, relCol] = [seededUniform((K * C) / 2, 2), seededUniform((K * C) / 2, 3)];
const geometry = {
  ...{ batch: B, height: H, width: W, channels: C, kernelSize: K, heads: 8, masked: false },
  ...{ useQK: true, useQR: true, scale: 1 / Math.sqrt(C / 8), pixelStride: 3 * C },
};
const outPixels = pool ? (B * H * W) / 4 : B * H * W;
const dy = seededUniform(outPixels * C, 4);
const outputs = () => ({
  y: new Float32Array(outPixels * C),
  lse: new Float32Array(B * H * W * 8),
  dqkv: new Float32Array(B * H * W * 3 * C),
  dRelRow: new Float32Array((K * C) / 2),
  dRelCol: new Float32Array((K * C) / 2),
});
const out = { A: outputs(), B: outputs() };
const times = { A: { forward: [] as number[], backward: [] as number[] }, B: { forward: [], backward: [] } };

for (let r = 0; r < rounds; r++) {
  for (const side of ['A', 'B'] as const) {
    const [addon, o, t] = [addons[side], out[side], times[side]];
    let t0 = performance.now();
    addon.localAttentionForward(q, k, v, relRow, relCol, o.y, o.lse, geometry, pool);
    t.forward.push(performance.now() - t0);
    t0 = performance.now();
    const [dq, dk, dv] = [0, C, 2 * C].map((at) => o.dqkv.subarray(at));
    addon.localAttentionBackward(dy, q, k, v, relRow, relCol, o.lse, dq, dk, dv, o.dRelRow, o.dRelCol, geometry, pool);
    t.backward.push(performance.now() - t0);
  }
}

/** The median of a side's times, the first (warm-up) call left out. */
const steady = (times: number[]) => median(times.slice(1)).toFixed(2);
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
const [ta, tb] = [times.A, times.B];
console.log(
  `[${B},${H},${W},${C}] pool ${pool}: forward A ${steady(ta.forward)} B ${steady(tb.forward)} ms, ` +
    `backward A ${steady(ta.backward)} B ${steady(tb.backward)} ms; max |A − B| y ${maxDiff(out.A.y, out.B.y)}, ` +
    `dq|dk|dv ${maxDiff(out.A.dqkv, out.B.dqkv)}, dRelRow ${maxDiff(out.A.dRelRow, out.B.dRelRow)}`,
);
