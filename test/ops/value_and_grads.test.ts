/** valueAndGrads (ops/value_and_grads.ts): tfjs's gradients, same bits, freeing memory as it goes. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createModel } from '../../src/models/registry.js';
import { valueAndGrads } from '../../src/ops/value_and_grads.js';
import * as tf from '../../src/tf.js';
import { randTensor, setup } from '../helpers.js';

describe('valueAndGrads', () => {
  before(setup);

  for (const name of ['resnet26_demo', 'sasa_resnet26_demo']) {
    it(`${name}: the same value and gradients as tf.engine().gradients, at a lower peak, leaking nothing`, async () => {
      const model = createModel(name, {}, { seed: 1 });
      const x = randTensor([4, 28, 28, 1], 2);
      const labels = tf.oneHot(tf.tensor1d([0, 3, 5, 9], 'int32'), 10);
      const xs = model.trainableWeights.map((w) => w.read());
      const loss = () =>
        tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
      const read = (r: { value: tf.Scalar; grads: tf.Tensor[] }) =>
        [r.value, ...r.grads].map((t) => t.dataSync().slice());
      const before = tf.memory().numTensors;
      const ours = tf.tidy(() => read(valueAndGrads(loss, xs)));
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      const theirs = tf.tidy(() => read(tf.engine().gradients(loss, xs) as { value: tf.Scalar; grads: tf.Tensor[] }));
      assert.equal(ours.length, theirs.length);
      ours.forEach((v, i) => {
        assert.deepEqual(v, theirs[i], `output ${i}`);
      });
      const peak = async (g: () => unknown) => (await tf.profile(() => tf.tidy(() => void g()))).peakBytes;
      const oursPeak = await peak(() => valueAndGrads(loss, xs));
      const theirsPeak = await peak(() => tf.engine().gradients(loss, xs));
      assert.ok(oursPeak < 0.95 * theirsPeak, `peak ${oursPeak} bytes, tfjs's ${theirsPeak}`);
      model.dispose();
      tf.dispose([x, labels]);
    });
  }

  it('refuses a y that does not depend on xs, and xs that y does not depend on', () => {
    const a = tf.variable(tf.ones([3]));
    const b = tf.variable(tf.ones([3]));
    assert.throws(() => valueAndGrads(() => tf.sum(tf.ones([2])) as tf.Scalar, [a]), /does not depend on any of xs/);
    assert.throws(() => valueAndGrads(() => tf.sum(tf.mul(a, 2)) as tf.Scalar, [a, b]), /y does not depend on xs\[1\]/);
    tf.dispose([a, b]);
  });

  it('defers to tfjs inside another gradient (second derivatives)', () => {
    const x = tf.scalar(3);
    const d2 = tf.grad((v: tf.Tensor) => valueAndGrads(() => tf.mul(tf.mul(v, v), v) as tf.Scalar, [v]).grads[0])(x);
    assert.equal(d2.dataSync()[0], 18);
  });
});
