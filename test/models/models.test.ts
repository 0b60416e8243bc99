/** Models: registry, builder, analytic counts against the built networks, bad configs, save and load. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadModelFiles, saveModelFiles } from '../../src/io/model_files.js';
import { exportTorchSafetensors, importTorchSafetensors } from '../../src/io/torch_names.js';
import { buildModel } from '../../src/models/builder.js';
import { type ModelConfig, resolveConfig } from '../../src/models/config.js';
import { countModel } from '../../src/models/count.js';
import { createModel, listModels, modelConfig } from '../../src/models/registry.js';
import { studyConfigs } from '../../src/models/studies.js';
import * as tf from '../../src/tf.js';
import { FAST, randTensor, setup } from '../helpers.js';
import { attentionFlops, trainableCount } from './layer_flops.js';

/** FLOPs read off the built model's layers and their shapes (SASA.md §4), independent of count.ts. */
function flopsOfBuiltModel(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const inShape = layer.inputSpec?.[0]?.shape ?? (layer.input as tf.SymbolicTensor).shape;
    const out = (layer.output as tf.SymbolicTensor).shape as number[];
    const cfg = layer.getConfig() as Record<string, unknown>;
    if (cls === 'SasaConv2D') {
      const [kh, kw, cin, cout] = (layer.getWeights()[0] as tf.Tensor).shape;
      flops += 2 * kh * kw * cin * cout * out[1] * out[2];
    } else if (cls === 'Dense') {
      const [i, o] = (layer.getWeights()[0] as tf.Tensor).shape;
      flops += 2 * i * o;
    } else if (cls === 'LocalSelfAttention2D') {
      const [, h, w, dIn] = inShape as number[];
      flops += attentionFlops(cls, cfg, h, w, dIn);
    } else if (cls === 'AttentionStem') {
      const [, h, w, dIn] = (layer.input as tf.SymbolicTensor).shape as number[];
      flops += attentionFlops(cls, cfg, h, w, dIn);
    }
  }
  return flops;
}

describe('model registry', () => {
  before(setup);

  it('lists the nine models of the paper and the demo models, and filters by pattern', () => {
    assert.deepEqual(listModels().sort(), [
      'resnet26',
      'resnet26_demo',
      'resnet38',
      'resnet50',
      'sasa_resnet26',
      'sasa_resnet26_convstem',
      'sasa_resnet26_convstem_demo',
      'sasa_resnet26_demo',
      'sasa_resnet38',
      'sasa_resnet38_convstem',
      'sasa_resnet50',
      'sasa_resnet50_convstem',
    ]);
    assert.deepEqual(listModels('sasa_*_convstem').length, 3);
    assert.deepEqual(listModels('resnet*'), ['resnet26', 'resnet38', 'resnet50', 'resnet26_demo']);
  });

  it('refuses unknown names, listing the known ones', () => {
    assert.throws(() => createModel('resnet18'), /unknown model 'resnet18'; known models: resnet26, .*sasa_resnet50/);
  });
});

describe('parameter and FLOP counts', () => {
  before(setup);

  it('reads the paper baselines: 13.7 M / 4.7 B, 19.6 M / 6.4 B (paper: 6.5), 25.6 M / 8.2 B', () => {
    const c = (n: string) => countModel(modelConfig(n));
    // torchvision's resnet50: 25,557,032 parameters, 4,089,184,256 multiply-adds
    assert.equal(c('resnet50').params, 25_557_032);
    assert.equal(c('resnet50').flops, 2 * 4_089_184_256);
    assert.equal((c('resnet26').params / 1e6).toFixed(1), '13.7');
    assert.equal((c('resnet26').flops / 1e9).toFixed(1), '4.7');
    assert.equal((c('resnet38').params / 1e6).toFixed(1), '19.6');
    assert.equal((c('resnet38').flops / 1e9).toFixed(2), '6.43');
  });

  const cases: [string, ModelConfig][] = [
    ...listModels().map((n) => [n, modelConfig(n)] as [string, ModelConfig]),
    ...['groups', 'k', 'encoding', 'logits', 'stem'].flatMap((s) =>
      studyConfigs(s).map((e) => [`${s}: ${e.label}`, e.config] as [string, ModelConfig]),
    ),
  ];
  for (const [label, config] of FAST ? cases.filter((_, i) => i % 5 === 0) : cases) {
    it(`${label}: analytic count = the built model's weights and layer-by-layer FLOPs`, () => {
      const model = buildModel(config);
      try {
        const c = countModel(config);
        assert.equal(c.params, trainableCount(model));
        assert.equal(c.flops, flopsOfBuiltModel(model));
      } finally {
        model.dispose();
      }
    });
  }
});

