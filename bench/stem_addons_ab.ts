/**
 * Two builds of the native addon's fused attention stem, alternated call by call in one process: each
 * addon's stemAttentionBlockMaxForward and …Backward (the kernels sasa_resnet26's training step runs) at
 * sasa_resnet26's shape (batch 8, 224²: 25 088 blocks of 4×4, 3 → 64 channels, 4 heads, relative logits, a
 * value matrix per position), on the same seeded inputs:
 *   npx tsx bench/stem_addons_ab.ts --a OLD.node --b NEW.node [--batch 8] [--rounds 15]
 * Prints the median ms (first round left out) of each side's forward and backward and the largest |A − B| of
 * the output and of each gradient over its largest |A|: 0 for a change that should be bit-identical.
 */

import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { median } from '../src/bench/timing.js';
import { arg } from './args.js';
import { seededUniform } from './random.js';

type Addon = Record<string, (...args: unknown[]) => void>;
const load = (path: string): Addon => createRequire(import.meta.url)(resolve(path)) as Addon;
const addons = { A: load(arg('a', '')), B: load(arg('b', '')) };
const rounds = Number(arg('rounds', '15'));
const [side, dIn, F, heads, K] = [4, 3, 64, 4, 7];
const S = side * side;
const n = (Number(arg('batch', '8')) * 224 * 224) / S;
const geometry = {
  ...{ blocks: n, side, inputChannels: dIn, filters: F, heads, positions: S, relative: true },
  scale: 1 / Math.sqrt(F / heads),
};
const epsilon = 1e-3;

const x = seededUniform(n * S * dIn, 1, 2);
const [wq, wk] = [seededUniform(dIn * F, 2), seededUniform(dIn * F, 3)];
const wv = seededUniform(S * dIn * F, 4);
const [relRow, relCol] = [seededUniform((K * F) / 2, 5), seededUniform((K * F) / 2, 6)];
const gamma = seededUniform(F, 7, 2);
const beta = seededUniform(F, 8);
const dOut = seededUniform(n * F, 9);
const [dMean, dVariance] = [seededUniform(F, 10, 1e-3), seededUniform(F, 11, 1e-3)];

const outputs = () => ({
  out: new Float32Array(n * F),
  mean: new Float32Array(F),
  variance: new Float32Array(F),
  extreme: new Float32Array(n * F),
  argmax: new Int32Array(n * F),
  lse: new Float32Array(n * S * heads),
  weights: new Float32Array((2 + S) * dIn * F + K * F + 2 * F),
});
const out = { A: outputs(), B: outputs() };
const times = { A: { forward: [] as number[], backward: [] as number[] }, B: { forward: [], backward: [] } };

const GRADIENTS = ['dwq', 'dwk', 'dwv', 'dRelRow', 'dRelCol', 'dgamma', 'dbeta'];
/** The gradients' views into o.weights, in the order of GRADIENTS. */
function gradients(o: ReturnType<typeof outputs>): Float32Array[] {
  const sizes = [dIn * F, dIn * F, S * dIn * F, (K * F) / 2, (K * F) / 2, F, F];
  const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  return sizes.map((size, i) => o.weights.subarray(starts[i], starts[i] + size));
}

for (let r = 0; r < rounds; r++) {
  for (const s of ['A', 'B'] as const) {
    const [addon, o, t] = [addons[s], out[s], times[s]];
    let t0 = performance.now();
    addon.stemAttentionBlockMaxForward(
      ...[x, wq, wk, wv, relRow, relCol, gamma, beta, o.out, o.mean, o.variance, o.extreme, o.argmax, o.lse],
      ...[geometry, epsilon],
    );
    t.forward.push(performance.now() - t0);
    t0 = performance.now();
    addon.stemAttentionBlockMaxBackward(
      ...[dOut, x, wq, wk, wv, relRow, relCol, o.lse, o.extreme, o.argmax, o.mean, o.variance, gamma, dMean],
      ...[dVariance, new Float32Array(0), ...gradients(o), geometry, epsilon],
    );
    t.backward.push(performance.now() - t0);
  }
}

/** The median of a side's times, the first (warm-up) call left out. */
const steady = (values: number[]) => median(values.slice(1)).toFixed(2);
const largest = (a: ArrayLike<number>, f: (i: number) => number) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, f(i));
  return m;
};
/** max |A − B| over the largest |A|: 0 when bit-identical. */
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  (largest(a, (i) => Math.abs(a[i] - b[i])) / (largest(a, (i) => Math.abs(a[i])) || 1)).toExponential(1);
const [ta, tb] = [times.A, times.B];
console.log(
  `stem ${n} blocks: forward A ${steady(ta.forward)} B ${steady(tb.forward)} ms, backward A ${steady(ta.backward)} ` +
    `B ${steady(tb.backward)} ms; max |A − B| / max |A|: out ${maxDiff(out.A.out, out.B.out)}, lse ` +
    `${maxDiff(out.A.lse, out.B.lse)}, ${gradients(out.A)
      .map((g, i) => `${GRADIENTS[i]} ${maxDiff(g, gradients(out.B)[i])}`)
      .join(', ')}`,
);
