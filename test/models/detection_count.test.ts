/**
 * The detector's analytic count: against torchvision 0.14's retinanet_resnet50_fpn (golden from
 * tools/gen_retinanet_golden.py), and against the built networks' weights and layer-by-layer FLOPs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { buildDetector } from '../../src/models/detection/builder.js';
import { countDetector } from '../../src/models/detection/count.js';
import { detectorConfig, listDetectors } from '../../src/models/detection/registry.js';
import type * as tf from '../../src/tf.js';
import { setup } from '../helpers.js';
import { attentionFlops, trainableCount } from './layer_flops.js';

interface GoldenModel {
  num_classes: number;
  params: number;
  params_by_part: { backbone: number; fpn: number; classification_head: number; regression_head: number };
  frozen_bn: { params: number; bn_affine: number };
  flops: { size: [number, number]; flops: number }[];
}

const golden: GoldenModel[] = JSON.parse(
  readFileSync(new URL('../golden/detection/retinanet_counts.json', import.meta.url), 'utf8'),
).models;

type Shape = (number | null)[];

/** A node's shape, or its first one when it has several. */
const first = (shapes: Shape | Shape[]) => (Array.isArray(shapes[0]) ? shapes[0] : shapes) as number[];

/** FLOPs read off every call of every layer of a built model (shared layers once per call), SASA.md §4. */
function flopsOfBuiltModel(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, unknown>;
    for (const node of layer.inboundNodes) {
      const [, h, w, dIn] = first(node.inputShapes);
      const [, oh, ow] = first(node.outputShapes);
      if (cls === 'Conv2D' || cls === 'SasaConv2D') {
        const [kh, kw, cin, cout] = layer.getWeights()[0].shape;
        flops += 2 * kh * kw * cin * cout * oh * ow;
      } else flops += attentionFlops(cls, cfg, h, w, dIn);
    }
  }
  return flops;
}

describe('detector count against torchvision 0.14 retinanet_resnet50_fpn', () => {
  before(setup);

  for (const g of golden) {
    it(`${g.num_classes} classes: params by part and FLOPs at ${g.flops.map((f) => f.size[0]).join(' and ')}`, () => {
      for (const { size, flops } of g.flops) {
        const c = countDetector(detectorConfig('retinanet_resnet50', { classes: g.num_classes, inputSize: size[0] }));
        assert.equal(c.params, g.params);
        assert.deepEqual(
          [c.parts.backbone.params, c.parts.pyramid.params, c.parts.classification.params, c.parts.regression.params],
          [
            g.params_by_part.backbone,
            g.params_by_part.fpn,
            g.params_by_part.classification_head,
            g.params_by_part.regression_head,
          ],
        );
        assert.equal(c.flops, flops, `FLOPs at ${size}`);
      }
    });
  }

  it("the built conv ResNet-50 RetinaNet (91 classes) has torchvision's parameters, frozen BN or not", () => {
    const g = golden.find((m) => m.num_classes === 91) as GoldenModel;
    const model = buildDetector(detectorConfig('retinanet_resnet50', { classes: 91 }));
    // trainable weights = torchvision's parameters() (BatchNorm2d weight/bias are parameters);
    // countParams() adds the moving statistics, torchvision's running_mean/var buffers (as many as gamma/beta)
    assert.equal(trainableCount(model), g.params);
    assert.equal(model.countParams(), g.params + g.frozen_bn.bn_affine);
    model.dispose();
    const frozen = buildDetector(detectorConfig('retinanet_resnet50', { classes: 91, frozenBatchNorm: true }));
    // FrozenBatchNorm2d: weight and bias become buffers, as gamma/beta become non-trainable
    assert.equal(trainableCount(frozen), g.frozen_bn.params);
    assert.equal(frozen.countParams(), g.params + g.frozen_bn.bn_affine);
    frozen.dispose();
  });
});

describe('detector count against the built networks', () => {
  before(setup);
  const small = {
    channels: 32,
    inputSize: 256,
    classes: 5,
    backbone: { overrides: { widthMultiplier: 0.25, attention: { heads: 4 } } },
    attention: { heads: 4 },
  };
  for (const name of listDetectors()) {
    it(`${name} (small): analytic params = trainable weights, FLOPs = layer by layer`, () => {
      const config = detectorConfig(name, name.includes('demo') ? { classes: 5 } : small);
      const model = buildDetector(config, { fixedInputSize: true });
      try {
        const c = countDetector(config);
        assert.equal(c.params, trainableCount(model));
        assert.equal(c.flops, flopsOfBuiltModel(model));
      } finally {
        model.dispose();
      }
    });
  }
  for (const [fpn, heads] of [
    ['attention', 'conv'],
    ['conv', 'attention'],
  ] as const) {
    it(`a ${fpn} FPN with ${heads} subnets: analytic params = trainable weights, FLOPs = layer by layer`, () => {
      const config = detectorConfig('retinanet_demo', { classes: 5, fpn, heads, levelBatchNorm: true });
      const model = buildDetector(config, { fixedInputSize: true });
      try {
        const c = countDetector(config);
        assert.equal(c.params, trainableCount(model));
        assert.equal(c.flops, flopsOfBuiltModel(model));
        const spatialOf = (layer: string) => model.getLayer(layer).getClassName();
        const kind = (k: string) => (k === 'conv' ? 'Conv2D' : 'LocalSelfAttention2D');
        assert.equal(spatialOf('fpn.layer_blocks.0'), kind(fpn));
        assert.equal(spatialOf('head.regression_head.conv.0'), kind(heads));
        assert.equal(
          c.parts.classification.params,
          countDetector(detectorConfig('retinanet_demo', { classes: 5, fpn: heads, levelBatchNorm: true })).parts
            .classification.params,
          'the subnets count as those of the detector whose FPN is of their kind',
        );
      } finally {
        model.dispose();
      }
    });
  }
  for (const name of ['retinanet_demo', 'retinanet_demo_attnfpn']) {
    it(`${name} with levelBatchNorm: analytic params = trainable weights (2·channels per level batch norm)`, () => {
      const plain = countDetector(detectorConfig(name, { classes: 5 }));
      const config = detectorConfig(name, { classes: 5, levelBatchNorm: true });
      const model = buildDetector(config, { fixedInputSize: true });
      try {
        const c = countDetector(config);
        assert.equal(c.params, trainableCount(model));
        assert.equal(c.params - plain.params, 2 * 32 * 5 * (1 + 2 * 2), 'P3–P7, and 2 subnets × depth 2 × 5 levels');
        assert.equal(c.flops, plain.flops);
        assert.equal(c.flops, flopsOfBuiltModel(model));
      } finally {
        model.dispose();
      }
    });
  }
});
