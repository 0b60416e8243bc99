/**
 * The attention stem's training path at sasa_resnet26's shape (batch 8, 224²: 25 088 blocks of 4×4 pixels,
 * 3 → 64 channels, 4 heads, relative logits, a value matrix per position): stemAttentionBlockMax (the
 * attention, its batch norm and the block max in one kernel each way) against the two ops it replaces
 * (stemAttention, then batchNormBlockMax), forward alone and forward + backward w.r.t. the weights,
 * alternating per call in one process:
 *   [SASA_NUM_THREADS=1] npx tsx bench/stem_block_max.ts [--batch 8] [--rounds 9]
 * Prints per path the median over the rounds (the first dropped) of the wall time and of the kernels'
 * time (tf.profile).
 */

import { initBackend } from '../src/backend/native.js';
import { median } from '../src/bench/timing.js';
import { stemAttention } from '../src/ops/attention_stem.js';
import { stemAttentionBlockMax } from '../src/ops/attention_stem_block_max.js';
import { batchNormBlockMax } from '../src/ops/batch_norm_train.js';
import * as tf from '../src/tf.js';
import { arg } from './args.js';

await initBackend({ backend: 'native', require: true });
const blocks = (Number(arg('batch', '8')) * 224 * 224) / 16;
const rounds = Number(arg('rounds', '9'));
const random = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);
const x = random([blocks, 4, 4, 3], 1) as tf.Tensor4D;
const [wq, wk, wv, relRow, relCol, gamma, beta] = [
  random([3, 64], 2),
  random([3, 64], 3),
  random([16, 3, 64], 4),
  random([7, 32], 5),
  random([7, 32], 6),
  tf.ones([64]),
  tf.zeros([64]),
].map((t) => tf.variable(t)) as [
  tf.Variable<tf.Rank.R2>,
  tf.Variable<tf.Rank.R2>,
  tf.Variable<tf.Rank.R3>,
  tf.Variable<tf.Rank.R2>,
  tf.Variable<tf.Rank.R2>,
  tf.Variable<tf.Rank.R1>,
  tf.Variable<tf.Rank.R1>,
];
const dOut = random([blocks, 1, 1, 64], 9);
const paths: Record<string, () => tf.Tensor> = {
  fused: () => stemAttentionBlockMax(x, wq, wk, wv, relRow, relCol, gamma, beta, { heads: 4 }).y,
  unfused: () => batchNormBlockMax(stemAttention(x, wq, wk, wv, relRow, relCol, { heads: 4 }), gamma, beta).y,
};

const times: Record<string, number[]> = {};
const record = (key: string, ms: number) => {
  times[key] ??= [];
  times[key].push(ms);
};

/** One call of `path`, forward alone or with the weights' gradients, timed whole and by its stem kernels. */
async function call(path: string, train: boolean): Promise<void> {
  const f = paths[path];
  const start = performance.now();
  const profile = await tf.profile(() => {
    if (!train) return void tf.tidy(() => void f().dataSync());
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(f(), dOut)));
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  });
  const label = `${path} ${train ? 'forward + backward' : 'forward'}`;
  record(`${label}, wall`, performance.now() - start);
  const kernels = profile.kernels.filter((k) => /Stem|BlockMax/.test(k.name));
  record(
    `${label}, kernels`,
    kernels.reduce((s, k) => s + (k.kernelTimeMs as number), 0),
  );
}

for (let round = 0; round < rounds; round++) {
  for (const train of [false, true]) for (const path of Object.keys(paths)) await call(path, train);
}
console.log(`stem training path, ${blocks} blocks of 4×4, ${rounds - 1} rounds (median ms):`);
for (const [key, values] of Object.entries(times))
  console.log(`  ${key.padEnd(36)} ${median(values.slice(1)).toFixed(1)}`);
