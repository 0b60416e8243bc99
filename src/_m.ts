import * as tf from '@tensorflow/tfjs';
import { createModel, initBackend } from './index.js';
import { makeTrainStep } from './tasks/classification/step.js';

await initBackend();
const o = {
  widthMultiplier: 0.25,
  blocks: [1, 1, 1, 1],
  inputSize: 28,
  inputChannels: 1,
  classes: 10,
  stem: { type: 'small_conv' as const, width: 32 },
};
const m = createModel('resnet26', o, { seed: 1 });
const step = makeTrainStep(m);
const x = tf.randomNormal([64, 28, 28, 1]) as tf.Tensor4D;
const y = tf.tensor1d(
  Array.from({ length: 64 }, (_, i) => i % 10),
  'int32',
);
step.run(x, y, 0.1);
const t = performance.now();
for (let i = 0; i < 3; i++) step.run(x, y, 0.1);
console.log('threads', process.env.SASA_NUM_THREADS, ((performance.now() - t) / 3).toFixed(0), 'ms/step');
