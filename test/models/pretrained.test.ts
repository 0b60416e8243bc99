/**
 * createModel(name, {weights}): weights from a tfjs model directory (or its model.json) and from
 * PyTorch-named safetensors reproduce the saved model's weights exactly; a mismatch names the file and weight.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { saveModelFiles } from '../../src/io/model_files.js';
import { exportTorchSafetensors } from '../../src/io/torch_names.js';
import { createModel } from '../../src/models/registry.js';
import type * as tf from '../../src/tf.js';
import { setup } from '../helpers.js';

const NAME = 'sasa_resnet26_demo';
const SMALL = { widthMultiplier: 0.125, blocks: [1, 1], inputSize: 12 };

const valuesOf = (model: tf.LayersModel) => model.weights.map((w) => Array.from(w.read().dataSync()));

describe('createModel with weights', () => {
  let root: string;
  let source: tf.LayersModel;
  before(async () => {
    await setup();
    root = await mkdtemp(join(tmpdir(), 'sasa-pretrained-'));
    source = createModel(NAME, SMALL, { seed: 1 });
    await saveModelFiles(source, join(root, 'tfjs'));
    await exportTorchSafetensors(source, join(root, 'model.safetensors'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  for (const [format, file] of [
    ['a tfjs model directory', 'tfjs'],
    ['its model.json', 'tfjs/model.json'],
    ['PyTorch-named safetensors', 'model.safetensors'],
  ]) {
    it(`loads ${format} into a differently seeded model, weight for weight`, async () => {
      const model = await createModel(NAME, { ...SMALL, weights: join(root, file) }, { seed: 2 });
      assert.notDeepEqual(valuesOf(createModel(NAME, SMALL, { seed: 2 })), valuesOf(source));
      assert.deepEqual(valuesOf(model), valuesOf(source));
    });
  }

  it('refuses weights of another shape, naming the file and the weight', async () => {
    for (const file of ['tfjs', 'model.safetensors']) {
      await assert.rejects(
        createModel(NAME, { ...SMALL, classes: 7, weights: join(root, file) }),
        (err: Error) => err.message.startsWith(join(root, file)) && /'fc[./](kernel|weight)'.* shape/.test(err.message),
      );
    }
  });

  it('refuses a missing directory and an empty path', async () => {
    await assert.rejects(createModel(NAME, { ...SMALL, weights: join(root, 'none') }), /none: no such model directory/);
    await assert.rejects(createModel(NAME, { ...SMALL, weights: '' }), /weights: expected a file or directory path/);
  });
});
