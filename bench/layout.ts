/**
 * Times Transpose, Slice and PadV2 on tfjs's pure-JS kernels (`cpu`) and on ours (`native`) in
 * one process, at the shapes that dominated a profiled training step: median and best ms of --runs
 * (the best is the steadier number on a shared machine). SASA_NUM_THREADS sets our threads.
 *
 *   npx tsx bench/layout.ts [--runs 5]
 */

import { initBackend } from '../src/backend/native.js';
import * as tf from '../src/tf.js';

interface Case {
  name: string;
  shape: number[];
  op: (x: tf.Tensor) => tf.Tensor;
}

const block = (b: number, h: number, w: number, c: number) => [b, h / 4, 4, w / 4, 4, c];
const cases: Case[] = [
  {
    name: 'Slice [64,10,10,128] → [64,8,8,128] (gradient of a pad)',
    shape: [64, 10, 10, 128],
    op: (x) => tf.slice(x, [0, 1, 1, 0], [64, 8, 8, 128]),
  },
  ...[block(64, 32, 32, 32), block(64, 56, 56, 64), block(128, 56, 56, 64)].map((shape) => ({
    name: `Transpose [${shape}] perm [0,1,3,2,4,5]`,
    shape,
    op: (x: tf.Tensor) => tf.transpose(x, [0, 1, 3, 2, 4, 5]),
  })),
  {
    name: 'PadV2 [64,8,8,128] → [64,10,10,128]',
    shape: [64, 8, 8, 128],
    op: (x) =>
      tf.pad(x, [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]),
  },
  {
    name: 'Transpose [32,56,56,64] perm [0,3,1,2] (moves the last axis)',
    shape: [32, 56, 56, 64],
    op: (x) => tf.transpose(x, [0, 3, 1, 2]),
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(backend: string, c: Case, runs: number): { median: number; best: number } {
  tf.setBackend(backend);
  const n = c.shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = (i % 1000) / 1000;
  const x = tf.tensor(values, c.shape);
  const ms: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    const t0 = performance.now();
    const y = c.op(x);
    const t1 = performance.now();
    y.dispose();
    if (r > 0) ms.push(t1 - t0);
  }
  x.dispose();
  return { median: median(ms), best: Math.min(...ms) };
}

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const status = await initBackend({ require: true });
console.log(`native threads ${status.info?.threads}; median (best) of ${runs} runs, ms\n`);
console.log('| case | tfjs JS (cpu) | native | speed-up (medians) |');
console.log('|---|---:|---:|---:|');
for (const c of cases) {
  const js = time('cpu', c, runs);
  const ours = time('native', c, runs);
  const cell = (t: { median: number; best: number }) => `${t.median.toFixed(2)} (${t.best.toFixed(2)})`;
  console.log(`| ${c.name} | ${cell(js)} | ${cell(ours)} | ${(js.median / ours.median).toFixed(0)}× |`);
}
