/**
 * A run evaluates its validation and test splits in batches of its training size (issue 19: batches
 * of 256 raised the peak memory 1.65× over training's; bench/eval_memory.ts), and a new run that fails
 * on its first batch leaves the folder as it found it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { memorySource } from '../../src/data/memory_source.js';
import type { DataSource, TrainData } from '../../src/data/source.js';
import { loadData, parseDataSpec } from '../../src/data/spec.js';
import { train } from '../../src/tasks/classification/trainer.js';
import { writeIdxPair } from '../data/idx_fixture.js';
import { setup } from '../helpers.js';
import { tinyTrainOptions } from './tiny_options.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-evaluate-run-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const train0 = writeIdxPair(dir, 'train', { count: 40, side: 8, classes: 2, seed: 1 });
const test0 = writeIdxPair(dir, 'test', { count: 12, side: 8, classes: 2, seed: 2 });

/** `source` whose evaluation batch sizes (as asked by the trainer) go into `asked`, failing training when `fail`. */
function watched(source: DataSource, asked: (number | undefined)[], fail = false): DataSource {
  return {
    ...source,
    async prepare(options): Promise<TrainData> {
      const prepared = await source.prepare(options);
      return {
        ...prepared,
        trainBatches(epoch, start) {
          if (fail) throw new Error('the first batch failed');
          return prepared.trainBatches(epoch, start);
        },
        evalBatches(split, o = {}) {
          asked.push(o.batchSize);
          return prepared.evalBatches(split, o);
        },
      };
    },
  };
}

describe("a run's evaluation passes", () => {
  before(setup);

  it('take batches of the training size', async () => {
    const source = memorySource(await loadData(parseDataSpec(`idx:${[...train0, ...test0].join(',')}`)));
    const asked: (number | undefined)[] = [];
    const options = tinyTrainOptions(source, { epochs: 1, batchSize: 4, checkpointEvery: 100 });
    await train(options, watched(source, asked), join(dir, 'run'));
    assert.deepEqual(asked, [4, 4], 'validation and test');
  });

  it('a new run failing on its first batch removes only what it created', async () => {
    const source = memorySource(await loadData(parseDataSpec(`idx:${[...train0, ...test0].join(',')}`)));
    const options = tinyTrainOptions(source, { epochs: 1, batchSize: 4 });
    const made = join(dir, 'made', 'run');
    await assert.rejects(train(options, watched(source, [], true), made), /the first batch failed/);
    assert.deepEqual(readdirSync(dir).includes('made'), false);
    const kept = join(dir, 'kept');
    mkdirSync(kept);
    writeFileSync(join(kept, 'notes.txt'), 'mine');
    await assert.rejects(train(options, watched(source, [], true), kept), /the first batch failed/);
    assert.deepEqual(readdirSync(kept), ['notes.txt']);
  });
});