describe('builder', () => {
  before(setup);

  const small: Partial<ModelConfig> = { widthMultiplier: 0.125, inputSize: 32, classes: 7, attention: { heads: 2 } };

  it('builds every registered model at a small size and maps [B,S,S,C] to [B,classes]', () => {
    for (const name of FAST ? ['resnet26', 'sasa_resnet26'] : listModels()) {
      const model = createModel(name, small);
      const channels = modelConfig(name).inputChannels ?? 3;
      const y = model.apply(randTensor([2, 32, 32, channels], 1), { training: true }) as tf.Tensor;
      assert.deepEqual(y.shape, [2, 7], name);
      assert.ok(y.dataSync().every(Number.isFinite), `${name}: finite logits`);
      model.dispose();
    }
  });

  it('small stems keep 28×28 and 32×32 inputs at full resolution before group 1', () => {
    for (const [type, size] of [
      ['small_conv', 28],
      ['small_attention', 28],
      ['small_conv', 32],
      ['small_attention', 32],
    ] as const) {
      const cfg = modelConfig('sasa_resnet26', { ...small, inputSize: size, stem: { type } });
      const r = resolveConfig(cfg);
      assert.deepEqual(r.stem.outputSize, [size, size]);
      assert.deepEqual(r.blocks.at(-1)?.inputSize, [Math.ceil(size / 4), Math.ceil(size / 4)]);
      const model = buildModel(cfg);
      const y = model.apply(randTensor([1, size, size, 3], 2)) as tf.Tensor;
      assert.deepEqual(y.shape, [1, 7]);
      model.dispose();
    }
  });

  it('zero-initialises the last BN gamma of every block and names layers like torchvision', () => {
    const model = createModel('resnet26', small);
    const names = model.layers.map((l) => l.name);
    for (const n of ['stem.conv', 'stem.bn', 'layer1.0.conv1', 'layer2.0.conv2', 'layer2.0.downsample.0', 'fc']) {
      assert.ok(names.includes(n), n);
    }
    for (const l of model.layers.filter((x) => /bn3$/.test(x.name))) {
      assert.equal(tf.sum(tf.abs(l.getWeights()[0])).dataSync()[0], 0, l.name);
    }
    assert.notEqual(tf.sum(model.getLayer('layer1.0.bn2').getWeights()[0]).dataSync()[0], 0);
    model.dispose();
  });

  it('puts attention only in the groups asked for', () => {
    const model = buildModel(
      modelConfig('resnet50', { ...small, spatial: ['conv', 'attention', 'conv', 'attention'] }),
    );
    const kind = (n: string) => model.getLayer(n).getClassName();
    assert.equal(kind('layer1.0.conv2'), 'SasaConv2D');
    assert.equal(kind('layer2.3.conv2'), 'LocalSelfAttention2D');
    assert.equal(kind('layer3.0.conv2'), 'SasaConv2D');
    assert.equal(kind('layer4.2.conv2'), 'LocalSelfAttention2D');
    model.dispose();
  });

  it('refuses impossible configurations, naming the field', () => {
    const bad: [Partial<ModelConfig>, RegExp][] = [
      [{ inputSize: 4 }, /inputSize 4 is too small: group \d would downsample/],
      [{ inputSize: 30, stem: { type: 'attention' } }, /inputSize 30 must be a multiple of 4/],
      [{ attention: { heads: 3 } }, /attention.heads 3 must divide widths\[0\] 64/],
      [{ attention: { kernelSize: 4 } }, /attention.kernelSize must be an odd integer from 1 to 31, got 4/],
      [{ attention: { kernelSize: 33 } }, /attention.kernelSize must be an odd integer from 1 to 31, got 33/],
      [{ attention: { padding: 'same' as never } }, /attention.padding must be one of zeros, masked/],
      [{ bnDecay: 1 }, /bnDecay must be in \[0, 1\), got 1/],
      [{ bnEpsilon: 0 }, /bnEpsilon must be a finite number > 0/],
      [{ blocks: [1, 0, 1, 1] }, /blocks\[1\] must be a positive integer/],
      [{ widths: [64, 128] }, /widths must have one width per group \(4\)/],
      [{ spatial: ['conv', 'attention'] }, /spatial must have one entry per group/],
      [{ stem: { type: 'big' as never } }, /stem.type must be one of conv, attention/],
      [{ stem: { type: 'attention', heads: 5 } }, /stem.width 64 must be divisible by stem.heads 5/],
      [{ widthMultiplier: 0 }, /widthMultiplier must be a positive number/],
      [{ attention: { positional: 'absolute', logits: 'qr' } }, /attention.logits 'qr' needs positional 'relative'/],
    ];
    for (const [overrides, re] of bad) {
      assert.throws(() => createModel('sasa_resnet26', overrides), re, JSON.stringify(overrides));
    }
  });
});

