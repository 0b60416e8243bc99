/**
 * The batch-norm training kernels alone (SasaBatchNormTrain forward, SasaBatchNormTrainGrad) at
 * resnet26's activation shapes, beside an elementwise Add of the same size (a memory-bandwidth
 * yardstick): median of 20 runs after 5, in ms.
 *   SASA_NUM_THREADS=2 npx tsx bench/batch_norm_kernels.ts
 * A/B two builds with SASA_NATIVE_ADDON=<a copy of sasa_native.node>.
 */

import { initBackend } from '../src/backend/native.js';
import { batchNormTrain } from '../src/ops/batch_norm_train.js';
import { BATCH_NORM_TRAIN_GRAD } from '../src/ops/kernel_names.js';
import * as tf from '../src/tf.js';

await initBackend({ require: true });
const median = (f: () => void) => {
  for (let i = 0; i < 5; i++) f();
  const t: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[10];
};
for (const shape of [
  [8, 56, 56, 256],
  [8, 112, 112, 64],
  [8, 56, 56, 64],
  [8, 14, 14, 1024],
]) {
  const [x, dy] = [tf.randomNormal(shape), tf.randomNormal(shape)];
  const [gamma, beta] = [tf.ones([shape[3]]), tf.zeros([shape[3]])];
  const { mean, variance } = batchNormTrain(x, gamma, beta);
  const fwd = median(() => tf.tidy(() => void batchNormTrain(x, gamma, beta)));
  const bwd = median(() =>
    tf.tidy(
      () =>
        void tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy, x, mean, variance, gamma, beta }, { epsilon: 1e-5 }),
    ),
  );
  const add = median(() => tf.tidy(() => void tf.add(x, dy)));
  console.log(`[${shape}]: forward ${fwd.toFixed(2)} ms, backward ${bwd.toFixed(2)} ms, add ${add.toFixed(2)} ms`);
}
