/**
 * Whole-detector gradient check against central differences: for each trainable weight whose name matches
 * a pattern, the three entries with the largest autodiff gradient of the detector's loss (focal + box, one
 * seeded batch of the shapes training split) beside (L(w + ε) − L(w − ε)) / 2ε of the same loss, in float32.
 *   npx tsx tools/detect_grad_check.ts [--detector retinanet_demo] [--overrides JSON] [--match regression_head]
 *     [--batch 2] [--eps 1e-2]
 * e.g. the attention subnets under the conv pyramid:
 *   npx tsx tools/detect_grad_check.ts --overrides '{"heads":"attention","subnetStddev":0.177,"subnetDepth":1}'
 * Unlike tools/detect_backend_grads.ts (native kernels against the TypeScript ones), this checks the whole
 * composition (layers, shared subnets over five levels, losses) against the loss itself.
 */
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/native.js';
import { detectorConfig } from '../src/models/detection/registry.js';
import { valueAndGrads } from '../src/ops/value_and_grads.js';
import * as tf from '../src/tf.js';
import { shapesBatch } from './detection_batch.js';

const { values } = parseArgs({
  options: {
    detector: { type: 'string', default: 'retinanet_demo' },
    overrides: { type: 'string', default: '{}' },
    match: { type: 'string', default: 'regression_head' },
    batch: { type: 'string', default: '2' },
    eps: { type: 'string', default: '1e-2' },
  },
});
const eps = Number(values.eps);

await initBackend();
const config = detectorConfig(values.detector, JSON.parse(values.overrides));
const { net, images, targets, imageSize } = await shapesBatch(config, Number(values.batch), 256);

/** The training loss (batch norms on batch statistics) at the current weights. */
const loss = () => {
  const l = net.computeLoss(net.forward(images, true), targets, imageSize);
  return tf.add(l.classification, l.boxRegression) as tf.Scalar;
};
/** The loss with entry j of weight w moved by d (w restored after). */
function lossMoved(w: tf.LayerVariable, original: Float32Array, j: number, d: number): number {
  const moved = original.slice();
  moved[j] += d;
  w.write(tf.tensor(moved, w.shape as number[]));
  const value = tf.tidy(() => loss().dataSync()[0]);
  w.write(tf.tensor(original, w.shape as number[]));
  return value;
}

const trainable = net.model.trainableWeights;
const { grads } = valueAndGrads(
  loss,
  trainable.map((w) => w.read()),
);
const pattern = new RegExp(values.match);
// the loss is float32: a difference quotient moves in steps of q = ulp(L) / 2ε, so each entry's difference is
// judged against |g| + 4q
const lossValue = Math.abs(tf.tidy(() => loss().dataSync()[0]));
const quantum = 2 ** (Math.floor(Math.log2(lossValue)) - 23) / (2 * eps);
let worst = 0;
for (const [i, w] of trainable.entries()) {
  if (!pattern.test(w.name)) continue;
  const g = grads[i].dataSync();
  const largest = Array.from(g.keys())
    .sort((a, c) => Math.abs(g[c]) - Math.abs(g[a]))
    .slice(0, 3);
  const original = w.read().dataSync() as Float32Array;
  const cells = largest.map((j) => {
    const fd = (lossMoved(w, original, j, eps) - lossMoved(w, original, j, -eps)) / (2 * eps);
    const difference = Math.abs(fd - g[j]) / (Math.abs(g[j]) + 4 * quantum);
    worst = Math.max(worst, difference);
    return `${g[j].toExponential(3)} / ${fd.toExponential(3)}${difference > 0.05 ? ' (!)' : ''}`;
  });
  console.log(`${w.name.padEnd(52)} ${cells.join('  ')}`);
}
console.log(
  `autodiff / central difference; largest |difference| / (|gradient| + 4 × ${quantum.toExponential(1)}, the quotient's step): ${worst.toExponential(2)}`,
);
