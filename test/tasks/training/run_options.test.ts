/** The SGD options both tasks share: picked from flags, and their resume rules in each task's table. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RESUME_RULES } from '../../../src/tasks/classification/options.js';
import { DETECTOR_RESUME_RULES } from '../../../src/tasks/detection/train_options.js';
import { SGD_RUN_OPTIONS, SGD_RUN_RESUME_RULES, sgdRunOptionsOf } from '../../../src/tasks/training/run_options.js';

describe('SgdRunOptions', () => {
  it('sgdRunOptionsOf keeps the nine shared options and drops everything else', () => {
    const flags = {
      epochs: 3,
      batchSize: 8,
      lr: 0.1,
      warmupEpochs: 1,
      momentum: 0.9,
      weightDecay: 1e-4,
      seed: 7,
      checkpointEvery: 50,
      augment: false,
      out: 'run',
      clipNorm: 10,
    };
    const { out: _out, clipNorm: _clipNorm, ...shared } = flags;
    assert.deepEqual(sgdRunOptionsOf(flags), shared);
    assert.equal(SGD_RUN_OPTIONS.length, 9);
  });

  it('both tasks resume the shared options by the same rules, and refuse the batch size, seed and augmentation', () => {
    for (const rules of [RESUME_RULES, DETECTOR_RESUME_RULES] as Record<string, unknown>[]) {
      for (const k of SGD_RUN_OPTIONS) assert.deepEqual(rules[k], SGD_RUN_RESUME_RULES[k], k);
    }
    const refused = SGD_RUN_OPTIONS.filter((k) => SGD_RUN_RESUME_RULES[k].rule === 'refuse');
    assert.deepEqual(refused, ['batchSize', 'seed', 'augment']);
  });
});
