/**
 * A model's training step with and without some of the native backend's kernels, alternating in
 * one process (the ops fall back to their compositions when their kernel is not registered):
 *   npx tsx bench/ab_kernels.ts --kernels SasaStemAttention,SasaStemAttentionGrad [--model sasa_resnet26]
 *                               [--batch 8] [--size 224] [--rounds 3] [--steps 3]
 * Prints each round's step times with the kernels ("with") and without them ("without"). The A/B
 * numbers in BENCHMARKS.md "2026-11-26" come from this protocol.
 */

import { initBackend, NATIVE_BACKEND } from '../src/backend/native.js';
import { prepareModelBench } from '../src/bench/cases.js';
import * as tf from '../src/tf.js';
import { arg } from './args.js';

await initBackend({ backend: NATIVE_BACKEND, require: true });
const names = arg('kernels', '').split(',').filter(Boolean);
const kernels = names.map((n) => {
  const k = tf.getKernel(n, NATIVE_BACKEND);
  if (!k) throw new Error(`ab_kernels: no native kernel '${n}'`);
  return k;
});
if (kernels.length === 0) throw new Error('ab_kernels: name the kernels to leave out with --kernels A,B');
const model = arg('model', 'sasa_resnet26');
const bench = prepareModelBench({
  model,
  batch: Number(arg('batch', '8')),
  size: Number(arg('size', '224')),
  classes: 1000,
  train: true,
});
const steps = Number(arg('steps', '3'));
const time = () => {
  bench.step(); // the first step after a switch warms the other path
  const t: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    bench.step();
    t.push(performance.now() - t0);
  }
  return t.map((v) => v.toFixed(0)).join(' ');
};
console.log(`${model} train step, ms, ${steps} steps a side per round; without: ${names.join(', ')}`);
for (let r = 0; r < Number(arg('rounds', '3')); r++) {
  console.log(`  round ${r + 1} with:    ${time()}`);
  for (const k of kernels) tf.unregisterKernel(k.kernelName, NATIVE_BACKEND);
  console.log(`  round ${r + 1} without: ${time()}`);
  for (const k of kernels) tf.registerKernel(k);
}
bench.dispose();
