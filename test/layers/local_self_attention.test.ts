/** LocalSelfAttention2D: shapes, parameter counts, variants, serialisation, gradients, bad configs. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { LocalSelfAttention2D } from '../../src/layers/local_self_attention.js';
import { avgPool } from '../../src/ops/avg_pool.js';
import { localAttention2d } from '../../src/ops/local_attention/op.js';
import { valueAndGrads } from '../../src/ops/value_and_grads.js';
import * as tf from '../../src/tf.js';
import { assertClose, randTensor, setup } from '../helpers.js';

function saveToMemory(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  return new Promise((resolve, reject) => {
    model
      .save(
        tf.io.withSaveHandler(async (artifacts) => {
          resolve(artifacts);
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      )
      .catch(reject);
  });
}

describe('LocalSelfAttention2D', () => {
  before(setup);

  it('maps [B,H,W,d_in] to [B,H,W,filters], and halves H and W (rounding up) with strides 2', () => {
    const x = randTensor([2, 7, 6, 8], 1);
    const y1 = new LocalSelfAttention2D({ filters: 12, heads: 3, kernelSize: 3 }).apply(x) as tf.Tensor;
    const y2 = new LocalSelfAttention2D({ filters: 12, heads: 3, kernelSize: 3, strides: 2 }).apply(x) as tf.Tensor;
    assert.deepEqual(y1.shape, [2, 7, 6, 12]);
    assert.deepEqual(y2.shape, [2, 4, 3, 12]);
  });

  it('has 3·d_in·d_out + k·d_out parameters (relative), 2·d_in·d_out + k·d_out for logits qr', () => {
    for (const k of [3, 7, 11]) {
      const rel = new LocalSelfAttention2D({ filters: 16, heads: 4, kernelSize: k });
      rel.apply(randTensor([1, 5, 5, 8], 2));
      assert.equal(rel.countParams(), 3 * 8 * 16 + k * 16);
      const qr = new LocalSelfAttention2D({ filters: 16, heads: 4, kernelSize: k, logits: 'qr' });
      qr.apply(randTensor([1, 5, 5, 8], 2));
      assert.equal(qr.countParams(), 2 * 8 * 16 + k * 16);
      assert.ok(!qr.weights.some((w) => w.name.endsWith('key_kernel')));
    }
    const none = new LocalSelfAttention2D({ filters: 16, heads: 4, positional: 'none' });
    none.apply(randTensor([1, 5, 5, 8], 2));
    assert.equal(none.countParams(), 3 * 8 * 16);
  });

  it('computes the projections and the op exactly as documented', () => {
    const layer = new LocalSelfAttention2D({ filters: 8, heads: 2, kernelSize: 3 });
    const x = randTensor([1, 4, 5, 6], 3);
    const y = layer.apply(x) as tf.Tensor;
    const [wq, wk, wv, rr, rc] = layer.getWeights();
    const flat = tf.reshape(x, [20, 6]);
    const p = (w: tf.Tensor) => tf.reshape(tf.matMul(flat, w), [1, 4, 5, 8]) as tf.Tensor4D;
    const want = localAttention2d(p(wq), p(wk), p(wv), rr as tf.Tensor2D, rc as tf.Tensor2D, {
      kernelSize: 3,
      heads: 2,
    });
    assertClose(y.dataSync(), want.dataSync(), { tol: 1e-6 });
  });

  it('at inference keeps the packed projections until a weight is assigned anew', () => {
    const layer = new LocalSelfAttention2D({ filters: 8, heads: 2, kernelSize: 3 });
    const x = randTensor([1, 4, 5, 6], 4);
    const reference = () => {
      const [wq, wk, wv, rr, rc] = layer.getWeights();
      const p = (w: tf.Tensor) => tf.reshape(tf.matMul(tf.reshape(x, [20, 6]), w), [1, 4, 5, 8]) as tf.Tensor4D;
      return localAttention2d(p(wq), p(wk), p(wv), rr as tf.Tensor2D, rc as tf.Tensor2D, { kernelSize: 3, heads: 2 });
    };
    for (const call of [1, 2])
      assertClose((layer.apply(x) as tf.Tensor).dataSync(), reference().dataSync(), {
        tol: 1e-6,
        label: `call ${call}`,
      });
    const [wq, ...rest] = layer.getWeights();
    layer.setWeights([tf.mul(wq, -2), ...rest]);
    assertClose((layer.apply(x) as tf.Tensor).dataSync(), reference().dataSync(), { tol: 1e-6, label: 'new W_Q' });
  });

  it('in training packs the projections once per tape for all calls: gradients equal separate projections', async () => {
    const layer = new LocalSelfAttention2D({ filters: 8, heads: 2, kernelSize: 3 });
    const xs = [randTensor([1, 4, 5, 6], 20), randTensor([1, 2, 3, 6], 21)];
    const masks = [randTensor([1, 4, 5, 8], 22), randTensor([1, 2, 3, 8], 23)];
    layer.apply(xs[0]);
    const variables = layer.trainableWeights.map((w) => w.read());
    const ours = () =>
      valueAndGrads(() => {
        const terms = xs.map((x, i) => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, masks[i])));
        return tf.addN(terms) as tf.Scalar;
      }, variables).grads;
    const reference = () =>
      tf.grads((wq, wk, wv, rr, rc) => {
        const terms = xs.map((x, i) => {
          const [b, h, w, c] = x.shape;
          const p = (k: tf.Tensor) =>
            tf.reshape(tf.matMul(tf.reshape(x, [b * h * w, c]), k), [b, h, w, 8]) as tf.Tensor4D;
          const y = localAttention2d(p(wq), p(wk), p(wv), rr as tf.Tensor2D, rc as tf.Tensor2D, {
            kernelSize: 3,
            heads: 2,
          });
          return tf.sum(tf.mul(y, masks[i]));
        });
        return tf.addN(terms);
      })(layer.getWeights());
    const compare = (label: string) => {
      const [got, want] = [ours(), reference()];
      for (const [i, g] of got.entries())
        assertClose(g.dataSync(), want[i].dataSync(), { tol: 1e-5, label: `${label} ${i}` });
    };
    compare('tape 1');
    compare('tape 2, same weights');
    const [wq, ...rest] = layer.getWeights();
    layer.setWeights([tf.mul(wq, -2), ...rest]);
    variables.splice(0, variables.length, ...layer.trainableWeights.map((w) => w.read()));
    compare('new W_Q');
    // the weights' Concat (2-D inputs; the JS kernels' gradient of the packed op concatenates dq|dk|dv as well)
    const packs = (await tf.profile(() => tf.dispose(ours()))).kernels.filter(
      (k) => k.name === 'Concat' && k.inputShapes.every((s) => s.length === 2),
    );
    assert.equal(packs.length, 1, 'one packing for two calls on one tape');
  });

  it('applyFolded equals relu?(y · valueScale + shift) of the layer as built, every variant and stride', () => {
    const variants = [
      { filters: 8, heads: 2, kernelSize: 3 },
      { filters: 8, heads: 2, kernelSize: 5, positional: 'none' as const, padding: 'masked' as const },
      { filters: 8, heads: 4, kernelSize: 3, logits: 'qr' as const },
      { filters: 8, heads: 2, kernelSize: 3, positional: 'absolute' as const },
    ];
    // 11×12: the native kernel's windowed path (> 100 pixels), 5×6: its small-image path; 11 rows pool after it
    for (const shape of [
      [1, 11, 12, 8],
      [1, 12, 12, 8],
      [2, 5, 6, 8],
    ]) {
      for (const [i, v] of variants.entries()) {
        for (const strides of [1, 2]) {
          for (const relu of [true, false]) {
            tf.tidy(() => {
              const layer = new LocalSelfAttention2D({ ...v, strides, seed: 20 + i });
              const x = randTensor(shape, 21) as tf.Tensor4D;
              const built = layer.apply(x, { training: false }) as tf.Tensor;
              const valueScale = tf.randomUniform([8], 0.5, 1.5, 'float32', 22) as tf.Tensor1D;
              const shift = tf.randomNormal([8], 0, 0.5, 'float32', 23) as tf.Tensor1D;
              const affine = tf.add(tf.mul(built, valueScale), shift);
              const want = relu ? tf.relu(affine) : affine;
              const got = layer.applyFolded(x, { valueScale, shift, relu });
              assert.deepEqual(got.shape, want.shape);
              const label = `[${shape}] ${JSON.stringify(v)} strides ${strides} relu ${relu}`;
              assertClose(got.dataSync(), want.dataSync(), { label, tol: 1e-5 });
              layer.dispose();
            });
          }
        }
      }
    }
  });

  it('absolute positions change the output with position, none does not see position', () => {
    const x = tf.ones([1, 5, 5, 8]);
    const abs = new LocalSelfAttention2D({
      filters: 8,
      heads: 2,
      kernelSize: 3,
      positional: 'absolute',
      padding: 'masked',
    });
    const none = new LocalSelfAttention2D({
      filters: 8,
      heads: 2,
      kernelSize: 3,
      positional: 'none',
      padding: 'masked',
    });
    const ya = (abs.apply(x) as tf.Tensor).arraySync() as number[][][][];
    const yn = (none.apply(x) as tf.Tensor).arraySync() as number[][][][];
    assert.notDeepEqual(ya[0][2][2], ya[0][1][3]);
    assertClose(yn[0][2][2], yn[0][1][3], { tol: 1e-6 });
  });

  it('saves and reloads with identical outputs, every variant', async () => {
    const variants = [
      { positional: 'relative' as const },
      { positional: 'relative' as const, logits: 'qr' as const, scale: 'none' as const, padding: 'masked' as const },
      { positional: 'absolute' as const, strides: 2 },
      { positional: 'none' as const, scale: 0.5 },
    ];
    const x = randTensor([2, 6, 6, 8], 4);
    for (const v of variants) {
      const model = tf.sequential({
        layers: [new LocalSelfAttention2D({ filters: 8, heads: 2, kernelSize: 3, inputShape: [6, 6, 8], ...v })],
      });
      const before = model.predict(x) as tf.Tensor;
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(await saveToMemory(model)));
      const after = loaded.predict(x) as tf.Tensor;
      assert.deepEqual(after.shape, before.shape);
      assertClose(after.dataSync(), before.dataSync(), { tol: 0, label: JSON.stringify(v) });
    }
  });

  it('strides 2 in training equals the stride-1 layer 2×2-average-pooled, values and gradients (even and odd sides)', () => {
    for (const shape of [
      [2, 8, 10, 8],
      [1, 12, 12, 8],
      [1, 7, 9, 8],
    ]) {
      tf.tidy(() => {
        const x = randTensor(shape, 7);
        const strided = new LocalSelfAttention2D({ filters: 8, heads: 2, kernelSize: 5, strides: 2, seed: 3 });
        const plain = new LocalSelfAttention2D({ filters: 8, heads: 2, kernelSize: 5, seed: 3 });
        const pooled = (xi: tf.Tensor) => avgPool(plain.apply(xi, { training: true }) as tf.Tensor4D, 2, 2, 'same');
        const dy = randTensor(pooled(x).shape, 8);
        const run = (f: (xi: tf.Tensor) => tf.Tensor) => {
          const vars = (f === pooled ? plain : strided).trainableWeights.map((w) => w.read());
          const { value, grads } = tf.engine().gradients(() => f(x), [x, ...vars], dy);
          return [value, ...grads];
        };
        const got = run((xi) => strided.apply(xi, { training: true }) as tf.Tensor);
        const want = run(pooled);
        for (const [i, t] of got.entries()) {
          assertClose(t.dataSync(), want[i].dataSync(), { tol: 1e-5, label: `[${shape}] output ${i}` });
        }
      });
    }
  });

  it('trains: gradients reach every weight and a few SGD steps lower a regression loss', () => {
    const layer = new LocalSelfAttention2D({ filters: 8, heads: 2, kernelSize: 3 });
    const x = randTensor([2, 5, 5, 8], 5);
    const target = randTensor([2, 5, 5, 8], 6);
    layer.apply(x);
    const loss = () => tf.losses.meanSquaredError(target, layer.apply(x) as tf.Tensor) as tf.Scalar;
    const { grads } = tf.variableGrads(
      loss,
      layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
    );
    assert.equal(Object.keys(grads).length, 5);
    for (const g of Object.values(grads)) assert.ok(tf.max(tf.abs(g)).dataSync()[0] > 0);
    const opt = tf.train.sgd(0.5);
    const first = loss().dataSync()[0];
    for (let i = 0; i < 10; i++) opt.minimize(loss);
    assert.ok(loss().dataSync()[0] < first, 'loss did not decrease');
  });

  it('valueStddev draws W_V from N(0, σ²), the other projections keep theirs, and survives getConfig', () => {
    const layer = new LocalSelfAttention2D({ filters: 64, heads: 8, valueStddev: 0.01 });
    layer.apply(tf.zeros([1, 4, 4, 256]));
    const [wq, , wv] = layer.getWeights();
    const std = (w: tf.Tensor) => Math.sqrt(tf.moments(w).variance.dataSync()[0]);
    assert.ok(Math.abs(std(wv) - 0.01) < 0.001, `W_V std ${std(wv)}`);
    assert.ok(Math.abs(std(wq) - 0.0625 * 0.88) < 0.01, `W_Q std ${std(wq)} (truncated normal, std 256^-0.5)`);
    assert.equal(layer.getConfig().valueStddev, 0.01);
    assert.equal('valueStddev' in new LocalSelfAttention2D({ filters: 8 }).getConfig(), false);
    assert.throws(
      () => new LocalSelfAttention2D({ name: 'a', filters: 8, valueStddev: 0 }),
      /'a': valueStddev must be a positive number/,
    );
  });

  it('rejects impossible configurations with errors naming the layer and the field', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ filters: 10, heads: 3 }, /filters 10 must be divisible by heads 3/],
      [{ filters: 8, kernelSize: 4 }, /kernelSize must be an odd integer from 1 to 31, got 4/],
      [{ filters: 8, kernelSize: 33 }, /kernelSize must be an odd integer from 1 to 31, got 33/],
      [{ filters: 8, strides: 3 }, /strides must be 1 or 2, got 3/],
      [{ filters: 8, positional: 'learned' }, /positional must be/],
      [{ filters: 8, positional: 'none', logits: 'qr' }, /logits 'qr' needs positional 'relative'/],
      [{ filters: 9, heads: 3 }, /filters 9 must be even/],
      [{ filters: 0 }, /filters must be a positive integer/],
    ];
    for (const [args, message] of bad) {
      assert.throws(() => new LocalSelfAttention2D({ heads: 2, ...args } as never), message);
    }
    const abs = new LocalSelfAttention2D({ filters: 8, heads: 2, positional: 'absolute' });
    assert.throws(
      () => abs.apply(tf.ones([1, 4, 4, 6])),
      /absolute positions need input channels divisible by 4, got 6/,
    );
    const layer = new LocalSelfAttention2D({ filters: 8, heads: 2 });
    assert.throws(() => layer.apply(tf.ones([4, 4, 6])), /input must be \[B, H, W, C\]/);
  });
});
