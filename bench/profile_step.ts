/**
 * Profiles one training step of a small ResNet-style network (conv stem, bottleneck blocks,
 * global pool, dense, softmax cross-entropy, SGD with momentum) and prints the time per tfjs
 * kernel, to see which kernels are worth a native implementation.
 *   npx tsx bench/profile_step.ts [--backend native|cpu] [--batch 8] [--size 56]
 */

import { initBackend } from '../src/backend/native.js';
import { batchNormTrain } from '../src/ops/batch_norm_train.js';
import * as tf from '../src/tf.js';
import { arg } from './args.js';

await initBackend({ backend: arg('backend', 'native') });
const batch = Number(arg('batch', '8'));
const size = Number(arg('size', '56'));

const vars: tf.Variable[] = [];
const v = (shape: number[], scale = 0.05) => {
  const t = tf.variable(tf.randomNormal(shape, 0, scale));
  vars.push(t);
  return t;
};
const bn = (c: number) => {
  const g = tf.variable(tf.ones([c]));
  vars.push(g);
  return { g, b: v([c], 0) };
};
function convBn(x: tf.Tensor4D, w: tf.Variable, norm: { g: tf.Tensor; b: tf.Tensor }, stride = 1, relu = true) {
  const y = tf.conv2d(x, w as tf.Tensor4D, stride, 'same');
  const n = batchNormTrain(y, norm.g, norm.b).y as tf.Tensor4D;
  return relu ? tf.relu(n) : n;
}
interface Block {
  w1: tf.Variable;
  w2: tf.Variable;
  w3: tf.Variable;
  n1: ReturnType<typeof bn>;
  n2: ReturnType<typeof bn>;
  n3: ReturnType<typeof bn>;
  proj?: tf.Variable;
  np?: ReturnType<typeof bn>;
  stride: number;
}
function block(cin: number, width: number, stride: number): Block {
  const cout = width * 4;
  const b: Block = {
    w1: v([1, 1, cin, width]),
    n1: bn(width),
    w2: v([3, 3, width, width]),
    n2: bn(width),
    w3: v([1, 1, width, cout]),
    n3: bn(cout),
    stride,
  };
  if (stride !== 1 || cin !== cout) {
    b.proj = v([1, 1, cin, cout]);
    b.np = bn(cout);
  }
  return b;
}
const blocks = [block(64, 64, 1), block(256, 64, 1), block(256, 128, 2), block(512, 128, 1)];
const fc = v([512, 10]);
const fcb = v([10], 0);
const x = tf.randomNormal([batch, size, size, 64]) as tf.Tensor4D;
const labels = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32') as tf.Tensor1D, 10);
const opt = tf.train.momentum(0.01, 0.9, true);

function loss(): tf.Scalar {
  let h = x;
  for (const b of blocks) {
    const a = convBn(h, b.w1, b.n1);
    const c = convBn(a, b.w2, b.n2, b.stride);
    const d = convBn(c, b.w3, b.n3, 1, false);
    const s = b.proj && b.np ? convBn(h, b.proj, b.np, b.stride, false) : h;
    h = tf.relu(tf.add(d, s));
  }
  const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
  const logits = tf.add(tf.matMul(pooled, fc), fcb);
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
}
const step = () => tf.tidy(() => opt.minimize(loss, false, vars));
step();
step();
const t0 = performance.now();
step();
console.log(`one step: ${(performance.now() - t0).toFixed(1)} ms on ${tf.getBackend()}`);
const profile = await tf.profile(step);
const byKernel = new Map<string, { ms: number; n: number }>();
for (const k of profile.kernels) {
  const e = byKernel.get(k.name) ?? { ms: 0, n: 0 };
  e.ms += k.kernelTimeMs as number;
  e.n++;
  byKernel.set(k.name, e);
}
const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
console.log(`kernel time: ${total.toFixed(1)} ms in ${profile.kernels.length} kernel calls`);
for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(
    `${name.padEnd(28)} ${e.ms.toFixed(2).padStart(9)} ms ${String(e.n).padStart(5)} calls ${((100 * e.ms) / total).toFixed(1).padStart(5)} %`,
  );
}
if (process.env.PROFILE_DETAIL) {
  for (const k of profile.kernels.filter((k) => k.name === process.env.PROFILE_DETAIL)) {
    console.log(k.name, (k.kernelTimeMs as number).toFixed(2), JSON.stringify(k.inputShapes));
  }
}
