/**
 * Inference time of the exported ONNX graph in ONNX Runtime (onnxruntime-node, CPU provider) against
 * the same model on our native backend, in one sitting, with the graph's size:
 *   npx tsx bench/onnx_inference.ts [--models resnet26,sasa_resnet26_convstem,sasa_resnet26]
 *     [--batches 1,8] [--size 224] [--runs 3] [--warmup 1]
 * Random (seeded) weights; both sides run the same fixed images. Median of `runs` after `warmup`.
 */

import * as ort from 'onnxruntime-node';
import { initBackend } from '../src/backend/native.js';
import { median } from '../src/bench/timing.js';
import { exportOnnx } from '../src/io/onnx/export.js';
import { createModel } from '../src/models/registry.js';
import * as tf from '../src/tf.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const models = arg('models', 'resnet26,sasa_resnet26_convstem,sasa_resnet26').split(',');
const batches = arg('batches', '1,8').split(',').map(Number);
const size = Number(arg('size', '224'));
const runs = Number(arg('runs', '3'));
const warmup = Number(arg('warmup', '1'));

const status = await initBackend({ backend: 'native' });
console.error(`backend ${status.backend}; ONNX Runtime ${ort.env.versions.common}`);

async function timeAsync(fn: () => Promise<void>): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

console.log('| model | batch | ONNX Runtime ms | sasa native ms | ONNX / native | graph bytes |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const name of models) {
  const model = createModel(name, { inputSize: size }, { seed: 1 });
  const bytes = exportOnnx(model);
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  const channels = model.inputs[0].shape[3] as number;
  for (const batch of batches) {
    const data = Float32Array.from({ length: batch * size * size * channels }, (_, i) => Math.sin(i));
    const image = new ort.Tensor('float32', data, [batch, size, size, channels]);
    const x = tf.tensor4d(data, [batch, size, size, channels]);
    const onnxMs = await timeAsync(async () => {
      await session.run({ image });
    });
    const nativeMs = await timeAsync(async () => {
      const y = model.predict(x) as tf.Tensor;
      await y.data();
      y.dispose();
    });
    x.dispose();
    const ratio = (onnxMs / nativeMs).toFixed(2);
    console.log(`| ${name} | ${batch} | ${onnxMs.toFixed(0)} | ${nativeMs.toFixed(0)} | ${ratio} | ${bytes.length} |`);
  }
  await session.release();
  model.dispose();
}
