/** The detector `sasa detect train`'s flags name: the registered demo, a backbone, and the batch-norm flags. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DetectTrainFlags, flagsDetector } from '../../src/cli/detect_train.js';
import { resolveDetectorConfig } from '../../src/models/detection/config.js';

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

  it('--heads sets the subnets apart from --fpn; the demo is chosen by the subnets (its σ is theirs)', () => {
    const mixed = flagsDetector(flags({ fpn: 'attention', heads: 'conv' }), 4);
    assert.deepEqual([mixed.name, mixed.fpn, mixed.heads], ['retinanet_demo', 'attention', 'conv']);
    const attentionHeads = flagsDetector(flags({ heads: 'attention' }), 4);
    assert.deepEqual([attentionHeads.name, attentionHeads.fpn], ['retinanet_demo_attnfpn', 'conv']);
    assert.equal(flagsDetector(flags({ fpn: 'attention' }), 4).heads, undefined, 'no --heads: as the FPN');
    const paper = flagsDetector(flags({ backbone: 'resnet50', fpn: 'attention', heads: 'conv' }), 3);
    assert.deepEqual([paper.name, paper.fpn, paper.heads], ['retinanet_resnet50_attnfpn', 'attention', 'conv']);
  });

  it("--attention-padding sets the attention layers' borders, keeping the rest of the registered attention options", () => {
    const demo = flagsDetector(flags({ fpn: 'attention', attentionPadding: 'masked' }), 4);
    assert.deepEqual(demo.attention, { heads: 4, padding: 'masked' });
    const paper = flagsDetector(flags({ backbone: 'resnet50', fpn: 'attention', attentionPadding: 'masked' }), 3);
    assert.deepEqual(paper.attention, { padding: 'masked' });
    assert.equal(resolveDetectorConfig(paper).attention.kernelSize, 7, 'defaults fill the rest');
    assert.equal(flagsDetector(flags({ fpn: 'attention' }), 4).attention?.padding, undefined, 'default: zeros');
  });

  it('--attention-logits sets the logits, alone or with --attention-padding', () => {
    const qr = flagsDetector(flags({ fpn: 'attention', attentionLogits: 'qr' }), 4);
    assert.deepEqual(qr.attention, { heads: 4, logits: 'qr' });
    assert.equal(resolveDetectorConfig(qr).attention.logits, 'qr');
    const both = flagsDetector(
      flags({ backbone: 'resnet50', fpn: 'attention', attentionPadding: 'masked', attentionLogits: 'qk' }),
      3,
    );
    assert.deepEqual(both.attention, { padding: 'masked', logits: 'qk' });
    assert.equal(
      resolveDetectorConfig(flagsDetector(flags({ fpn: 'attention' }), 4)).attention.logits,
      'qk+qr',
      'default',
    );
  });
});
