/**
 * The attention stem's attention at sasa_resnet26's shape (batch 8, 224²: 25 088 blocks of 4×4
 * pixels, 3 → 64 channels, 4 heads, relative logits, a value matrix per position), fused native
 * kernels against the composition they replace (three projections + localAttention2d), forward
 * and backward w.r.t. the weights, alternating, in one process:
 *   npx tsx bench/attention_stem.ts [--batch 8] [--rounds 5]
 * Prints the min and median kernel-side time of each (tf.profile per step) and of the whole step.
 */

import { initBackend } from '../src/backend/native.js';
import { stemAttention, stemAttentionReference } from '../src/ops/attention_stem.js';
import * as tf from '../src/tf.js';
import { arg } from './args.js';

await initBackend({ backend: 'native', require: true });
const blocks = (Number(arg('batch', '8')) * 224 * 224) / 16;
const rounds = Number(arg('rounds', '5'));
const x = tf.randomNormal([blocks, 4, 4, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
const weights = [
  tf.variable(tf.randomNormal([3, 64], 0, 0.5, 'float32', 2)),
  tf.variable(tf.randomNormal([3, 64], 0, 0.5, 'float32', 3)),
  tf.variable(tf.randomNormal([16, 3, 64], 0, 0.5, 'float32', 4)),
  tf.variable(tf.randomNormal([7, 32], 0, 0.2, 'float32', 5)),
  tf.variable(tf.randomNormal([7, 32], 0, 0.2, 'float32', 6)),
];
const dy = tf.randomNormal([blocks, 4, 4, 64], 0, 1, 'float32', 7);
type Op = typeof stemAttention;
const step = (op: Op) => () =>
  tf.tidy(() => {
    const [wq, wk, wv, relRow, relCol] = weights;
    const { grads } = tf.variableGrads(() =>
      tf.sum(
        tf.mul(
          op(x, wq as tf.Tensor2D, wk as tf.Tensor2D, wv as tf.Tensor3D, relRow as tf.Tensor2D, relCol as tf.Tensor2D, {
            heads: 4,
          }),
          dy,
        ),
      ),
    );
    tf.dispose(Object.values(grads));
  });
const cases = { fused: step(stemAttention), composed: step(stemAttentionReference) };
const times: Record<string, number[]> = { fused: [], composed: [] };
for (const f of Object.values(cases)) f();
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of Object.entries(cases)) {
    const t0 = performance.now();
    f();
    times[name].push(performance.now() - t0);
  }
}
const stat = (a: number[]) => {
  const s = [...a].sort((u, v) => u - v);
  return `min ${s[0].toFixed(1)} ms, median ${s[s.length >> 1].toFixed(1)} ms`;
};
const fusedProfile = await tf.profile(cases.fused);
const byName = (n: string) => fusedProfile.kernels.filter((k) => k.name === n).map((k) => k.kernelTimeMs as number);
console.log(
  `stem attention, ${blocks} blocks of 4x4, 3 -> 64 channels, forward + backward (weights), ${rounds} rounds:`,
);
console.log(`  fused    (stemAttention):           ${stat(times.fused)}`);
console.log(`  composed (stemAttentionReference):  ${stat(times.composed)}`);
console.log(
  `  fused kernels in one profiled step: forward ${byName('SasaStemAttention')[0]?.toFixed(1)} ms, backward ${byName('SasaStemAttentionGrad')[0]?.toFixed(1)} ms`,
);
