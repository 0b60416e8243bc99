/**
 * How far an attention detector's attention layers are from a uniform window average: per layer, at a grid
 * of P3 pixels of two validation images, the mean largest weight (uniform: 1/k²) and the mean entropy over
 * log k² (uniform: 1), with the std of the layer's input; for a saved detector and for a fresh demo one.
 *   npx tsx tools/attention_sharpness.ts [MODEL_DIR]
 */
import { initBackend } from '../src/backend/native.js';
import { detectionBatches } from '../src/data/detection/batches.js';
import { openDetectionData, parseDetectionSpec } from '../src/data/detection/spec.js';
import type { LocalSelfAttention2D } from '../src/layers/local_self_attention.js';
import { buildDetector } from '../src/models/detection/builder.js';
import { detectorConfig } from '../src/models/detection/registry.js';
import type { QueryPixel } from '../src/ops/local_attention/weights.js';
import { batchImages } from '../src/tasks/detection/evaluate_set.js';
import { loadDetector } from '../src/tasks/detection/saved_detector.js';
import * as tf from '../src/tf.js';

const LAYERS = [
  'fpn.layer_blocks.0',
  'head.classification_head.conv.0',
  'head.classification_head.conv.1',
  'head.classification_head.attention',
  'head.regression_head.conv.0',
  'head.regression_head.conv.1',
  'head.regression_head.attention',
];

/** A 5 × 5 grid of P3 pixels (32 × 32 at 256 px) in each of two images. */
const PIXELS: QueryPixel[] = [0, 1].flatMap((b) =>
  [4, 10, 16, 22, 28].flatMap((i) => [4, 10, 16, 22, 28].map((j): QueryPixel => [b, i, j])),
);

/** Mean largest weight and mean entropy / log(k²) of weights w [P, heads, k, k]. */
function sharpness(w: tf.Tensor4D): { maxWeight: number; entropy: number } {
  return tf.tidy(() => {
    const [p, heads, k] = w.shape;
    const flat = tf.reshape(w, [p * heads, k * k]);
    const maxWeight = tf.mean(tf.max(flat, 1)).dataSync()[0];
    const nats = tf.mean(tf.neg(tf.sum(tf.mul(flat, tf.log(tf.add(flat, 1e-12))), 1))).dataSync()[0];
    return { maxWeight, entropy: nats / Math.log(k * k) };
  });
}

function report(label: string, model: tf.LayersModel, images: tf.Tensor4D): void {
  console.log(label);
  const layers = LAYERS.map((name) => model.getLayer(name) as LocalSelfAttention2D);
  const inputs = layers.map((l) => l.getInputAt(0) as tf.SymbolicTensor);
  const unique = [...new Set(inputs)];
  const values = tf.model({ inputs: model.inputs, outputs: unique }).predictOnBatch(images) as tf.Tensor4D[];
  for (const [i, layer] of layers.entries()) {
    const x = values[unique.indexOf(inputs[i])];
    const w = layer.attentionWeights(x, PIXELS);
    const { maxWeight, entropy } = sharpness(w);
    const std = tf.tidy(() => Math.sqrt(tf.moments(x).variance.dataSync()[0]));
    const uniform = 1 / (w.shape[2] * w.shape[3]);
    console.log(
      `  ${LAYERS[i].padEnd(36)} input std ${std.toFixed(3)}  mean max weight ${maxWeight.toFixed(3)} (uniform ${uniform.toFixed(3)})  entropy/log(k²) ${entropy.toFixed(3)}`,
    );
    w.dispose();
  }
}

await initBackend();
const data = await openDetectionData(parseDetectionSpec('shapes'), { seed: 0 });
const batches = detectionBatches(data.validation, { batchSize: 2, shorterSide: 256, maxSize: 256, augment: false });
const batch = (await batches[Symbol.asyncIterator]().next()).value;
if (!batch) throw new Error('the shapes validation split gave no batch');
const { images } = batchImages(batch);
const modelDir = process.argv[2];
if (modelDir) report(`trained ${modelDir}`, (await loadDetector(modelDir)).model, images);
report(
  'initial retinanet_demo_attnfpn (seed 0)',
  buildDetector(detectorConfig('retinanet_demo_attnfpn'), { seed: 0 }),
  images,
);
