/** earlierRun: a finished run is recognised when its model resolves to the same network, whatever its name. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { earlierRun } from '../../src/cli/earlier_run.js';
import { modelConfig } from '../../src/models/registry.js';
import type { TrainOptions } from '../../src/tasks/classification/trainer.js';
import { firstDifference } from '../../src/tasks/training/json_difference.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-earlier-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const options = (attention: Record<string, unknown>, name: string): TrainOptions => ({
  model: { ...modelConfig('sasa_resnet26_demo'), name, attention },
  epochs: 1,
  batchSize: 8,
  lr: 0.1,
  warmupEpochs: 0,
  momentum: 0.9,
  weightDecay: 1e-4,
  labelSmoothing: 0,
  emaDecay: 0,
  seed: 0,
  validationFraction: 0,
  checkpointEvery: 10,
  augment: false,
});

describe('earlierRun', () => {
  writeFileSync(
    join(dir, 'summary.json'),
    JSON.stringify({
      data: 'd',
      steps: 1,
      seconds: 1,
      validation: null,
      test: null,
      options: options({ heads: 4 }, 'a'),
    }),
  );

  it('takes a run whose model differs only in defaults written out and in its name', async () => {
    const r = await earlierRun(dir, options({ kernelSize: 7, heads: 4, positional: 'relative' }, 'b'), 'd');
    assert.equal(r.kind, 'done');
  });

  it('refuses another network or other data, naming the difference', async () => {
    await assert.rejects(
      earlierRun(dir, options({ kernelSize: 5, heads: 4 }, 'a'), 'd'),
      /first difference: model\.attention\.kernelSize/,
    );
    await assert.rejects(earlierRun(dir, options({}, 'a'), 'e'), /trained on 'd', not 'e'/);
  });

  it('finds nothing in an empty folder, and names the first differing field', async () => {
    assert.equal((await earlierRun(join(dir, 'none'), options({}, 'a'), 'd')).kind, 'none');
    assert.equal(firstDifference({ a: 1, b: [1, 2] }, { a: 1, b: [1, 3] }), 'b.1');
    assert.equal(firstDifference({ a: 1 }, { a: 1 }), null);
  });
});
