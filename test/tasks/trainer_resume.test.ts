/**
 * Resuming with changed options: an applied change (learning rate, epochs) is recorded (metrics.jsonl's
 * 'resume' line, summary.json's `changes`) and the run continues exactly under the new settings — a
 * second interruption after the change ends bit for bit as the run resumed once; refused changes
 * (model, batch size, seed) fail before anything is written, naming their flags and both values.
 */

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LoadedData } from '../../src/data/spec.js';
import { loadData, parseDataSpec } from '../../src/data/spec.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { type ClassificationCallback, type TrainOptions, train } from '../../src/tasks/classification/trainer.js';
import { learningRate } from '../../src/tasks/training/schedule.js';
import { writeIdxPair } from '../data/idx_fixture.js';
import { setup } from '../helpers.js';
import { tinyTrainOptions } from './tiny_options.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-resume-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const [images, labels] = writeIdxPair(dir, 'train', { count: 72, side: 8, classes: 3, seed: 5 });
let data: LoadedData;
before(async () => {
  await setup();
  data = await loadData(parseDataSpec(`idx:${images},${labels}`));
});

const options = (overrides: Partial<TrainOptions> = {}) =>
  tinyTrainOptions({ size: 8, channels: 1, classes: 3 }, { epochs: 1, emaDecay: 0.9, ...overrides });

type Line = Record<string, unknown> & { type: string; step: number };
const lines = (out: string): Line[] =>
  readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => ({ ...JSON.parse(l), images_per_s: 0 }) as Line);

const stopAt = (step: number): ClassificationCallback => ({
  onBatchEnd(_batch, logs) {
    if (logs.step === step) throw new Error('stop');
  },
});

describe('resume with changed options', () => {
  it('applies --lr and --epochs from the resume on, records them, and stays exact under them', async () => {
    const once = join(dir, 'once');
    const first = await train(options(), data, once);
    const at = first.steps;
    const twice = join(dir, 'twice');
    cpSync(once, twice, { recursive: true });
    const changed = options({ lr: 0.02, epochs: 2 });
    const given: (keyof TrainOptions)[] = ['lr', 'epochs'];

    const r = await train(changed, data, once, { resume: true, given });
    assert.equal(r.steps, 2 * at);
    const log = lines(once);
    assert.deepEqual(
      log.filter((l) => l.type === 'resume'),
      [{ type: 'resume', step: at, changed: { lr: [0.05, 0.02], epochs: [1, 2] }, images_per_s: 0 }],
    );
    const schedule = { base: 0.02, warmupSteps: 0, totalSteps: 2 * at };
    const after = log.filter((l) => l.type === 'step' && l.step > at);
    assert.equal(after.length, at);
    for (const l of after) assert.equal(l.lr, learningRate(schedule, l.step - 1), `lr at step ${l.step}`);
    const summary = JSON.parse(readFileSync(join(once, 'summary.json'), 'utf8'));
    assert.deepEqual(summary.changes, [{ step: at, changed: { lr: [0.05, 0.02], epochs: [1, 2] } }]);
    assert.equal(summary.options.lr, 0.02);

    await assert.rejects(train(changed, data, twice, { resume: true, given, callbacks: [stopAt(at + 3)] }), /stop/);
    await train(changed, data, twice, { resume: true, given });
    const tensors = async (out: string) => (await readSafetensors(join(out, 'checkpoint.safetensors'))).tensors;
    const [a, b] = [await tensors(once), await tensors(twice)];
    assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    for (const [name, t] of a) assert.deepEqual(b.get(name)?.data, t.data, name);
    assert.deepEqual(lines(twice), log);
    assert.deepEqual(JSON.parse(readFileSync(join(twice, 'summary.json'), 'utf8')).changes, summary.changes);
    await assert.rejects(
      train(options({ epochs: 1 }), data, twice, { resume: true, given: ['epochs'] }),
      /--epochs 1: the run in .* is at step 16, in epoch 2; give at least that many epochs/,
    );
  });

  it('refuses changes of the model, the batch size and the seed before writing anything, naming them', async () => {
    const out = join(dir, 'refused');
    await train(options(), data, out);
    const before = readdirSync(out).map((f) => [f, readFileSync(join(out, f === 'model' ? 'model/weights.bin' : f))]);
    const other = options({
      batchSize: 4,
      seed: 2,
      model: { ...options().model, name: 'wider', widthMultiplier: 0.25 },
    });
    await assert.rejects(train(other, data, out, { resume: true }), (err: Error) => {
      assert.match(
        err.message,
        /checkpoint\.safetensors: --resume cannot change --model \(the run trains 'resnet26', asked 'wider'; first difference: /,
      );
      assert.match(err.message, /--batch-size \(the run has 8, asked 4\), --seed \(the run has 1, asked 2\)/);
      return true;
    });
    const now = readdirSync(out).map((f) => [f, readFileSync(join(out, f === 'model' ? 'model/weights.bin' : f))]);
    assert.deepEqual(now, before);
    const kept = await train(other, data, out, { resume: true, given: ['lr'] });
    assert.equal(kept.steps, 8, 'options not given keep their stored values: 72 - 7 validation images, batches of 8');
    assert.equal(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).options.batchSize, 8);
  });
});
