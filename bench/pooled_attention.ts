/**
 * The fused pooled attention op against the two ops it replaces, in one process, alternating: forward + backward
 * (gradients of qkv and the tables for a fixed dy) of localAttention2dPackedPooled(qkv) and of
 * avgPool(localAttention2dPacked(qkv), 2, 2), k 7, 8 heads, at the inputs of sasa_resnet26's stride-2 blocks;
 * wall and CPU ms (user + system, all threads), median of the runs, one line per shape, form and round:
 *   npx tsx bench/pooled_attention.ts [--shapes 8,56,56,128;8,28,28,256;8,14,14,512] [--rounds 3] [--runs 5]
 */

import { initBackend } from '../src/backend/native.js';
import { timeRuns } from '../src/bench/timing.js';
import { avgPool } from '../src/ops/avg_pool.js';
import { localAttention2dPacked, localAttention2dPackedPooled } from '../src/ops/local_attention/packed.js';
import * as tf from '../src/tf.js';
import { arg } from './args.js';

await initBackend({ backend: 'native', require: true });
const shapes = arg('shapes', '8,56,56,128;8,28,28,256;8,14,14,512')
  .split(';')
  .map((s) => s.split(',').map(Number) as [number, number, number, number]);
const runs = Number(arg('runs', '5'));
const rounds = Number(arg('rounds', '3'));
const options = { kernelSize: 7, heads: 8 };

type Attention = (qkv: tf.Tensor4D, relRow: tf.Tensor2D, relCol: tf.Tensor2D) => tf.Tensor;
const FORMS: Record<string, Attention> = {
  fused: (qkv, rr, rc) => localAttention2dPackedPooled(qkv, rr, rc, options),
  apart: (qkv, rr, rc) => avgPool(localAttention2dPacked(qkv, rr, rc, options), 2, 2, 'same'),
};

function time(shape: [number, number, number, number], attention: Attention): { wall: number; cpu: number } {
  const [b, h, w, c] = shape;
  const qkv = tf.randomNormal([b, h, w, 3 * c], 0, 1, 'float32', 1) as tf.Tensor4D;
  const tables = [tf.randomNormal([7, c / 2], 0, 0.1, 'float32', 2), tf.randomNormal([7, c / 2], 0, 0.1, 'float32', 4)];
  const dy = tf.randomNormal([b, h / 2, w / 2, c], 0, 1, 'float32', 3);
  const step = () => {
    const f = (x: tf.Tensor, rr: tf.Tensor, rc: tf.Tensor) =>
      attention(x as tf.Tensor4D, rr as tf.Tensor2D, rc as tf.Tensor2D);
    const { value, grads } = tf.engine().gradients(() => f(qkv, tables[0], tables[1]), [qkv, ...tables], dy);
    tf.dispose([value, ...grads]);
  };
  const timing = timeRuns(step, { runs, warmup: 1 });
  tf.dispose([qkv, ...tables, dy]);
  return { wall: timing.median_ms, cpu: timing.cpu_ms };
}

for (let r = 1; r <= rounds; r++) {
  for (const shape of shapes) {
    for (const [form, attention] of Object.entries(FORMS)) {
      const t = time(shape, attention);
      console.log(JSON.stringify({ round: r, shape, form, wall_ms: +t.wall.toFixed(1), cpu_ms: +t.cpu.toFixed(1) }));
    }
  }
}
