/**
 * Where one RetinaNet training step (or inference) of `sasa bench detection` spends its time: one
 * warm-up step, then tf.profile of one step, kernel time summed per tfjs kernel (--shapes: split by
 * input shapes), the top --top printed.
 *   npx tsx bench/profile_detection.ts [--backbone resnet50] [--fpn conv] [--batch 2] [--size 512] [--train] [--shapes]
 */

import { prepareDetectionBench } from '../src/bench/detection_case.js';
import { initBackend } from '../src/index.js';
import * as tf from '../src/tf.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const flag = (name: string) => process.argv.includes(`--${name}`);
await initBackend({ backend: arg('backend', 'native') });
const c = {
  backbone: arg('backbone', 'resnet50'),
  fpn: arg('fpn', 'conv') as 'conv' | 'attention',
  batch: Number(arg('batch', '2')),
  size: Number(arg('size', '512')),
  classes: Number(arg('classes', '91')),
  train: flag('train'),
};
const bench = prepareDetectionBench(c);
let t0 = performance.now();
bench.step();
console.log(`warm-up step: ${(performance.now() - t0).toFixed(0)} ms`);
t0 = performance.now();
const profile = await tf.profile(bench.step);
console.log(`profiled step: ${(performance.now() - t0).toFixed(0)} ms`);
const byKernel = new Map<string, { ms: number; n: number }>();
for (const k of profile.kernels) {
  const name = flag('shapes') ? `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('')}` : k.name;
  const e = byKernel.get(name) ?? { ms: 0, n: 0 };
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : Number.NaN;
  e.n++;
  byKernel.set(name, e);
}
const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
console.log(`kernel time: ${total.toFixed(0)} ms in ${profile.kernels.length} kernel calls`);
for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(arg('top', '20')))) {
  console.log(
    `${name.padEnd(40)} ${e.ms.toFixed(1).padStart(9)} ms ${String(e.n).padStart(5)} calls ${((100 * e.ms) / total).toFixed(1).padStart(5)} %`,
  );
}
bench.dispose();
