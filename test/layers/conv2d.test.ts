/** Conv2D (layers/conv2d.ts): output, He fan-out initialisation, serialization, and no gradient of the model's input. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Conv2D } from '../../src/layers/conv2d.js';
import { createModel } from '../../src/models/registry.js';
import * as tf from '../../src/tf.js';
import { assertClose, randTensor, setup } from '../helpers.js';
import { conv2dRef, convGeometry, type Shape4 } from '../reference.js';

describe('Conv2D', () => {
  before(setup);

  for (const [k, s] of [
    [3, 1],
    [3, 2],
    [1, 2],
    [7, 2],
  ]) {
    it(`${k}x${k} stride ${s}: 'same' convolution without bias, like the float64 reference`, () => {
      const layer = new Conv2D({ filters: 5, kernelSize: k, strides: s });
      const xShape: Shape4 = [2, 9, 8, 3];
      const x = randTensor(xShape, 11);
      const y = layer.apply(x) as tf.Tensor;
      const w = layer.getWeights()[0];
      assert.deepEqual(w.shape, [k, k, 3, 5]);
      const g = convGeometry(xShape, k, k, [s, s], 'same');
      const ref = conv2dRef(x.dataSync(), xShape, w.dataSync(), w.shape as Shape4, [s, s], g);
      assert.deepEqual(y.shape, ref.shape);
      assert.deepEqual(layer.computeOutputShape([null, 9, 8, 3]), [null, ref.shape[1], ref.shape[2], 5]);
      assertClose(y.dataSync(), ref.y, { tol: 1e-5 });
    });
  }

  it('initialises the kernel He normal with fan-out: std sqrt(2 / (k^2 filters))', () => {
    const layer = new Conv2D({ filters: 64, kernelSize: 3 });
    layer.build([null, 8, 8, 128]);
    const w = layer.getWeights()[0];
    const std = Math.sqrt(tf.moments(w).variance.dataSync()[0]);
    const want = Math.sqrt(2 / (9 * 64));
    // 73 728 draws: within 2 %. (tfjs's varianceScaling 'normal' truncates at 2 std without
    // rescaling, which gives 0.88 of the wanted std: this test is what caught it.)
    assert.ok(Math.abs(std / want - 1) < 0.02, `std ${std}, want ${want}`);
  });

  it('round-trips its config (saved models: test/io)', () => {
    const layer = new Conv2D({ name: 'c', filters: 8, kernelSize: 3, strides: 2 });
    const cfg = layer.getConfig();
    assert.deepEqual([cfg.filters, cfg.kernelSize, cfg.strides], [8, 3, 2]);
    const again = Conv2D.fromConfig(Conv2D, cfg);
    assert.deepEqual([again.filters, again.kernelSize, again.strides, again.name], [8, 3, 2, 'c']);
  });

  it('refuses bad options, naming the layer and the field', () => {
    assert.throws(() => new Conv2D({ name: 'c', filters: 0, kernelSize: 3 }), /SasaConv2D 'c': filters must be/);
    assert.throws(() => new Conv2D({ filters: 4, kernelSize: 2.5 }), /kernelSize must be a positive integer/);
    assert.throws(() => new Conv2D({ filters: 4, kernelSize: 3 }).build([null, 8, 8]), /expected input \[B, H, W, C\]/);
  });

  it("a training step computes no gradient of the model's input (no backward-data pass over the image)", async () => {
    const model = createModel('resnet26', { inputSize: 32, classes: 10, widthMultiplier: 0.25 });
    const x = randTensor([2, 32, 32, 3], 5);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const info = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(model.apply(x, { training: true }) as tf.Tensor), vars);
      value.dispose();
      tf.dispose(Object.values(grads));
    });
    const backwardData = info.kernels.filter((k) => k.name === 'Conv2DBackpropInput');
    // Every other convolution needs its input's gradient: 28 of resnet26's 29.
    assert.equal(backwardData.length, 28);
    for (const k of backwardData) assert.notDeepEqual(k.outputShapes[0], x.shape);
    model.dispose();
  });
});
