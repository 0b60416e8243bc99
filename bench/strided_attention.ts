/**
 * The stride-2 LocalSelfAttention2D layer (k 7, 8 heads, d_out = d_in = C, projections and the 2×2 average pool
 * included) forward + backward at the shapes of sasa_resnet26's stride-2 blocks, wall and CPU ms (user + system,
 * all threads), median of the runs, one line per shape and round:
 *   npx tsx bench/strided_attention.ts [--shapes 8,56,56,128;8,28,28,256;8,14,14,512] [--rounds 2] [--runs 5]
 * Uses only the layer's public API, so an A/B can run the same file in two checkouts alternately.
 */

import { initBackend } from '../src/backend/native.js';
import { timeRuns } from '../src/bench/timing.js';
import { LocalSelfAttention2D } from '../src/layers/local_self_attention.js';
import * as tf from '../src/tf.js';
import { arg } from './args.js';

await initBackend({ backend: 'native' });
const shapes = arg('shapes', '8,56,56,128;8,28,28,256;8,14,14,512')
  .split(';')
  .map((s) => s.split(',').map(Number) as [number, number, number, number]);
const runs = Number(arg('runs', '5'));
const rounds = Number(arg('rounds', '2'));

function time(shape: [number, number, number, number]): { wall: number; cpu: number } {
  const [b, h, w, c] = shape;
  const layer = new LocalSelfAttention2D({ filters: c, kernelSize: 7, heads: 8, strides: 2 });
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
  const dy = tf.randomNormal([b, h / 2, w / 2, c], 0, 1, 'float32', 3);
  tf.dispose(layer.apply(x) as tf.Tensor);
  const weights = layer.trainableWeights.map((v) => v.read());
  const step = () => {
    const { value, grads } = tf.engine().gradients(() => layer.apply(x) as tf.Tensor, [x, ...weights], dy);
    tf.dispose([value, ...grads]);
  };
  const timing = timeRuns(step, { runs, warmup: 1 });
  tf.dispose([x, dy]);
  layer.dispose();
  return { wall: timing.median_ms, cpu: timing.cpu_ms };
}

for (let r = 1; r <= rounds; r++) {
  for (const shape of shapes) {
    const t = time(shape);
    console.log(JSON.stringify({ round: r, shape, wall_ms: +t.wall.toFixed(1), cpu_ms: +t.cpu.toFixed(1) }));
  }
}
