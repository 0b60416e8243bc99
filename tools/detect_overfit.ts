/**
 * The detection engineer's first check: train the demo detector on one fixed batch of the shapes training
 * split and watch the two losses fall; then print the ground truth and the top detections.
 *   npx tsx tools/detect_overfit.ts [--fpn conv|attention] [--batch 1] [--size 128] [--steps 30]
 *     [--lr 0.03] [--warmup 3] [--subnet-stddev S] [--optimizer sgd|adamw] [--overrides DETECTOR_JSON]
 * One line per step: the updates done so far, the classification and box losses of the weights then (the
 * step's own forward), mean ms per step. SGD as training does it
 * (momentum 0.9, weight decay 1e-4 off biases and BN, global norm clipped at 10), linear warm-up.
 */
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/native.js';
import { detectorConfig } from '../src/models/detection/registry.js';
import { makeDetectionStep } from '../src/tasks/detection/step.js';
import { shapesBatch } from './detection_batch.js';

const { values } = parseArgs({
  options: {
    fpn: { type: 'string', default: 'conv' },
    batch: { type: 'string', default: '1' },
    size: { type: 'string', default: '128' },
    steps: { type: 'string', default: '30' },
    lr: { type: 'string', default: '0.03' },
    warmup: { type: 'string', default: '3' },
    'subnet-stddev': { type: 'string' },
    optimizer: { type: 'string', default: 'sgd' },
    overrides: { type: 'string', default: '{}' },
  },
});
const [batch, size, steps, lr, warmup] = ['batch', 'size', 'steps', 'lr', 'warmup'].map((k) =>
  Number(values[k as keyof typeof values]),
);
const stddev = values['subnet-stddev'] === undefined ? {} : { subnetStddev: Number(values['subnet-stddev']) };

await initBackend();
if (values.optimizer !== 'sgd' && values.optimizer !== 'adamw') {
  throw new Error(`--optimizer must be sgd or adamw, got '${values.optimizer}'`);
}
const config = detectorConfig(values.fpn === 'attention' ? 'retinanet_demo_attnfpn' : 'retinanet_demo', {
  ...stddev,
  ...JSON.parse(values.overrides ?? '{}'),
});
const { net, batch: b, images, sizes, targets, imageSize } = await shapesBatch(config, batch, size);
const step = makeDetectionStep(net, { clipNorm: 10, optimizer: values.optimizer });
const started = performance.now();
for (let s = 0; s < steps; s++) {
  const l = step.run(images, targets, imageSize, lr * Math.min(1, (s + 1) / Math.max(1, warmup)));
  const ms = (performance.now() - started) / (s + 1);
  console.log(s, l.classification.toFixed(4), l.boxRegression.toFixed(4), `${ms.toFixed(0)} ms/step`);
}
const boxText = (boxes: Float32Array, j: number) =>
  Array.from(boxes.subarray(j * 4, j * 4 + 4), (v) => v.toFixed(0)).join(',');
for (const [i, d] of (await net.detect(images, sizes)).entries()) {
  b.labels[i].forEach((label, j) => {
    console.log(`image ${i} truth  ${boxText(b.boxes[i], j)} class ${label}`);
  });
  for (let j = 0; j < Math.min(10, d.scores.length); j++) {
    console.log(`image ${i} detect ${boxText(d.boxes, j)} class ${d.labels[j]} score ${d.scores[j].toFixed(3)}`);
  }
}
