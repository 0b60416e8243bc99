/**
 * ONNX export checked in ONNX Runtime (onnxruntime-node, CPU): every registered model family at
 * reduced widths, seeded random weights and random batch-norm statistics (so the folding is
 * exercised), logits within 1e-4 of sasa's at batch 1 and 3 with a dynamic batch.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { saveModelFiles } from '../../../src/io/model_files.js';
import { exportOnnx, onnxModelOf } from '../../../src/io/onnx/export.js';
import { OnnxGraphBuilder } from '../../../src/io/onnx/graph.js';
import { exportOnnxFile } from '../../../src/io/onnx/model_dir.js';
import { BatchNorm } from '../../../src/layers/batch_norm.js';
import { Conv2D } from '../../../src/layers/conv2d.js';
import type { ModelConfig } from '../../../src/models/config.js';
import { createModel } from '../../../src/models/registry.js';
import * as tf from '../../../src/tf.js';
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
        assert.ok(maxAbsDifference(expected, new Float32Array(expected.length)) > 1e-2, 'logits are not all near 0');
        assert.ok(error <= TOLERANCE, `batch ${batch}: max abs logit error ${error}`);
      }
      model.dispose();
    });
  });
});

describe('exportOnnx at the oldest and newest opsets', () => {
  before(setup);

  for (const opset of [13, 21]) {
    it(`sasa_resnet26_demo at opset ${opset} runs in ONNX Runtime within ${TOLERANCE}`, async () => {
      const model = createModel('sasa_resnet26_demo', {}, { seed: 9 });
      randomiseBatchNorms(model, 90);
      const x = fixedImages(model, 2, 4);
      const error = maxAbsDifference(sasaLogits(model, x), await onnxLogits(exportOnnx(model, { opset }), x));
      assert.ok(error <= TOLERANCE, `max abs logit error ${error}`);
      model.dispose();
    });
  }
});

describe('exportOnnx of a hand-built model', () => {
  before(setup);

  it('a batch norm that cannot fold (after a ReLU) becomes Mul and Add; a strided conv on an odd image keeps TF padding', async () => {
    const input = tf.input({ shape: [9, 9, 3] });
    const conv = new Conv2D({ name: 'conv', filters: 8, kernelSize: 3, strides: 2, seed: 3 });
    const relu = tf.layers.reLU({ name: 'relu' });
    const norm = new BatchNorm({ name: 'norm', relu: true });
    const pool = tf.layers.globalAveragePooling2d({ name: 'pool' });
    const dense = tf.layers.dense({ name: 'fc', units: 4, biasInitializer: 'randomNormal' });
    const y = dense.apply(pool.apply(norm.apply(relu.apply(conv.apply(input))))) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: y });
    randomiseBatchNorms(model, 8);
    const onnx = onnxModelOf(model);
    assert.deepEqual(
      onnx.graph.nodes.map((n) => n.opType),
      ['Transpose', 'Conv', 'Relu', 'Mul', 'Add', 'Relu', 'GlobalAveragePool', 'Flatten', 'Gemm', 'Identity'],
    );
    const x = fixedImages(model, 3, 2);
    const error = maxAbsDifference(sasaLogits(model, x), await onnxLogits(exportOnnx(model), x));
    assert.ok(error <= TOLERANCE, `max abs logit error ${error}`);
    model.dispose();
  });
});

describe('onnxModelOf', () => {
  before(setup);

  it('folds every batch norm: no Mul in a convolutional network, every Conv with a bias', () => {
    const model = createModel('resnet26_demo', {}, { seed: 1 });
    const nodes = onnxModelOf(model).graph.nodes;
    const ops = nodes.map((n) => n.opType);
    assert.equal(ops.filter((o) => o === 'Mul').length, 0);
    const convs = nodes.filter((n) => n.opType === 'Conv');
    assert.equal(convs.length, model.layers.filter((l) => l.getClassName() === 'SasaConv2D').length);
    for (const c of convs) assert.equal(c.inputs.length, 3, `${c.name} has a folded bias`);
    model.dispose();
  });

  it('emits standard operators only, with a fixed or symbolic batch', () => {
    const model = createModel('sasa_resnet26_demo', {}, { seed: 2 });
    const fixed = onnxModelOf(model, { batch: 4, opset: 13 });
    assert.deepEqual(fixed.graph.inputs[0].shape, [4, 28, 28, 1]);
    assert.deepEqual(fixed.graph.outputs[0].shape, [4, 10]);
    assert.equal(fixed.opset, 13);
    assert.deepEqual(onnxModelOf(model).graph.inputs[0].shape, ['batch', 28, 28, 1]);
    const standard = new Set(['Transpose', 'Reshape', 'MatMul', 'Add', 'Softmax', 'MaxPool', 'Relu', 'Conv', 'Pad']);
    for (const o of ['Slice', 'Concat', 'Mul', 'ReduceSum', 'AveragePool', 'GlobalAveragePool', 'Flatten', 'Gemm'])
      standard.add(o);
    standard.add('Identity');
    for (const n of fixed.graph.nodes) assert.ok(standard.has(n.opType), n.opType);
    model.dispose();
  });

  it('names the layer and class it cannot export, the opset it refuses and the operator an old opset lacks', () => {
    const input = tf.input({ shape: [4, 4, 2] });
    const y = tf.layers
      .dense({ units: 3 })
      .apply(tf.layers.flatten({ name: 'flat' }).apply(input)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: y });
    assert.throws(() => onnxModelOf(model), /layer 'flat' of class Flatten has no ONNX emitter/);
    const demo = createModel('resnet26_demo', {}, { seed: 3 });
    assert.throws(
      () => onnxModelOf(demo, { opset: 12 }),
      /opset must be an integer from 13 to 21, got 12 \(ReduceSum needs opset 13, Softmax needs opset 13\)/,
    );
    assert.throws(() => onnxModelOf(demo, { batch: 0 }), /batch must be 'dynamic' or a positive integer, got 0/);
    assert.throws(
      () => new OnnxGraphBuilder(12).op('Softmax', ['x'], 'p', { axis: 1 }),
      /operator Softmax needs opset 13 or newer, the export asked for 12/,
    );
    demo.dispose();
  });
});

describe('exportOnnxFile', () => {
  let dir: string;
  before(async () => {
    await setup();
    dir = await mkdtemp(join(tmpdir(), 'sasa-onnx-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('exports a run folder (model/ inside) at a fixed batch; ONNX Runtime agrees with sasa', async () => {
    const model = createModel('sasa_resnet26_convstem_demo', {}, { seed: 5 });
    randomiseBatchNorms(model, 50);
    const metadata = { config: { name: 'sasa_resnet26_convstem_demo' }, classNames: [], normalization: {} };
    await saveModelFiles(model, join(dir, 'run', 'model'), metadata);
    const out = join(dir, 'model.onnx');
    const summary = await exportOnnxFile(join(dir, 'run'), out, { batch: 2 });
    const bytes = new Uint8Array(await readFile(out));
    assert.equal(summary.bytes, bytes.length);
    const x = fixedImages(model, 2, 3);
    assert.ok(maxAbsDifference(sasaLogits(model, x), await onnxLogits(bytes, x)) <= TOLERANCE);
    model.dispose();
  });

  it('names the file of a folder that is not a sasa model', async () => {
    await assert.rejects(exportOnnxFile(join(dir, 'nothing'), join(dir, 'x.onnx')), /nothing\/model\.json: missing/);
    const model = createModel('resnet26_demo', {}, { seed: 6 });
    await saveModelFiles(model, join(dir, 'plain'), { classNames: [] });
    await assert.rejects(
      exportOnnxFile(join(dir, 'plain'), join(dir, 'x.onnx')),
      /plain\/model\.json: not a sasa model \(its metadata has no config\)/,
    );
    model.dispose();
  });
});
