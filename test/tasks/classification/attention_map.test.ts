/**
 * Attention maps of a saved model: the attention layers listed with their resolution, kernel size and heads;
 * each head's weights sum to 1, and Σ w·v over the window reproduces the attention op's output at the pixel
 * (the stem through stemAttentionReference, a block layer through localAttention2d), so the weights are the
 * ones the forward pass used; the stem's weights vanish outside the pixel's block; no tensor is left behind;
 * bad names and pixels are named.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AttentionStem } from '../../../src/layers/attention_stem.js';
import { stemAttentionReference } from '../../../src/ops/attention_stem.js';
import { localAttention2d } from '../../../src/ops/local_attention/op.js';
import { attentionLayers, attentionMap } from '../../../src/tasks/classification/attention_map.js';
import { loadTrainedModel, type TrainedModel } from '../../../src/tasks/classification/trained_model.js';
import * as tf from '../../../src/tf.js';
import { assertClose, randArray, setup } from '../../helpers.js';
import { writeTinyModel } from './tiny_model.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-amap-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const weightOf = (layer: tf.layers.Layer, suffix: string) => {
  const w = layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`));
  if (!w) throw new Error(`${layer.name} has no ${suffix}`);
  return w.read();
};

/** Σ_window w[n] · v over head n's channels at (row, col): the attention output the weights imply. */
function weightedValues(w: number[][][], v: number[][][], row: number, col: number): Float64Array {
  const [h, wd, c] = [v.length, v[0].length, v[0][0].length];
  const heads = w.length;
  const k = w[0].length;
  const half = (k - 1) / 2;
  const y = new Float64Array(c);
  for (let n = 0; n < heads; n++) {
    for (let da = 0; da < k; da++) {
      for (let db = 0; db < k; db++) {
        const [a, b] = [row + da - half, col + db - half];
        if (a < 0 || a >= h || b < 0 || b >= wd) continue;
        for (let ch = (n * c) / heads; ch < ((n + 1) * c) / heads; ch++) y[ch] += w[n][da][db] * v[a][b][ch];
      }
    }
  }
  return y;
}

describe('attention maps', () => {
  let trained: TrainedModel;
  let x: tf.Tensor4D;
  before(async () => {
    await setup();
    await writeTinyModel(dir);
    trained = await loadTrainedModel(dir);
    x = tf.tensor4d(randArray(16 * 16 * 3, 11, -2, 2), [1, 16, 16, 3]);
  });

  it('lists the attention layers, the stem first, with resolution, k and heads', () => {
    const layers = attentionLayers(trained.model);
    assert.deepEqual(
      layers.map((l) => [l.name, l.kind, l.resolution.join('x'), l.kernelSize, l.heads]),
      [
        ['stem', 'stem', '16x16', 7, 4],
        ['layer1.0.conv2', 'attention', '16x16', 7, 4],
        ['layer2.0.conv2', 'attention', '16x16', 7, 4],
        ['layer3.0.conv2', 'attention', '8x8', 7, 4],
        ['layer4.0.conv2', 'attention', '4x4', 7, 4],
      ],
    );
  });

  it("the stem's weights sum to 1, vanish outside the block, and give stemAttention's output", () => {
    const map = attentionMap(trained.model, x, 'stem', [6, 9]);
    assert.deepEqual([map.pixel, map.layerPixel, map.kernelSize], [[6, 9], [6, 9], 7]);
    for (const head of map.heads) {
      assert.ok(Math.abs(head.flat().reduce((s, v) => s + v, 0) - 1) < 1e-5);
      // pixel (row 9, col 6): block rows 8..11 → da 2..5, block cols 4..7 → db 1..4
      head.forEach((line, da) => {
        line.forEach((w, db) => {
          assert.equal(w > 0, da >= 2 && da <= 5 && db >= 1 && db <= 4, `weight (${da}, ${db}) = ${w}`);
        });
      });
    }
    const stem = trained.model.getLayer('stem') as AttentionStem;
    const [y, v] = tf.tidy(() => {
      // the pixel's block alone: rows 8..11, cols 4..7 of the image
      const block = tf.slice(x, [0, 8, 4, 0], [1, 4, 4, 3]);
      const wv = stem.valueMatrices();
      const values = tf.reshape(
        tf.transpose(tf.matMul(tf.transpose(tf.reshape(block, [1, 16, 3]), [1, 0, 2]), wv), [1, 0, 2]),
        [4, 4, -1],
      );
      const [wq, wk] = [weightOf(stem, 'query_kernel'), weightOf(stem, 'key_kernel')] as tf.Tensor2D[];
      const [relRow, relCol] = [weightOf(stem, 'rel_row'), weightOf(stem, 'rel_col')] as tf.Tensor2D[];
      const out = stemAttentionReference(block as tf.Tensor4D, wq, wk, wv, relRow, relCol, { heads: 4 });
      return [out.arraySync()[0][1][2], values.arraySync() as number[][][]];
    });
    assertClose(y, weightedValues(map.heads, v, 1, 2), { tol: 1e-5, label: 'stem y' });
  });

  it("a block layer's weights give localAttention2d's output at the pixel", () => {
    const name = 'layer1.0.conv2';
    const map = attentionMap(trained.model, x, name, [15, 3]);
    for (const head of map.heads) assert.ok(Math.abs(head.flat().reduce((s, v) => s + v, 0) - 1) < 1e-5);
    const layer = trained.model.getLayer(name);
    const [y, v] = tf.tidy(() => {
      const input = tf.model({ inputs: trained.model.inputs, outputs: layer.input as tf.SymbolicTensor }).predict(x);
      const [b, h, w, c] = (input as tf.Tensor).shape;
      const flat = tf.reshape(input as tf.Tensor, [b * h * w, c]) as tf.Tensor2D;
      const project = (s: string) => tf.reshape(tf.matMul(flat, weightOf(layer, s) as tf.Tensor2D), [b, h, w, -1]);
      const [q, k, values] = ['query_kernel', 'key_kernel', 'value_kernel'].map(project) as tf.Tensor4D[];
      const [relRow, relCol] = [weightOf(layer, 'rel_row'), weightOf(layer, 'rel_col')] as tf.Tensor2D[];
      const out = localAttention2d(q, k, values, relRow, relCol, { kernelSize: 7, heads: 4 });
      return [out.arraySync()[0][3][15], values.arraySync()[0]];
    });
    assertClose(y, weightedValues(map.heads, v, 3, 15), { tol: 1e-5, label: 'layer y' });
  });

  it('maps the pixel onto a coarser layer and defaults to the centre of the image and the first layer', () => {
    attentionMap(trained.model, x, 'layer4.0.conv2'); // builds and caches the layer's input model
    const tensors = tf.memory().numTensors;
    assert.deepEqual(attentionMap(trained.model, x, 'layer4.0.conv2', [15, 6]).layerPixel, [3, 1]);
    assert.equal(tf.memory().numTensors, tensors, 'tensors left behind');
    const centre = attentionMap(trained.model, x);
    assert.deepEqual([centre.layer, centre.pixel], ['stem', [8, 8]]);
  });

  it('names an unknown layer and a pixel outside the image', () => {
    assert.throws(
      () => attentionMap(trained.model, x, 'layer1.0.conv1'),
      /unknown layer 'layer1.0.conv1'.*stem, layer1/,
    );
    assert.throws(() => attentionMap(trained.model, x, 'stem', [16, 0]), /pixel 16,0 is outside the image.*0 to 15/);
  });
});
