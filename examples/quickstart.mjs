// sasa as a library: a small self-attention network trained for a few steps with model.fit on the embedded
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
const count = 8; // small, so the example is quick on tfjs's plain cpu backend too
const pixels = Float32Array.from(train.images.subarray(0, count * 28 * 28), (v) => v / 255);
const x = tf.tensor4d(pixels, [count, 28, 28, 1]);
const y = tf.oneHot(tf.tensor1d(train.labels.subarray(0, count), 'int32'), 10);

const model = createModel('sasa_resnet26_demo', {}, { seed: 0 }); // [B, 28, 28, 1] → logits [B, 10]
model.compile({
  optimizer: new SgdOptimizer(0.05), // Nesterov momentum 0.9, weight decay 1e-4
  loss: (labels, logits) => tf.losses.softmaxCrossEntropy(labels, logits),
});
const losses = [];
await model.fit(x, y, {
  batchSize: 4,
  epochs: 1,
  verbose: 0,
  callbacks: { onBatchEnd: async (_, logs) => void losses.push(logs.loss) },
});

const root = await mkdtemp(join(tmpdir(), 'sasa-quickstart-'));
const dir = join(root, 'model');
await model.save(`file://${dir}`);
const loaded = await loadLayersModel(`file://${dir}/model.json`);
const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(model.predict(x), loaded.predict(x)))).dataSync()[0]);
const predicted = tf.tidy(() => tf.argMax(loaded.predict(x), -1).arraySync());
console.log(
  `sasa quickstart on '${backend}': loss ${losses[0].toFixed(3)} → ${losses.at(-1).toFixed(3)} in ${losses.length} ` +
    `steps; saved with file://, reloaded (largest logit difference ${difference}), predicted [${predicted}] ` +
    `for labels [${Array.from(train.labels.subarray(0, count))}]`,
);
await rm(root, { recursive: true, force: true });
if (difference !== 0) process.exit(1);
