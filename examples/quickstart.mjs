// sasa as a library: a small self-attention network trained for a few epochs with model.fit on the embedded
// Fashion-MNIST subset, saved with file://, loaded back with tfjs, asked for predictions.
// Run: node examples/quickstart.mjs
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { createModel, initBackend, loadData, parseDataSpec, SgdOptimizer } from 'sasa';

const { backend } = await initBackend(); // 'native' (oneDNN addon) when it loads, else tfjs's 'cpu'
const { train } = await loadData(parseDataSpec('fashion-mnist-subset'));
const count = 16;
const pixels = Float32Array.from(train.images.subarray(0, count * 28 * 28), (v) => v / 255);
const x = tf.tensor4d(pixels, [count, 28, 28, 1]);
const y = tf.oneHot(tf.tensor1d(train.labels.subarray(0, count), 'int32'), 10);

const model = createModel('sasa_resnet26_demo', {}, { seed: 0 }); // [B, 28, 28, 1] → logits [B, 10]
model.compile({
  optimizer: new SgdOptimizer(0.05), // Nesterov momentum 0.9, weight decay 1e-4
  loss: (labels, logits) => tf.losses.softmaxCrossEntropy(labels, logits),
});
// 80 steps take seconds natively; tfjs's pure-JS cpu backend is ~100× slower, so it only shows the API.
const epochs = backend === 'native' ? 40 : 1;
const epochLosses = []; // the mean training loss of each pass over the 16 images
await model.fit(x, y, {
  batchSize: 8,
  epochs,
  shuffle: false,
  verbose: 0,
  callbacks: { onEpochEnd: async (_, logs) => void epochLosses.push(logs.loss) },
});

const root = await mkdtemp(join(tmpdir(), 'sasa-quickstart-'));
const dir = join(root, 'model');
await model.save(`file://${dir}`);
const loaded = await loadLayersModel(`file://${dir}/model.json`);
const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(model.predict(x), loaded.predict(x)))).dataSync()[0]);
const predicted = tf.tidy(() => tf.argMax(loaded.predict(x), -1).arraySync());
const labels = Array.from(train.labels.subarray(0, count));
const right = predicted.filter((label, i) => label === labels[i]).length;
console.log(
  `sasa quickstart on '${backend}': training loss ${epochLosses[0].toFixed(3)} → ${epochLosses.at(-1).toFixed(3)} ` +
    `in ${(epochs * count) / 8} steps; saved with file://, reloaded (largest logit difference ${difference}); ` +
    `the reloaded model labels ${right} of the ${count} training images right`,
);
await rm(root, { recursive: true, force: true });
if (difference !== 0) process.exit(1);
