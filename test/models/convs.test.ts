/** modelConvs: the convolution inventory bench/compare.mjs --cases <model>-convs times. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { modelConvs } from '../../src/models/convs.js';
import { countModel } from '../../src/models/count.js';
import { createModel, modelConfig } from '../../src/models/registry.js';
import { setup } from '../helpers.js';

describe('modelConvs', () => {
  before(setup);

  it("lists resnet26's 29 convolutions as 20 distinct ones, with the analytic count's FLOPs", () => {
    const overrides = { inputSize: 64, classes: 10 };
    const model = createModel('resnet26', overrides);
    try {
      const convs = modelConvs(model, 2);
      assert.equal(convs.length, 20);
      assert.equal(
        convs.reduce((s, c) => s + c.count, 0),
        29,
      );
      const names = convs.flatMap((c) => c.layers);
      assert.equal(new Set(names).size, 29);
      // Only the stem reads the model's input.
      assert.deepEqual(
        convs.filter((c) => c.modelInput).map((c) => c.layers),
        [['stem.conv']],
      );
      const stem = convs[0];
      assert.deepEqual([stem.shape, stem.kernel, stem.stride, stem.filters], [[2, 64, 64, 3], 7, 2, 64]);
      assert.deepEqual(stem.outShape, [2, 32, 32, 64]);
      // A strided 1x1 projection and a repeated conv
      const down = convs.find((c) => c.layers.includes('layer2.0.downsample.0'));
      assert.deepEqual(
        [down?.shape, down?.kernel, down?.stride, down?.filters, down?.count],
        [[2, 16, 16, 256], 1, 2, 512, 1],
      );
      const conv3 = convs.find((c) => c.layers.includes('layer3.1.conv3'));
      assert.equal(conv3?.count, 4);
      // Per image, every convolution's FLOPs = count.ts's for the same layers.
      const analytic = new Map(countModel(modelConfig('resnet26', overrides)).layers.map((l) => [l.name, l.flops]));
      for (const c of convs) for (const l of c.layers) assert.equal(c.flops / 2, analytic.get(l), l);
    } finally {
      model.dispose();
    }
  });
});
