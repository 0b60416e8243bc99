/**
 * The attention layers' projections as one product x·[W_Q|W_K|W_V] against three x·W products, at
 * sasa_resnet26's layer shapes (M pixels, C channels in and out), forward, input gradient (three
 * products and two adds against one) and weight gradient; mean of 10 after 3 warm-ups:
 *   npx tsx bench/qkv_products.ts
 */

import { initBackend } from '../src/backend/native.js';
import * as tf from '../src/tf.js';

await initBackend({ backend: 'native', require: true });
const time = (f: () => void, n = 10) => {
  for (let i = 0; i < 3; i++) f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return ((performance.now() - t0) / n).toFixed(2);
};
const run = (f: () => tf.Tensor | tf.Tensor[]) => time(() => tf.dispose(tf.tidy(f)));
for (const [m, c] of [
  [25088, 64],
  [25088, 128],
  [6272, 256],
  [1568, 512],
]) {
  const [x, w, w3, d, d3] = [
    [m, c],
    [c, c],
    [c, 3 * c],
    [m, c],
    [m, 3 * c],
  ].map((s, i) => tf.randomNormal(s, 0, 1, 'float32', i));
  const three = run(() => [tf.matMul(x, w), tf.matMul(x, w), tf.matMul(x, w)]);
  const one = run(() => tf.matMul(x, w3));
  const dxT = () => tf.matMul(d, w, false, true);
  const dxThree = run(() => tf.add(tf.add(dxT(), dxT()), dxT()));
  const dxOne = run(() => tf.matMul(d3, w3, false, true));
  const dwT = () => tf.matMul(x, d, true, false);
  const dwThree = run(() => [dwT(), dwT(), dwT()]);
  const dwOne = run(() => tf.matMul(x, d3, true, false));
  console.log(
    `[${m},${c}] -> 3x${c}: forward ${three} vs ${one} ms; dx ${dxThree} vs ${dxOne}; dW ${dwThree} vs ${dwOne} (three products vs one)`,
  );
  tf.dispose([x, w, w3, d, d3]);
}
