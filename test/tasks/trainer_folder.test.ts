/**
 * The trainer on an image folder streamed from disk: it trains and writes its files, counts and names
 * a corrupt file (or, strict, fails naming it), refuses an empty class folder by name, records the
 * class names with the model, and a run stopped mid-epoch and resumed ends with exactly the weights
 * and metrics of an uninterrupted run even where a skipped file shifts the batches.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openData, parseDataSpec } from '../../src/data/spec.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { readCheckpoint } from '../../src/tasks/classification/checkpoint.js';
import { loadTrainedModel, predictFile } from '../../src/tasks/classification/trained_model.js';
import { type ClassificationCallback, type TrainOptions, train } from '../../src/tasks/classification/trainer.js';
import { FOLDER_CLASSES, writeImageFolder } from '../data/folder_fixture.js';
import { setup } from '../helpers.js';
import { tinyTrainOptions } from './tiny_options.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-train-folder-'));
const root = join(dir, 'images');
let corrupt = '';
const SIZE = 32;
const BATCH = 4;

before(async () => {
  await setup();
  corrupt = (await writeImageFolder(root, { corrupt: true })) as string;
});
after(() => rmSync(dir, { recursive: true, force: true }));

const options = (overrides: Partial<TrainOptions> = {}) =>
  tinyTrainOptions(
    { size: SIZE, channels: 3, classes: 3 },
    { epochs: 1, batchSize: BATCH, seed: 3, validationFraction: 0.2, ...overrides },
  );

const folder = (strict = false, at = root) => openData(parseDataSpec(`folder:${at}`), { imageSize: SIZE, strict });

const lines = (out: string) =>
  readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number | string>);

describe('training on an image folder', () => {
  it('trains, writes checkpoint, metrics and model with the class names, and counts the corrupt file', async () => {
    const out = join(dir, 'plain');
    const skips: string[] = [];
    const hooks: ClassificationCallback = { onSkip: (f) => skips.push(f.path) };
    const data = await folder();
    assert.deepEqual([data.size, data.channels, data.classes], [SIZE, 3, 3]);
    assert.deepEqual(data.classNames, FOLDER_CLASSES);
    assert.equal(data.counts.train, 19);
    const r = await train(options(), data, out, { callbacks: [hooks] });
    assert.ok(r.steps > 0 && r.validation && r.validation.count > 0);
    assert.equal(r.test, null);
    for (const f of ['checkpoint.safetensors', 'metrics.jsonl', 'summary.json', join('model', 'model.json')]) {
      assert.ok(existsSync(join(out, f)), f);
    }
    const [epoch] = lines(out).filter((l) => l.type === 'epoch');
    assert.equal(Number(epoch.skipped) + Number(epoch.val_skipped), 1, JSON.stringify(epoch));
    assert.deepEqual(skips, [corrupt]);
    const trained = await loadTrainedModel(join(out, 'model'));
    assert.deepEqual(trained.classNames, FOLDER_CLASSES);
    assert.deepEqual(trained.inputShape, [SIZE, SIZE, 3]);
    const p = await predictFile(trained, join(root, 'red', '0.png'), 3);
    assert.deepEqual(p.top.map((t) => t.label).sort(), FOLDER_CLASSES);
  });

  it('with strict, fails naming the corrupt file', async () => {
    await assert.rejects(train(options(), await folder(true), join(dir, 'strict')), (e: Error) => {
      assert.ok(e.message.startsWith(`${corrupt}: cannot decode image`), e.message);
      return true;
    });
  });

  it('refuses an empty class folder, naming it', async () => {
    const bad = join(dir, 'empty-class');
    await writeImageFolder(bad, { perClass: 1 });
    mkdirSync(join(bad, 'zebra'));
    await assert.rejects(folder(false, bad), new RegExp(`${bad}: class folder 'zebra' has no images`));
  });

  it('refuses a model of another input size, naming the data', async () => {
    const wrong = options({ model: { ...options().model, inputSize: 16 } });
    await assert.rejects(
      train(wrong, await folder(), join(dir, 'wrong')),
      /folder \(.*\): the model takes 16×16×3 images and 3 classes, the data gives 32×32×3 and 3/,
    );
  });

  it('stopped mid-epoch after a skipped file and resumed, ends exactly as an uninterrupted run', async () => {
    // Seed 0: the corrupt file is the 7th training file of epoch 0 and the 2nd of epoch 1.
    const o = options({ epochs: 2, validationFraction: 0.1, seed: 0 });
    const straight = join(dir, 'straight');
    await train(o, await folder(), straight);

    const stopped = join(dir, 'stopped');
    const STOP = 6;
    const stop: ClassificationCallback = {
      onBatchEnd(_batch, { step }) {
        if (step === STOP) throw new Error('stop');
      },
    };
    await assert.rejects(train(o, await folder(), stopped, { callbacks: [stop] }), /stop/);
    const at = (await readCheckpoint(join(stopped, 'checkpoint.safetensors'))).state;
    assert.deepEqual([at.step, at.epoch], [STOP - 1, 1]);
    // The skipped file came before this point of the epoch, so the batches are shifted from batch × size.
    assert.ok(at.batch > 0 && at.cursor === at.batch * BATCH + 1 && at.skipped === 1, JSON.stringify(at));

    await train(o, await folder(), stopped, { resume: true });
    const tensors = async (out: string) => (await readSafetensors(join(out, 'checkpoint.safetensors'))).tensors;
    const a = await tensors(straight);
    const b = await tensors(stopped);
    assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    for (const [name, t] of a) assert.deepEqual(b.get(name)?.data, t.data, name);
    const metrics = (out: string): Record<string, unknown>[] => lines(out).map((l) => ({ ...l, images_per_s: 0 }));
    assert.deepEqual(metrics(stopped), metrics(straight));
    assert.deepEqual(
      metrics(straight)
        .filter((l) => l.type === 'epoch')
        .map((l) => [l.skipped, l.val_skipped]),
      [
        [1, 0],
        [1, 0],
      ],
    );
  });
});
