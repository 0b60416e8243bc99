/** The detector `sasa detect train`'s flags name: the registered demo, a backbone, and the batch-norm flags. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DetectTrainFlags, flagsDetector } from '../../src/cli/detect_train.js';

const flags = (more: Partial<DetectTrainFlags>) =>
  ({ data: 'shapes', out: 'x', optimizer: 'sgd', ...more }) as DetectTrainFlags;

describe('flagsDetector', () => {
  it('gives the demo detector by default, with the data classes and no optional batch norms', () => {
    const d = flagsDetector(flags({}), 4);
    assert.equal(d.name, 'retinanet_demo');
    assert.equal(d.classes, 4);
    assert.equal(d.levelBatchNorm, undefined);
    assert.equal(d.frozenBatchNorm, undefined);
  });

  it('--level-bn and --frozen-bn set levelBatchNorm and frozenBatchNorm, for a registered model and a backbone', () => {
    for (const more of [{ fpn: 'attention' as const }, { backbone: 'resnet50' }]) {
      const d = flagsDetector(flags({ ...more, levelBn: true, frozenBn: true }), 3);
      assert.deepEqual([d.levelBatchNorm, d.frozenBatchNorm, d.classes], [true, true, 3], JSON.stringify(more));
    }
  });
});
