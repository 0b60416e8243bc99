/**
 * ONNX export checked in ONNX Runtime (onnxruntime-node, CPU): every registered model family at
 * reduced widths, seeded random weights and random batch-norm statistics (so the folding is
 * exercised), logits within 1e-4 of sasa's at batch 1 and 3 with a dynamic batch.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { saveModelFiles } from '../../../src/io/model_files.js';
import { exportOnnx } from '../../../src/io/onnx/export.js';
import { exportOnnxFile } from '../../../src/io/onnx/model_dir.js';
import type { ModelConfig } from '../../../src/models/config.js';
import { createModel } from '../../../src/models/registry.js';
import { randArray, rng, setup } from '../../helpers.js';

const TOLERANCE = 1e-4;

/** Random gamma, beta and moving statistics for every batch norm (the folding must matter). */
function randomiseBatchNorms(model: tf.LayersModel, seed: number): void {
  const random = rng(seed);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * random();
  const ranges: [string, number, number][] = [
    ['moving_mean', -0.5, 0.5],
    ['moving_variance', 0.5, 2],
    ['gamma', 0.5, 1.5],
    ['beta', -0.3, 0.3],
  ];
  for (const v of model.weights) {
    const range = ranges.find(([suffix]) => v.originalName.endsWith(suffix));
    if (!range) continue;
    const values = Float32Array.from({ length: v.shape.reduce((a, b) => a * (b as number), 1) as number }, () =>
      uniform(range[1], range[2]),
    );
    v.write(tf.tensor(values, v.shape as number[]));
  }
}

function fixedImages(model: tf.LayersModel, batch: number, seed: number): { data: Float32Array; shape: number[] } {
  const [, h, w, c] = model.inputs[0].shape as number[];
  return { data: randArray(batch * h * w * c, seed, -2, 2), shape: [batch, h, w, c] };
}

function sasaLogits(model: tf.LayersModel, x: { data: Float32Array; shape: number[] }): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(x.data, x.shape)) as tf.Tensor).dataSync() as Float32Array);
}

async function onnxLogits(bytes: Uint8Array, x: { data: Float32Array; shape: number[] }): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ image: new ort.Tensor('float32', x.data, x.shape) });
    return out.logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const CASES: [string, Partial<ModelConfig>][] = [
  ['resnet26_demo', {}],
  ['sasa_resnet26_convstem_demo', {}],
  ['sasa_resnet26_demo', {}],
  ['resnet26', { widthMultiplier: 0.125, inputSize: 32, classes: 7 }],
  ['sasa_resnet26_convstem', { widthMultiplier: 0.125, inputSize: 32, classes: 7 }],
  ['sasa_resnet26', { widthMultiplier: 0.125, inputSize: 32, classes: 7 }],
  [
    'sasa_resnet26_convstem_demo',
    { attention: { kernelSize: 5, heads: 2, padding: 'masked', logits: 'qr', scale: 0.3 }, inputSize: 15 },
  ],
  ['sasa_resnet26_convstem_demo', { attention: { kernelSize: 3, heads: 2, positional: 'absolute' } }],
  ['sasa_resnet26_demo', { stem: { type: 'small_attention', values: 'plain', relative: false } }],
  ['sasa_resnet26_demo', { stem: { type: 'small_attention', values: 'conv' } }],
];

describe('exportOnnx in ONNX Runtime', () => {
  before(setup);

  CASES.forEach(([name, overrides], index) => {
    it(`${name} ${JSON.stringify(overrides)}: logits within ${TOLERANCE} at batch 1 and 3`, async () => {
      const model = createModel(name, overrides, { seed: 11 + index });
      randomiseBatchNorms(model, 100 + index);
      const bytes = exportOnnx(model);
      for (const batch of [1, 3]) {
        const x = fixedImages(model, batch, 7 + batch);
        const expected = sasaLogits(model, x);
        const got = await onnxLogits(bytes, x);
        const error = maxAbsDifference(expected, got);
        assert.ok(error <= TOLERANCE, `batch ${batch}: max abs logit error ${error}`);
      }
      model.dispose();
    });
  });
});
