/**
 * Whole-detector gradient check across backends: the loss gradient of every trainable weight of a demo detector
 * (seeded) on one batch of the shapes training split, written as JSON; run once per backend, then compare.
 *   SASA_BACKEND=native npx tsx tools/detect_backend_grads.ts retinanet_demo_attnfpn 1 /tmp/native.json
 *   SASA_BACKEND=cpu    npx tsx tools/detect_backend_grads.ts retinanet_demo_attnfpn 1 /tmp/cpu.json
 *   npx tsx tools/detect_backend_grads.ts --compare /tmp/native.json /tmp/cpu.json
 * The comparison prints, per weight, ‖g_a − g_b‖ / ‖g_b‖ and ‖g_b‖. The cpu backend's kernels are the
 * TypeScript references (tested against float64 finite differences), so this checks the native kernels as the
 * detector composes them: shared subnets over five levels, stride-2 attention, the focal loss pass.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { initBackend } from '../src/backend/native.js';
import { detectorConfig } from '../src/models/detection/registry.js';
import { valueAndGrads } from '../src/ops/value_and_grads.js';
import * as tf from '../src/tf.js';
import { shapesBatch } from './detection_batch.js';

type Grads = Record<string, number[]>;

function compare(a: Grads, b: Grads): void {
  for (const name of Object.keys(b)) {
    const [x, y] = [a[name], b[name]];
    if (!x || x.length !== y.length) throw new Error(`weight ${name}: missing or of another size in the first file`);
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, e) => s + e * e, 0));
    const rel = norm(x.map((e, i) => e - y[i])) / (norm(y) || 1);
    console.log(`${name.padEnd(56)} rel ${rel.toExponential(2)}  norm ${norm(y).toExponential(3)}`);
  }
}

async function gradients(name: string, batch: number): Promise<Grads> {
  await initBackend();
  const config = detectorConfig(name, {});
  const { net, images, targets, imageSize } = await shapesBatch(config, batch, 256);
  const trainable = net.model.trainableWeights;
  const { value, grads } = valueAndGrads(
    () => {
      const l = net.computeLoss(net.forward(images, true), targets, imageSize);
      return tf.add(l.classification, l.boxRegression) as tf.Scalar;
    },
    trainable.map((w) => w.read()),
  );
  const out: Grads = { loss: [value.dataSync()[0]] };
  trainable.forEach((w, i) => {
    out[w.name] = Array.from(grads[i].dataSync());
  });
  return out;
}

const args = process.argv.slice(2);
if (args[0] === '--compare') {
  const [a, b] = args.slice(1).map((f) => JSON.parse(readFileSync(f, 'utf8')) as Grads);
  compare(a, b);
} else {
  const [name = 'retinanet_demo_attnfpn', batch = '1', out = 'grads.json'] = args;
  writeFileSync(out, JSON.stringify(await gradients(name, Number(batch))));
  console.log(`${tf.getBackend()}: loss and gradients of ${name} in ${out}`);
}
