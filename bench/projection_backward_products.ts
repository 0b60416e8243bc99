/**
 * The attention layer's two projection backward products alone, as the layer runs them after the op's
 * backward: dx = dqkv·Wᵀ and dW = xᵀ·dqkv with x [M, C], W [C, 3C], dqkv [M, 3C]; median CPU ms (user +
 * system, all threads) of 9 samples of 5 calls, after 3 warm-ups:
 *   MC=25088,64 npx tsx bench/projection_backward_products.ts     # [8,56,56,64]; MC=6272,128 for [8,28,28,128]
 * With bench/attention_kernel_calls.ts --only bwd it gives the unfused side of the fused-projection
 * experiment in BENCHMARKS.md (op backward + these products).
 */
import { initBackend } from '../src/backend/native.js';
import * as tf from '../src/tf.js';

await initBackend({ backend: 'native', require: true });
const [m, c] = (process.env.MC ?? '25088,64').split(',').map(Number);
const [x, w, d] = [
  [m, c],
  [c, 3 * c],
  [m, 3 * c],
].map((s, i) => tf.randomNormal(s, 0, 1, 'float32', i));
const products = () => tf.dispose([tf.matMul(d, w, false, true), tf.matMul(x, d, true, false)]);
for (let i = 0; i < 3; i++) products();
const cpu: number[] = [];
for (let i = 0; i < 9; i++) {
  const c0 = process.cpuUsage();
  for (let j = 0; j < 5; j++) products();
  const used = process.cpuUsage(c0);
  cpu.push((used.user + used.system) / 5000);
}
cpu.sort((a, b) => a - b);
console.log(`dx + dW products [${m},${3 * c}]: CPU ms median ${cpu[4].toFixed(2)} (min ${cpu[0].toFixed(2)})`);
