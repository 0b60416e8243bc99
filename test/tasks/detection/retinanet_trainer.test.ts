/**
 * trainDetector on a tiny generated shapes set (4 training images at 128 px, 2 validation): the run's
 * files, an interrupted-and-resumed run equal bit for bit to an uninterrupted one, and refusals that
 * name the option.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeShapesDataset } from '../../../src/data/detection/shapes/write.js';
import { type DetectionData, openDetectionData, parseDetectionSpec } from '../../../src/data/detection/spec.js';
import { readSafetensors } from '../../../src/io/safetensors.js';
import { buildDetector } from '../../../src/models/detection/builder.js';
import { detectorConfig } from '../../../src/models/detection/registry.js';
import { readCheckpoint, restoreCheckpoint } from '../../../src/tasks/classification/checkpoint.js';
import { Sgd } from '../../../src/tasks/classification/sgd.js';
import { loadDetector } from '../../../src/tasks/detection/saved_detector.js';
import { DETECTOR_TRAIN_DEFAULTS, type DetectorTrainOptions } from '../../../src/tasks/detection/train_options.js';
import { type DetectionCallback, trainDetector } from '../../../src/tasks/detection/trainer.js';
import { setup } from '../../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-dettrain-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let data: DetectionData;
const spec = `shapes:${join(dir, 'shapes')}`;
before(async () => {
  await setup();
  await writeShapesDataset(join(dir, 'shapes'), { train: 4, val: 2, size: 128, seed: 3 });
  data = await openDetectionData(parseDetectionSpec(spec));
});

const options = (overrides: Partial<DetectorTrainOptions> = {}): DetectorTrainOptions => ({
  ...DETECTOR_TRAIN_DEFAULTS,
  detector: detectorConfig('retinanet_demo', { channels: 8, subnetDepth: 1, classes: 4 }),
  epochs: 1,
  batchSize: 2,
  warmupEpochs: 0,
  size: 128,
  checkpointEvery: 1,
  ...overrides,
});

const stopAt = (step: number): DetectionCallback => ({
  onBatchEnd(_batch, logs) {
    if (logs.step === step) throw new Error('stop');
  },
});

const tensors = async (out: string) => (await readSafetensors(join(out, 'checkpoint.safetensors'))).tensors;

describe('trainDetector', () => {
  const once = join(dir, 'once');
  let first: Awaited<ReturnType<typeof trainDetector>>;

  it('trains, validates with COCO AP, and writes the run folder', async () => {
    const result = await trainDetector(options(), data, spec, once);
    first = result;
    assert.equal(result.steps, 2);
    for (const f of ['checkpoint.safetensors', 'metrics.jsonl', 'summary.json', 'loss.png', 'map.png', 'model']) {
      assert.ok(existsSync(join(once, f)), f);
    }
    const lines = readFileSync(join(once, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => [l.type, l.step]),
      [
        ['step', 1],
        ['step', 2],
        ['epoch', 2],
      ],
    );
    const ap = lines[2].val_ap50;
    assert.ok(typeof ap === 'number' && ap >= 0 && ap <= 1, `AP50 ${ap}`);
    for (const l of lines.slice(0, 2)) assert.ok(Math.abs(l.loss - l.classification - l.box_regression) < 1e-4);
    const saved = await loadDetector(join(once, 'model'));
    assert.deepEqual(saved.metadata.categories, data.categories);
    assert.equal(saved.metadata.size, 128);
    saved.model.dispose();
  });

  it('resumes an interrupted run exactly', async () => {
    const twice = join(dir, 'twice');
    await assert.rejects(trainDetector(options(), data, spec, twice, { callbacks: [stopAt(2)] }), /stop/);
    await trainDetector(options(), data, spec, twice, { resume: true });
    const [a, b] = [await tensors(once), await tensors(twice)];
    assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    for (const [name, t] of a) assert.deepEqual(b.get(name)?.data, t.data, name);
    assert.equal(readFileSync(join(twice, 'metrics.jsonl'), 'utf8'), readFileSync(join(once, 'metrics.jsonl'), 'utf8'));
  });

  it('resumes an interrupted AdamW run exactly (moments and step counts in the checkpoint)', async () => {
    const [whole, parts] = [join(dir, 'adamw-once'), join(dir, 'adamw-twice')];
    await trainDetector(options({ optimizer: 'adamw', lr: 1e-3 }), data, spec, whole);
    await assert.rejects(
      trainDetector(options({ optimizer: 'adamw', lr: 1e-3 }), data, spec, parts, { callbacks: [stopAt(2)] }),
      /stop/,
    );
    await trainDetector(options({ optimizer: 'adamw', lr: 1e-3 }), data, spec, parts, { resume: true });
    const [a, b] = [await tensors(whole), await tensors(parts)];
    const groups = new Set([...a.keys()].map((name) => name.split('/')[0]));
    assert.deepEqual([...groups].sort(), ['adam_m', 'adam_step', 'adam_v', 'model']);
    assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    for (const [name, t] of a) assert.deepEqual(b.get(name)?.data, t.data, name);
    const steps = [...a]
      .filter(([name]) => name.startsWith('adam_step/'))
      .map(([, t]) => Array.from(t.data as Float32Array));
    assert.ok(
      steps.every((s) => s.length === 1 && s[0] === 2),
      'two updates of every weight',
    );
    await assert.rejects(
      trainDetector(options(), data, spec, parts, { resume: true, given: ['optimizer'] }),
      /--optimizer \(the run has "adamw", asked "sgd"\)/,
    );
  });

  it('refuses to restore AdamW state into an SGD optimizer, naming the state', async () => {
    const path = join(dir, 'adamw-once', 'checkpoint.safetensors');
    const ck = await readCheckpoint(path);
    const model = buildDetector({ ...options().detector, inputSize: 128 }, { seed: 0 });
    assert.throws(
      () => restoreCheckpoint(path, ck, model, new Sgd(), null),
      /holds optimizer state 'adam_m', 'adam_v', 'adam_step', which this run's optimizer \(velocity\) does not keep/,
    );
    model.dispose();
  });

  it('keeps the AP when a finished run is resumed without more epochs (re-evaluated, not null)', async () => {
    const resumed = await trainDetector(options(), data, spec, once, { resume: true });
    assert.equal(resumed.steps, 2);
    assert.ok(first.ap50 !== null, 'the first run has an AP50');
    assert.deepEqual([resumed.ap, resumed.ap50, resumed.stats], [first.ap, first.ap50, first.stats]);
    const summary = JSON.parse(readFileSync(join(once, 'summary.json'), 'utf8'));
    assert.deepEqual([summary.ap, summary.ap50], [first.ap, first.ap50]);
  });

  it('refuses, naming the option: a size not divisible by 128, a changed batch size, an earlier run', async () => {
    await assert.rejects(
      trainDetector(options({ size: 200 }), data, spec, join(dir, 'x')),
      /--size must be a multiple of 128/,
    );
    await assert.rejects(
      trainDetector(options({ batchSize: 4 }), data, spec, once, { resume: true, given: ['batchSize'] }),
      /--batch-size/,
    );
    await assert.rejects(trainDetector(options(), data, spec, once), /--out .* already holds a training run/);
  });
});
