/** The file:// router: model.save('file://DIR') and tf.loadLayersModel('file://DIR/model.json') as in tfjs-node. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import '../../src/api/node.js';
import { registerFileRouter } from '../../src/io/file_router.js';
import { LocalSelfAttention2D } from '../../src/layers/local_self_attention.js';
import { SgdOptimizer } from '../../src/tasks/training/sgd_optimizer.js';
import * as tf from '../../src/tf.js';
import { randTensor, setup } from '../helpers.js';

/** Input [5, 5, 2] → LocalSelfAttention2D → flatten → dense(3). */
function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [5, 5, 2] });
  const a = new LocalSelfAttention2D({ filters: 4, heads: 2, kernelSize: 3 });
  const y = tf.layers.dense({ units: 3 }).apply(tf.layers.flatten().apply(a.apply(input))) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y });
}

describe('file:// router', () => {
  let root: string;
  before(async () => {
    await setup();
    root = await mkdtemp(join(tmpdir(), 'sasa-router-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('is registered by importing sasa/node, and only once', () => {
    assert.equal(tf.io.getSaveHandlers('file://x').length, 1);
    assert.equal(tf.io.getLoadHandlers('file://x/model.json').length, 1);
    assert.equal(registerFileRouter(), false);
    assert.equal(tf.io.getSaveHandlers('file://x').length, 1);
    assert.equal(tf.io.getLoadHandlers('file://x').length, 1);
  });

  it('saves with model.save and loads with tf.loadLayersModel (model.json or its directory), same outputs', async () => {
    const model = smallModel();
    const dir = join(root, 'model');
    await model.save(`file://${dir}`);
    assert.deepEqual((await readdir(dir)).sort(), ['model.json', 'weights.bin']);
    const x = randTensor([2, 5, 5, 2], 3);
    const want = (model.predict(x) as tf.Tensor).dataSync();
    for (const url of [`file://${dir}/model.json`, `file://${dir}`]) {
      const loaded = await tf.loadLayersModel(url);
      assert.deepEqual((loaded.predict(x) as tf.Tensor).dataSync(), want, url);
    }
  });

  it('saves SgdOptimizer and its velocities with includeOptimizer and reloads them', async () => {
    const model = smallModel();
    model.compile({ optimizer: new SgdOptimizer(0.1, { momentum: 0.8 }), loss: 'meanSquaredError' });
    await model.fit(randTensor([2, 5, 5, 2], 4), randTensor([2, 3], 5), { epochs: 1, verbose: 0 });
    const dir = join(root, 'with-optimizer');
    await model.save(`file://${dir}`, { includeOptimizer: true });
    const loaded = await tf.loadLayersModel(`file://${dir}/model.json`);
    assert.ok(loaded.optimizer instanceof SgdOptimizer);
    assert.deepEqual(loaded.optimizer.getConfig(), model.optimizer.getConfig());
    const velocities = async (m: tf.LayersModel) =>
      (await m.optimizer.getWeights()).slice(1).map((w) => Array.from(w.tensor.dataSync()));
    const saved = await velocities(model);
    assert.equal(saved.length, model.trainableWeights.length);
    assert.deepEqual(await velocities(loaded), saved);
  });

  it('refuses a .json path for saving and a missing model for loading, naming the path', async () => {
    const model = smallModel();
    await assert.rejects(model.save(`file://${root}/m.json`), /m\.json': model\.save takes a directory/);
    await assert.rejects(tf.loadLayersModel(`file://${root}/none/model.json`), /none: no such model directory/);
  });
});
