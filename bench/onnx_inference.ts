/**
 * Inference time of the exported ONNX graph in ONNX Runtime (onnxruntime-node, CPU provider) against
 * the same model on our native backend, in one sitting, with the graph's size, the export's time and
 * the largest logit difference between the two (the full-size check of the export):
 *   npx tsx bench/onnx_inference.ts [--models resnet26,sasa_resnet26_convstem,sasa_resnet26]
 *     [--batches 1,8] [--size 224] [--runs 3] [--warmup 1]
 * Random (seeded) weights; both sides run the same fixed images. Median of `runs` after `warmup`, wall
 * time and the process's CPU time.
 */

import * as ort from 'onnxruntime-node';
import { initBackend } from '../src/backend/native.js';
import { median } from '../src/bench/timing.js';
import { exportOnnx } from '../src/io/onnx/export.js';
import { createModel } from '../src/models/registry.js';
import * as tf from '../src/tf.js';
import { arg } from './args.js';

const models = arg('models', 'resnet26,sasa_resnet26_convstem,sasa_resnet26').split(',');
const batches = arg('batches', '1,8').split(',').map(Number);
const size = Number(arg('size', '224'));
const runs = Number(arg('runs', '3'));
const warmup = Number(arg('warmup', '1'));

const status = await initBackend({ backend: 'native' });
console.error(`backend ${status.backend}; ONNX Runtime ${ort.env.versions.common}`);

/**
 * Median wall time and median CPU time (user + system, all threads of the process) of one call, in
 * ms: on shared cores the CPU time is the work done, the wall time adds the waiting for a core.
 */
async function timeAsync(fn: () => Promise<void>): Promise<{ ms: number; cpuMs: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { ms: median(times), cpuMs: median(cpu) };
}

console.log(
  '| model | batch | ONNX Runtime ms (CPU ms) | sasa native ms (CPU ms) | ONNX / native | graph bytes | export ms | max abs logit diff (max abs logit) |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const name of models) {
  const model = createModel(name, { inputSize: size }, { seed: 1 });
  const t0 = performance.now();
  const bytes = exportOnnx(model);
  const exportMs = performance.now() - t0;
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  const channels = model.inputs[0].shape[3] as number;
  for (const batch of batches) {
    const data = Float32Array.from({ length: batch * size * size * channels }, (_, i) => Math.sin(i));
    const image = new ort.Tensor('float32', data, [batch, size, size, channels]);
    const x = tf.tensor4d(data, [batch, size, size, channels]);
    let onnxLogits = new Float32Array(0);
    let nativeLogits = new Float32Array(0);
    const onnx = await timeAsync(async () => {
      onnxLogits = (await session.run({ image })).logits.data as Float32Array;
    });
    const native = await timeAsync(async () => {
      const y = model.predict(x) as tf.Tensor;
      nativeLogits = (await y.data()) as Float32Array;
      y.dispose();
    });
    const diff = nativeLogits.reduce((m, v, i) => Math.max(m, Math.abs(v - onnxLogits[i])), 0);
    const scale = nativeLogits.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    x.dispose();
    const ratio = (onnx.ms / native.ms).toFixed(2);
    const cell = (t: { ms: number; cpuMs: number }) => `${t.ms.toFixed(0)} (${t.cpuMs.toFixed(0)})`;
    console.log(
      `| ${name} | ${batch} | ${cell(onnx)} | ${cell(native)} | ${ratio} | ${bytes.length} | ${exportMs.toFixed(0)} | ${diff.toExponential(1)} (${scale.toFixed(2)}) |`,
    );
  }
  await session.release();
  model.dispose();
}
