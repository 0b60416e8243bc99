/**
 * LocalSelfAttention2D with fixed weights against golden outputs and gradients (w.r.t. the input
 * and every weight) from PyTorch: tools/gen_layer_golden.py → test/golden/local_self_attention_layer.json.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { LocalSelfAttention2D, type LocalSelfAttention2DArgs } from '../../src/layers/local_self_attention.js';
import * as tf from '../../src/tf.js';
import { assertClose, setup } from '../helpers.js';

interface LayerCase {
  name: string;
  config: LocalSelfAttention2DArgs;
  inputShape: number[];
  outputShape: number[];
  x: number[];
  weights: { shape: number[]; values: number[] }[];
  G: number[];
  y: number[];
  dx: number[];
  dWeights: number[][];
}

const golden = JSON.parse(
  readFileSync(new URL('../golden/local_self_attention_layer.json', import.meta.url), 'utf8'),
) as { cases: LayerCase[] };

describe('LocalSelfAttention2D with fixed weights matches PyTorch', () => {
  before(setup);
  for (const c of golden.cases) {
    it(c.name, () => {
      const layer = new LocalSelfAttention2D(c.config);
      const x = tf.tensor(c.x, c.inputShape);
      layer.apply(x);
      assert.equal(layer.getWeights().length, c.weights.length);
      layer.setWeights(c.weights.map((w) => tf.tensor(w.values, w.shape)));
      const weights = layer.trainableWeights.map((w) => w.read());
      const G = tf.tensor(c.G, c.outputShape);
      const { value, grads } = tf.engine().gradients(() => layer.apply(x) as tf.Tensor, [x, ...weights], G);
      assert.deepEqual(value.shape, c.outputShape);
      assertClose(value.dataSync(), c.y, { label: `${c.name} y`, tol: 1e-5 });
      assertClose(grads[0].dataSync(), c.dx, { label: `${c.name} dx`, tol: 1e-5 });
      c.dWeights.forEach((want, i) => {
        assertClose(grads[i + 1].dataSync(), want, {
          label: `${c.name} d${layer.trainableWeights[i].name}`,
          tol: 1e-5,
        });
      });
      tf.dispose([x, G, value, ...grads]);
      layer.dispose();
    });
  }
});
