/** The RetinaNet detector: registry, config errors, output shapes and order, initial prior, frozen BN, save and load. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadModelFiles, saveModelFiles } from '../../src/io/model_files.js';
import { BATCH_NORM_DEFAULTS } from '../../src/layers/batch_norm.js';
import { buildGroupOutputs } from '../../src/models/builder.js';
import { detectorOutputs } from '../../src/models/detection/builder.js';
import { type DetectorConfig, resolveDetectorConfig } from '../../src/models/detection/config.js';
import { createDetector, detectorConfig, listDetectors } from '../../src/models/detection/registry.js';
import { modelConfig } from '../../src/models/registry.js';
import { generateAnchors } from '../../src/tasks/detection/anchors.js';
import * as tf from '../../src/tf.js';
import { randTensor, setup } from '../helpers.js';

const anchorCount = (h: number, w: number) => generateAnchors([h, w]).perLevel.reduce((s, n) => s + n, 0);

describe('detector registry and config', () => {
  it('lists conv and attention-FPN RetinaNets over the nine paper backbones, and the demo pair', () => {
    const names = listDetectors();
    assert.equal(names.length, 20);
    assert.deepEqual(listDetectors('retinanet_*resnet50*'), [
      'retinanet_resnet50',
      'retinanet_resnet50_attnfpn',
      'retinanet_sasa_resnet50_convstem',
      'retinanet_sasa_resnet50_convstem_attnfpn',
      'retinanet_sasa_resnet50',
      'retinanet_sasa_resnet50_attnfpn',
    ]);
    const r = resolveDetectorConfig(detectorConfig('retinanet_sasa_resnet50_attnfpn'));
    assert.equal(r.fpn, 'attention');
    assert.equal(r.backbone.stem.type, 'attention');
    assert.deepEqual([r.channels, r.subnetDepth, r.anchorsPerLocation, r.classes], [256, 4, 9, 80]);
    assert.deepEqual([r.attention.kernelSize, r.attention.heads, r.priorProbability], [7, 8, 0.01]);
    assert.deepEqual(r.backboneChannels, [512, 1024, 2048]);
    assert.deepEqual(
      r.levels.map((l) => [l.name, l.stride, l.size[0]]),
      [
        ['p3', 8, 80],
        ['p4', 16, 40],
        ['p5', 32, 20],
        ['p6', 64, 10],
        ['p7', 128, 5],
      ],
    );
  });

  it('merges backbone overrides with the registered ones and can swap the backbone', () => {
    const c = detectorConfig('retinanet_demo', {
      classes: 3,
      backbone: { name: 'sasa_resnet26_convstem', overrides: { attention: { heads: 2 } } },
    });
    const r = resolveDetectorConfig(c);
    assert.equal(r.classes, 3);
    assert.equal(r.backbone.blocks.length, 4, 'the demo keeps one block per group');
    assert.equal(r.backbone.blocks[0].spatial, 'attention');
    assert.equal(r.backbone.attention.heads, 2);
    assert.equal(r.backbone.stem.width, 16, 'the demo width multiplier 0.25 stays');
  });

  const bad: [string, DetectorConfig, RegExp][] = [
    ['inputSize', { backbone: { name: 'resnet26' }, inputSize: 300 }, /inputSize must be a multiple of 128/],
    ['fpn', { backbone: { name: 'resnet26' }, fpn: 'dense' as 'conv' }, /fpn must be one of conv, attention/],
    [
      'heads',
      { backbone: { name: 'resnet26' }, heads: 'mlp' as 'conv' },
      /heads must be one of conv, attention, got 'mlp'/,
    ],
    [
      'channels/heads of attention subnets',
      { backbone: { name: 'resnet26' }, heads: 'attention', channels: 60 },
      /channels 60 must be divisible by attention.heads 8/,
    ],
    ['channels', { backbone: { name: 'resnet26' }, channels: 0 }, /channels must be a positive integer/],
    [
      'channels/heads',
      { backbone: { name: 'resnet26' }, fpn: 'attention', channels: 60 },
      /channels 60 must be divisible by attention.heads 8/,
    ],
    ['subnetDepth', { backbone: { name: 'resnet26' }, subnetDepth: -1 }, /subnetDepth must be a non-negative/],
    ['classes', { backbone: { name: 'resnet26' }, classes: 0 }, /classes must be a positive integer/],
    ['prior', { backbone: { name: 'resnet26' }, priorProbability: 1 }, /priorProbability must be a number in \(0, 1\)/],
    ['kernel', { backbone: { name: 'resnet26' }, attention: { kernelSize: 4 } }, /attention.kernelSize must be an odd/],
    ['frozen', { backbone: { name: 'resnet26' }, frozenBatchNorm: 'yes' as unknown as boolean }, /frozenBatchNorm/],
    [
      'level batch norm',
      { backbone: { name: 'resnet26' }, levelBatchNorm: 1 as unknown as boolean },
      /levelBatchNorm must be true or false, got 1/,
    ],
    ['subnet stddev', { backbone: { name: 'resnet26' }, subnetStddev: 0 }, /subnetStddev must be a positive number/],
    ['anchor count', { backbone: { name: 'resnet26' }, anchorSizes: [16, 32] }, /anchorSizes must hold 5 numbers/],
    ['anchor size', { backbone: { name: 'resnet26' }, anchorSizes: [16, 32, 0, 128, 256] }, /anchorSizes\[2\] must be/],
    ['unknown backbone', { backbone: { name: 'vgg16' } }, /backbone 'vgg16': unknown model 'vgg16'/],
    [
      'backbone groups',
      { backbone: { name: 'resnet26', overrides: { blocks: [1, 1, 1] } } },
      /backbone.overrides.blocks must have 4 groups/,
    ],
    [
      'backbone stride',
      { backbone: { name: 'resnet26_demo', overrides: { inputChannels: 3 } }, inputSize: 256 },
      /backbone.overrides.stem.type 'small_conv' puts groups 2–4 at strides 2, 4, 8; RetinaNet needs C3–C5 at strides 8, 16, 32/,
    ],
    [
      'backbone field',
      { backbone: { name: 'resnet26', overrides: { widths: [1, 2] } } },
      /backbone 'resnet26': model 'resnet26': widths must have one width per group/,
    ],
  ];
  for (const [label, config, message] of bad) {
    it(`rejects a bad ${label} with an error naming the option`, () => {
      assert.throws(() => resolveDetectorConfig({ name: 'bad', ...config }), message);
    });
  }

  it("gives torchvision's anchor sizes by default and the demo pair anchors for the shapes' 8–153 px", () => {
    assert.deepEqual(resolveDetectorConfig(detectorConfig('retinanet_resnet50')).anchorSizes, [32, 64, 128, 256, 512]);
    for (const name of ['retinanet_demo', 'retinanet_demo_attnfpn']) {
      assert.deepEqual(resolveDetectorConfig(detectorConfig(name)).anchorSizes, [16, 32, 64, 128, 256], name);
    }
  });

  it('names the known detectors for an unknown name', () => {
    assert.throws(
      () => detectorConfig('retinanet_vgg'),
      /unknown detector 'retinanet_vgg'; known detectors: retinanet_/,
    );
  });
});

describe('detector network', () => {
  before(setup);
  const small = { channels: 16, attention: { heads: 4 } };
  let conv: tf.LayersModel;
  let attention: tf.LayersModel;
  let dir: string;
  before(() => {
    conv = createDetector('retinanet_demo', small, { seed: 1 });
    attention = createDetector('retinanet_demo_attnfpn', small, { seed: 2 });
    dir = mkdtempSync(join(tmpdir(), 'sasa-detector-'));
  });
  after(() => {
    conv.dispose();
    attention.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives C2–C5 of a classification network at strides 4, 8, 16, 32', () => {
    const input = tf.input({ shape: [256, 256, 3] });
    const groups = buildGroupOutputs(modelConfig('resnet26', { widthMultiplier: 0.25, inputSize: 256 }), input);
    assert.deepEqual(
      groups.map((g) => g.shape),
      [
        [null, 64, 64, 64],
        [null, 32, 32, 128],
        [null, 16, 16, 256],
        [null, 8, 8, 512],
      ],
    );
  });

  for (const [h, w] of [
    [256, 256],
    [384, 512],
  ]) {
    it(`conv and attention detectors map [B, ${h}, ${w}, 3] to one prediction per anchor of generateAnchors`, () => {
      const n = anchorCount(h, w);
      for (const model of [conv, attention]) {
        const out = tf.tidy(() => {
          const { clsLogits, boxRegression } = detectorOutputs(model, randTensor([2, h, w, 3], 3) as tf.Tensor4D);
          return {
            cls: clsLogits.shape,
            box: boxRegression.shape,
            finite: clsLogits.dataSync().every(Number.isFinite),
          };
        });
        assert.deepEqual(out.cls, [2, n, 4], model.name);
        assert.deepEqual(out.box, [2, n, 4], model.name);
        assert.ok(out.finite, `${model.name}: finite logits`);
      }
    });
  }

  it('rejects images whose sides are not multiples of 128, naming the sizes', () => {
    const x = tf.zeros([1, 200, 256, 3]) as tf.Tensor4D;
    assert.throws(() => detectorOutputs(conv, x), /height and width must be multiples of 128, got 200×256/);
    x.dispose();
  });

  it('orders the outputs as torchvision: levels P3→P7, location-major, then anchor (view(N,A,K,H,W).permute(0,3,4,1,2))', () => {
    const predictor = conv.getLayer('head.classification_head.cls_logits');
    const perLevel = tf.model({
      inputs: conv.inputs,
      outputs: [0, 1, 2, 3, 4].map((i) => predictor.getOutputAt(i) as tf.SymbolicTensor),
    });
    tf.tidy(() => {
      const x = randTensor([2, 384, 256, 3], 4);
      const levels = perLevel.predict(x) as tf.Tensor4D[];
      const torchOrder = levels.map((y) => {
        const [b, hh, ww] = y.shape;
        const nchw = tf.transpose(y, [0, 3, 1, 2]);
        return tf.reshape(tf.transpose(tf.reshape(nchw, [b, 9, 4, hh, ww]), [0, 3, 4, 1, 2]), [b, -1, 4]);
      });
      const { clsLogits } = detectorOutputs(conv, x as tf.Tensor4D);
      assert.deepEqual(Array.from(clsLogits.dataSync()), Array.from(tf.concat(torchOrder, 1).dataSync()));
    });
  });

  it('starts every class probability near the prior 0.01 (bias −log(99)) and box deltas near 0', () => {
    for (const model of [conv, attention]) {
      const bias = model.getLayer('head.classification_head.cls_logits').getWeights()[1].dataSync();
      assert.ok(
        bias.every((b) => Math.abs(b + Math.log(99)) < 1e-6),
        `${model.name}: prior bias`,
      );
      const [p, maxDelta] = tf.tidy(() => {
        const { clsLogits, boxRegression } = detectorOutputs(model, randTensor([1, 256, 256, 3], 5) as tf.Tensor4D);
        return [tf.sigmoid(clsLogits).dataSync(), tf.max(tf.abs(boxRegression)).dataSync()[0]];
      });
      assert.ok(
        p.every((v) => Math.abs(v - 0.01) < 0.003),
        `${model.name}: sigmoid within 0.01 ± 0.003`,
      );
      assert.ok(maxDelta < 0.5, `${model.name}: box deltas near 0, max ${maxDelta}`);
    }
  });

  it("draws the attention subnets' W_V from N(0, subnetStddev²) and leaves the FPN's at the layer default", () => {
    const std = (name: string) => {
      const wv = attention.getLayer(name).getWeights()[2];
      return tf.tidy(() => Math.sqrt(tf.moments(wv).variance.dataSync()[0]));
    };
    const sigma = resolveDetectorConfig(detectorConfig('retinanet_demo_attnfpn')).subnetStddev;
    assert.equal(sigma, 0.177);
    for (const name of ['head.classification_head.conv.0', 'head.regression_head.attention']) {
      assert.ok(Math.abs(std(name) - sigma) < 0.1 * sigma, `${name}: std ${std(name)}`);
    }
    assert.ok(std('fpn.layer_blocks.0') > 0.1, 'FPN attention: std d_in^-0.5');
  });

  it("draws the conv subnets' kernels from N(0, subnetStddev²): torchvision's 0.01 unless set", () => {
    const std = (model: tf.LayersModel, name: string) =>
      tf.tidy(() => Math.sqrt(tf.moments(model.getLayer(name).getWeights()[0]).variance.dataSync()[0]));
    assert.equal(resolveDetectorConfig(detectorConfig('retinanet_resnet50')).subnetStddev, 0.01);
    const narrow = createDetector('retinanet_demo', { ...small, subnetStddev: 0.01 }, { seed: 1 });
    for (const name of ['head.classification_head.conv.0', 'head.regression_head.bbox_reg']) {
      assert.ok(Math.abs(std(narrow, name) - 0.01) < 0.001, `${name}: std ${std(narrow, name)}`);
      assert.ok(Math.abs(std(conv, name) - 0.028) < 0.0028, `${name}: demo std ${std(conv, name)}`);
    }
    narrow.dispose();
  });

  it("starts the attention demo's class logits no narrower than the conv demo's (at the conv's σ: 100× narrower)", () => {
    const spread = (name: string, overrides = {}) => {
      const model = createDetector(name, overrides, { seed: 3 });
      const std = tf.tidy(() => {
        const { clsLogits } = detectorOutputs(model, randTensor([1, 256, 256, 3], 6) as tf.Tensor4D);
        return Math.sqrt(tf.moments(clsLogits).variance.dataSync()[0]);
      });
      model.dispose();
      return std;
    };
    const convSpread = spread('retinanet_demo');
    const ratio = spread('retinanet_demo_attnfpn') / convSpread;
    const atConvSigma = spread('retinanet_demo_attnfpn', { subnetStddev: 0.028 }) / convSpread;
    assert.ok(ratio > 1 && ratio < 30, `attention / conv logit std ${ratio}`);
    assert.ok(atConvSigma < 0.02, `at σ 0.028: attention / conv logit std ${atConvSigma}`);
  });

  it('same seed, same weights', () => {
    const again = createDetector('retinanet_demo', small, { seed: 1 });
    const a = conv.getWeights().map((w) => Array.from(w.dataSync()));
    const b = again.getWeights().map((w) => Array.from(w.dataSync()));
    again.dispose();
    assert.deepEqual(a, b);
  });

  it('frozen batch norm: backbone BN not trained, moving statistics used and kept in training, also after a reload', async () => {
    const frozen = createDetector('retinanet_demo', { ...small, frozenBatchNorm: true });
    const unfrozen = createDetector('retinanet_demo', small);
    const count = (m: tf.LayersModel) => m.trainableWeights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
    const bnAffine = frozen.layers
      .filter((l) => l.getClassName() === 'BatchNorm')
      .reduce((s, l) => s + 2 * l.getWeights()[0].size, 0);
    assert.equal(count(frozen), count(unfrozen) - bnAffine);
    const bn = frozen.getLayer('layer2.0.bn1');
    const before = bn.getWeights().map((w) => Array.from(w.dataSync()));
    tf.tidy(() => {
      const x = randTensor([2, 256, 256, 3], 6) as tf.Tensor4D;
      const train = detectorOutputs(frozen, x, true).clsLogits.dataSync();
      const infer = detectorOutputs(frozen, x, false).clsLogits.dataSync();
      assert.deepEqual(Array.from(train), Array.from(infer));
    });
    assert.deepEqual(
      bn.getWeights().map((w) => Array.from(w.dataSync())),
      before,
    );
    await saveModelFiles(frozen, join(dir, 'frozen'));
    const { model: loaded } = await loadModelFiles(join(dir, 'frozen'));
    assert.equal(count(loaded), count(frozen));
    assert.equal(loaded.getLayer('layer2.0.bn1').trainable, false);
    loaded.dispose();
    frozen.dispose();
    unfrozen.dispose();
  });

  for (const which of ['conv', 'attention'] as const) {
    it(`${which} detector: save and load give the same predictions`, async () => {
      const model = which === 'conv' ? conv : attention;
      await saveModelFiles(model, join(dir, which));
      const { model: loaded } = await loadModelFiles(join(dir, which));
      tf.tidy(() => {
        const x = randTensor([1, 256, 384, 3], 7) as tf.Tensor4D;
        const a = detectorOutputs(model, x);
        const b = detectorOutputs(loaded, x);
        assert.deepEqual(Array.from(b.clsLogits.dataSync()), Array.from(a.clsLogits.dataSync()));
        assert.deepEqual(Array.from(b.boxRegression.dataSync()), Array.from(a.boxRegression.dataSync()));
      });
      loaded.dispose();
    });
  }
});

describe('detector with levelBatchNorm (batch norm per pyramid level, as the TPU RetinaNet)', () => {
  before(setup);
  const LEVELS = ['p3', 'p4', 'p5', 'p6', 'p7'];
  for (const name of ['retinanet_demo', 'retinanet_demo_attnfpn']) {
    it(`${name}: shares each subnet layer across levels and gives every level its own batch norm`, () => {
      const model = createDetector(name, { channels: 16, attention: { heads: 4 }, levelBatchNorm: true }, { seed: 3 });
      try {
        for (const prefix of ['head.classification_head', 'head.regression_head']) {
          for (const i of [0, 1]) {
            assert.equal(
              model.getLayer(`${prefix}.conv.${i}`).inboundNodes.length,
              5,
              `${prefix}.conv.${i} on 5 levels`,
            );
            for (const level of LEVELS)
              assert.equal(model.getLayer(`${prefix}.norm.${i}.${level}`).inboundNodes.length, 1);
          }
        }
        for (const level of LEVELS) assert.equal(model.getLayer(`fpn.norm.${level}`).inboundNodes.length, 1);
      } finally {
        model.dispose();
      }
    });
  }

  it("normalises each level's features with that level's batch statistics in training", () => {
    const model = createDetector('retinanet_demo_attnfpn', {
      channels: 16,
      attention: { heads: 4 },
      levelBatchNorm: true,
    });
    const norms = LEVELS.map((l) => model.getLayer(`fpn.norm.${l}`));
    const probe = tf.model({
      inputs: model.inputs,
      outputs: norms.flatMap((n) => [n.input as tf.SymbolicTensor, n.output as tf.SymbolicTensor]),
    });
    try {
      tf.tidy(() => {
        const outputs = probe.apply(randTensor([2, 256, 256, 3], 8), { training: true }) as tf.Tensor4D[];
        LEVELS.forEach((level, i) => {
          const before = tf.moments(outputs[2 * i], [0, 1, 2]);
          const after = tf.moments(outputs[2 * i + 1], [0, 1, 2]);
          // gamma 1, beta 0: mean 0 and the biased batch variance v / (v + ε) per channel
          const expected = tf.div(before.variance, tf.add(before.variance, BATCH_NORM_DEFAULTS.epsilon));
          const meanOff = tf.max(tf.abs(after.mean)).dataSync()[0];
          const varianceOff = tf.max(tf.abs(tf.sub(after.variance, expected))).dataSync()[0];
          assert.ok(meanOff < 1e-4, `${level}: channel mean ${meanOff}`);
          assert.ok(varianceOff < 1e-3, `${level}: channel variance off by ${varianceOff}`);
          assert.ok(tf.min(before.variance).dataSync()[0] > 0, `${level}: features vary`);
        });
      });
    } finally {
      model.dispose();
    }
  });

  it('frozenBatchNorm freezes the backbone batch norms only: the level batch norms keep training', () => {
    const model = createDetector('retinanet_demo', { channels: 16, levelBatchNorm: true, frozenBatchNorm: true });
    try {
      assert.equal(model.getLayer('layer2.0.bn1').trainable, false);
      assert.equal(model.getLayer('fpn.norm.p3').trainable, true);
      assert.equal(model.getLayer('head.regression_head.norm.1.p7').trainable, true);
    } finally {
      model.dispose();
    }
  });
});
