/**
 * Where one step of a registered model spends its time (the numbers behind BENCHMARKS.md's model
 * profile):
 *   npx tsx bench/profile_model.ts [--model sasa_resnet26] [--batch 8] [--size 224] [--train] [--runs 2] [--no-profile] [--shapes]
 * 1. the whole step as `sasa bench model` times it (median of --runs after one warm-up);
 * 2. the stem layer alone on the same input: forward (training mode when --train) and, with
 *    --train, its backward w.r.t. its weights for a fixed dy — the rest is the difference;
 * 3. (unless --no-profile) tf.profile of one step: time per tfjs kernel, local-attention kernels
 *    split by the spatial size of their input (4x4 = the attention stem's blocks); with --shapes
 *    every kernel is split by its input shapes.
 */

import { initBackend } from '../src/backend/native.js';
import { prepareModelBench } from '../src/bench/cases.js';
import { median } from '../src/bench/timing.js';
import { modelConfig } from '../src/models/registry.js';
import * as tf from '../src/tf.js';
import { arg, flag } from './args.js';
import { printKernelTable } from './kernel_table.js';

await initBackend({ backend: arg('backend', 'native') });
const c = {
  model: arg('model', 'sasa_resnet26'),
  batch: Number(arg('batch', '8')),
  size: Number(arg('size', '224')),
  classes: Number(arg('classes', '1000')),
  train: flag('train'),
};
const runs = Number(arg('runs', '2'));
const time = (fn: () => void) => {
  fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
};

const bench = prepareModelBench(c);
const stepMs = time(bench.step);
const x = tf.randomNormal([c.batch, c.size, c.size, modelConfig(c.model).inputChannels ?? 3], 0, 1, 'float32', 1);
// The conv stem is several layers (stem.conv, stem.bn, stem.relu, stem.pool): run them in order.
const stemLayers = bench.model.layers.filter((l) => l.name === 'stem' || l.name.startsWith('stem.'));
const runStem = () => stemLayers.reduce((h, l) => l.apply(h, { training: c.train }) as tf.Tensor, x as tf.Tensor);
const out = tf.tidy(runStem);
const dy = tf.randomNormal(out.shape, 0, 1, 'float32', 3);
out.dispose();
const stemVars = stemLayers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
const stemMs = time(() =>
  tf.tidy(() => {
    if (!c.train) return tf.dispose(runStem());
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(runStem(), dy)) as tf.Scalar, stemVars);
    tf.dispose([value, ...Object.values(grads)]);
  }),
);
console.log(
  `${c.model} [${x.shape}] ${c.train ? 'train step' : 'inference'}: ${stepMs.toFixed(0)} ms; stem (${stemLayers.map((l) => l.name).join(', ')}) ${c.train ? 'forward + backward' : 'forward'} alone ${stemMs.toFixed(0)} ms (${((100 * stemMs) / stepMs).toFixed(0)} %); the rest ${(stepMs - stemMs).toFixed(0)} ms`,
);

if (!flag('no-profile')) {
  const profile = await tf.profile(bench.step);
  const label = (k: (typeof profile.kernels)[number]) => {
    if (/LocalAttention/i.test(k.name)) {
      const s = k.inputShapes[0] as number[];
      return `${k.name} ${s[1]}x${s[2]}`;
    }
    return flag('shapes') ? `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('')}` : k.name;
  };
  printKernelTable(profile, label, Number(arg('top', '20')), 32);
}
tf.dispose([x, dy]);
bench.dispose();
