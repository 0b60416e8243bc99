/** Model files: round trip with a custom layer, metadata, atomic replace, and bad directories. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileLoadHandler, fileSaveHandler, loadModelFiles, saveModelFiles } from '../../src/io/model_files.js';
import { LocalSelfAttention2D } from '../../src/layers/local_self_attention.js';
import * as tf from '../../src/tf.js';
import { randTensor, setup } from '../helpers.js';

/** Input [6, 6, 3] → conv2d → LocalSelfAttention2D → flatten → dense(5), freshly initialised. */
function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  const c = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same' });
  const a = new LocalSelfAttention2D({ filters: 8, heads: 2, kernelSize: 3 });
  const d = tf.layers.dense({ units: 5, biasInitializer: 'randomNormal' });
  const y = d.apply(tf.layers.flatten().apply(a.apply(c.apply(input)))) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y });
}

function weightsOf(model: tf.LayersModel): { name: string; values: number[] }[] {
  return model.weights.map((w) => ({ name: w.originalName, values: Array.from(w.read().dataSync()) }));
}

describe('model files', () => {
  let root: string;
  before(async () => {
    await setup();
    root = await mkdtemp(join(tmpdir(), 'sasa-model-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('saves and loads a conv2d + LocalSelfAttention2D + dense model with identical outputs and weights', async () => {
    const model = smallModel();
    const dir = join(root, 'round', 'trip');
    await saveModelFiles(model, dir, { epoch: 3, note: 'hello' });
    assert.deepEqual((await readdir(dir)).sort(), ['model.json', 'weights.bin']);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    assert.equal(json.format, 'layers-model');
    assert.equal(json.convertedBy, null);
    assert.match(json.generatedBy, /TensorFlow\.js/);
    assert.equal(json.weightsManifest.length, 1);
    assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
    assert.deepEqual(json.userDefinedMetadata, { epoch: 3, note: 'hello' });

    const { model: loaded, metadata } = await loadModelFiles(dir);
    assert.deepEqual(metadata, { epoch: 3, note: 'hello' });
    assert.ok(loaded.layers.some((l) => l instanceof LocalSelfAttention2D));
    assert.deepEqual(weightsOf(loaded), weightsOf(model));
    const x = randTensor([2, 6, 6, 3], 7);
    const before = (model.predict(x) as tf.Tensor).dataSync();
    const after = (loaded.predict(x) as tf.Tensor).dataSync();
    assert.deepEqual(Array.from(after), Array.from(before));
  });

  it('leaves metadata out when none is given', async () => {
    const dir = join(root, 'plain');
    await saveModelFiles(smallModel(), dir);
    assert.ok(!('userDefinedMetadata' in JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'))));
    assert.equal((await loadModelFiles(dir)).metadata, undefined);
  });

  it('replaces an existing model directory atomically, leaving no temporary siblings', async () => {
    const parent = join(root, 'replace');
    const dir = join(parent, 'm');
    const first = smallModel();
    const second = smallModel();
    await saveModelFiles(first, dir, { version: 1 });
    await saveModelFiles(second, dir, { version: 2 });
    assert.deepEqual(await readdir(parent), ['m']);
    assert.deepEqual((await readdir(dir)).sort(), ['model.json', 'weights.bin']);
    const { model, metadata } = await loadModelFiles(dir);
    assert.deepEqual(metadata, { version: 2 });
    assert.deepEqual(weightsOf(model), weightsOf(second));
  });

  it('keeps the existing model when a save fails before the swap', async () => {
    const parent = join(root, 'failed');
    const dir = join(parent, 'm');
    await saveModelFiles(smallModel(), dir);
    const original = await readFile(join(dir, 'model.json'), 'utf8');
    const { save } = fileSaveHandler(dir);
    assert.ok(save);
    const artifacts = { modelTopology: {}, weightSpecs: [{ name: 'w', shape: [4], dtype: 'float32' as const }] };
    await assert.rejects(
      save(artifacts),
      (err: Error) => err.message.includes(dir) && /0 bytes.*16 bytes/.test(err.message),
    );
    assert.equal(await readFile(join(dir, 'model.json'), 'utf8'), original);
    assert.deepEqual(await readdir(parent), ['m']);
  });

  it('refuses to replace a file or a directory that is not a model', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    await assert.rejects(saveModelFiles(smallModel(), file), new RegExp(`${file}: exists and is not a directory`));
    const other = join(root, 'other');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'keep me');
    await assert.rejects(saveModelFiles(smallModel(), other), /holds no model\.json/);
    assert.equal(await readFile(join(other, 'notes.txt'), 'utf8'), 'keep me');
  });

  it('loads int32 weights through the load handler', async () => {
    const dir = join(root, 'int32');
    await mkdir(dir);
    const weights = [{ name: 'steps', shape: [2], dtype: 'int32' }];
    await writeFile(
      join(dir, 'model.json'),
      JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['weights.bin'], weights }] }),
    );
    await writeFile(join(dir, 'weights.bin'), new Uint8Array(new Int32Array([7, -9]).buffer));
    const { load } = fileLoadHandler(dir);
    assert.ok(load);
    const artifacts = await load();
    assert.deepEqual(artifacts.weightSpecs, weights);
    assert.deepEqual(Array.from(new Int32Array(artifacts.weightData as ArrayBuffer)), [7, -9]);
  });

  describe('bad inputs name the path and the fault', () => {
    let dir: string;
    before(async () => {
      dir = join(root, 'bad');
      await saveModelFiles(smallModel(), dir);
    });
    const modelJson = () => join(dir, 'model.json');

    it('a missing directory', async () => {
      const missing = join(root, 'nowhere');
      await assert.rejects(loadModelFiles(missing), new RegExp(`${missing}: no such model directory`));
    });

    it('a directory without model.json', async () => {
      const empty = join(root, 'empty');
      await mkdir(empty);
      await assert.rejects(loadModelFiles(empty), new RegExp(`${join(empty, 'model.json')}: missing`));
    });

    it('invalid JSON', async () => {
      const bad = join(root, 'badjson');
      await mkdir(bad);
      await writeFile(join(bad, 'model.json'), '{"modelTopology": ');
      await assert.rejects(loadModelFiles(bad), new RegExp(`${join(bad, 'model.json')}: invalid JSON`));
    });

    it('a manifest without groups', async () => {
      const bad = join(root, 'nomanifest');
      await mkdir(bad);
      await writeFile(join(bad, 'model.json'), '{"modelTopology": {}, "weightsManifest": {}}');
      await assert.rejects(loadModelFiles(bad), /model\.json: weightsManifest must be a list/);
    });

    it('weights.bin shorter than the manifest says, with expected and actual bytes', async () => {
      const json = JSON.parse(await readFile(modelJson(), 'utf8'));
      const expected = json.weightsManifest[0].weights.reduce(
        (n: number, w: { shape: number[] }) => n + 4 * w.shape.reduce((a, b) => a * b, 1),
        0,
      );
      await truncate(join(dir, 'weights.bin'), expected - 4);
      await assert.rejects(
        loadModelFiles(dir),
        (err: Error) =>
          err.message.includes(join(dir, 'weights.bin')) &&
          err.message.includes(`expected ${expected} bytes`) &&
          err.message.includes(`found ${expected - 4} bytes`),
      );
    });

    it('a weight with an unsupported dtype', async () => {
      const json = JSON.parse(await readFile(modelJson(), 'utf8'));
      json.weightsManifest[0].weights[1].dtype = 'float16';
      const name = json.weightsManifest[0].weights[1].name;
      await writeFile(modelJson(), JSON.stringify(json));
      await assert.rejects(
        loadModelFiles(dir),
        (err: Error) =>
          err.message.startsWith(modelJson()) && err.message.includes(`'${name}'`) && err.message.includes("'float16'"),
      );
    });

    it('a weights path outside the directory', async () => {
      const json = JSON.parse(await readFile(modelJson(), 'utf8'));
      json.weightsManifest[0].weights[1].dtype = 'float32';
      json.weightsManifest[0].paths = ['../elsewhere.bin'];
      await writeFile(modelJson(), JSON.stringify(json));
      await assert.rejects(loadModelFiles(dir), /weights path '\.\.\/elsewhere\.bin' lies outside/);
    });
  });
});