describe('seeded initialisation', () => {
  before(setup);
  const cfg = {
    inputSize: 32,
    classes: 10,
    widthMultiplier: 0.125,
    blocks: [1, 1],
    widths: [64, 128],
    stem: { type: 'small_attention' as const },
    spatial: 'attention' as const,
    attention: { heads: 2, kernelSize: 3 },
  };
  const weightsOf = (seed: number) => {
    const model = createModel('sasa_resnet26', cfg, { seed });
    // variable names carry a per-process counter suffix (_3): compare without it
    const values = model.weights.map((w) => ({
      name: w.name.replace(/_\d+$/, ''),
      values: w.read().dataSync().slice(),
    }));
    model.dispose();
    return values;
  };

  it('same seed, same weights; another seed, other weights; Math.random untouched', () => {
    const random = Math.random;
    Math.random = () => {
      throw new Error('Math.random called while building a seeded model');
    };
    let a: ReturnType<typeof weightsOf>;
    let b: ReturnType<typeof weightsOf>;
    let c: ReturnType<typeof weightsOf>;
    try {
      a = weightsOf(7);
      b = weightsOf(7);
      c = weightsOf(8);
    } finally {
      Math.random = random;
    }
    assert.equal(Math.random, random);
    assert.deepEqual(a, b);
    const drawn = a.filter((w) => w.values.some((v) => v !== 0 && v !== 1));
    assert.ok(drawn.length > 5, 'the model has randomly initialised weights');
    for (const w of drawn) {
      const other = c.find((x) => x.name === w.name);
      assert.notDeepEqual(w.values, other?.values, `${w.name} differs between seeds 7 and 8`);
    }
  });

  it('weights of one shape in one layer differ (each weight its own seed)', () => {
    const w = weightsOf(7);
    const of = (suffix: string) => w.find((x) => x.name.endsWith(suffix))?.values;
    const q = of('layer1.0.conv2/query_kernel');
    const k = of('layer1.0.conv2/key_kernel');
    assert.ok(q && k, w.map((x) => x.name).join(', '));
    assert.notDeepEqual(q, k);
  });
});

describe('save and load', () => {
  before(setup);
  const dir = mkdtempSync(join(tmpdir(), 'sasa-models-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg: Partial<ModelConfig> = {
    widthMultiplier: 0.125,
    inputSize: 32,
    classes: 3,
    blocks: [1, 1, 1, 1],
    attention: { heads: 2, kernelSize: 3 },
  };

  /** Randomises every weight (BN statistics included) so that a reload that dropped one would show. */
  function randomise(model: tf.LayersModel): void {
    model.setWeights(
      model.weights.map((w, i) =>
        tf.add(tf.mul(randTensor(w.shape as number[], 100 + i), 0.2), /moving_var|variance/.test(w.name) ? 1 : 0),
      ),
    );
  }

  it('tfjs model files: a reloaded full-attention model gives identical outputs', async () => {
    const model = createModel('sasa_resnet26', cfg);
    randomise(model);
    const x = randTensor([2, 32, 32, 3], 5);
    const want = (model.predict(x) as tf.Tensor).dataSync();
    await saveModelFiles(model, join(dir, 'm'), { config: modelConfig('sasa_resnet26', cfg) });
    const { model: loaded, metadata } = await loadModelFiles(join(dir, 'm'));
    assert.deepEqual((metadata?.config as ModelConfig | undefined)?.blocks, [1, 1, 1, 1]);
    assert.deepEqual((loaded.predict(x) as tf.Tensor).dataSync(), want);
    assert.equal(loaded.getLayer('stem').getClassName(), 'AttentionStem');
  });

  it('safetensors with PyTorch names: export, import into a fresh model, identical outputs', async () => {
    const model = createModel('sasa_resnet26', { ...cfg, stem: { type: 'attention', values: 'conv' } });
    randomise(model);
    const x = randTensor([2, 32, 32, 3], 6);
    const want = (model.predict(x) as tf.Tensor).dataSync();
    const path = join(dir, 'w.safetensors');
    await exportTorchSafetensors(model, path);
    const fresh = createModel('sasa_resnet26', { ...cfg, stem: { type: 'attention', values: 'conv' } });
    await importTorchSafetensors(fresh, path);
    assert.deepEqual((fresh.predict(x) as tf.Tensor).dataSync(), want);
  });

  it('refuses weights of another model, naming the weight', async () => {
    const path = join(dir, 'conv.safetensors');
    await exportTorchSafetensors(createModel('resnet26', cfg), path);
    await assert.rejects(
      importTorchSafetensors(createModel('sasa_resnet26', cfg), path),
      /conv\.safetensors: weight '.*' .*missing|shape/,
    );
  });
});
