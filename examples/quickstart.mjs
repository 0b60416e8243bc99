// sasa as a library: a small self-attention network trained for a few steps on the embedded
// Fashion-MNIST subset, saved, loaded back, and asked for predictions. Run: node examples/quickstart.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  batches,
  channelStats,
  createModel,
  initBackend,
  loadData,
  loadModelFiles,
  makeTrainStep,
  parseDataSpec,
  saveModelFiles,
} from 'sasa';

const STEPS = 2;
const { backend } = await initBackend(); // 'native' when the addon is built, else tfjs's 'cpu'
const data = await loadData(parseDataSpec('fashion-mnist-subset')); // 28×28 grey images, 10 classes
const { mean, std } = channelStats(data.train);
const toTensors = (b) => [tf.tensor4d(b.x, [b.size, 28, 28, 1]), tf.tensor1d(b.y, 'int32')];

const model = createModel('sasa_resnet26_demo', {}, { seed: 1 }); // attention stem + blocks, 4 heads of k 7
const step = makeTrainStep(model); // Nesterov SGD, weight decay 1e-4
const losses = [];
for (const batch of batches(data.train, { batchSize: 4, seed: 1, augment: true, mean, std })) {
  const [x, y] = toTensors(batch);
  losses.push(step.run(x, y, 0.05)); // x [4, 28, 28, 1], y [4]; the loss before the update
  tf.dispose([x, y]);
  if (losses.length === STEPS) break;
}

const dir = mkdtempSync(join(tmpdir(), 'sasa-quickstart-'));
await saveModelFiles(model, join(dir, 'model'), { classNames: data.classNames });
const { model: loaded, metadata } = await loadModelFiles(join(dir, 'model'));
const [test] = batches(data.test, { batchSize: 4, shuffle: false, mean, std });
const [x] = toTensors(test);
const same = tf.tidy(() => tf.max(tf.abs(tf.sub(model.predict(x), loaded.predict(x)))).dataSync()[0]);
const predicted = tf.tidy(() => Array.from(tf.argMax(loaded.predict(x), 1).dataSync()));
rmSync(dir, { recursive: true });

console.log(
  `sasa quickstart on '${backend}': loss ${losses[0].toFixed(3)} -> ${losses.at(-1).toFixed(3)} in ${STEPS} steps; ` +
    `saved and reloaded (largest logit difference ${same}); first test images: ` +
    predicted
      .slice(0, 4)
      .map((c) => metadata.classNames[c])
      .join(', '),
);
if (same !== 0) process.exit(1);
