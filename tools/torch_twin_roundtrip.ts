/**
 * Round trip sasa → PyTorch → sasa through the twin (python/sasa_torch), for a reduced-width
 * version of every registered model and the attention variants (absolute positions, 'masked'
 * padding, 'qr' logits, a scale, stem values 'plain' and 'conv', odd input sides):
 *   1. build the model here (seeded), randomise every batch-norm weight and statistic and the fc
 *      bias, run it in inference mode on a seeded input x [B, S, S, C];
 *   2. export the weights (exportTorchSafetensors); `/usr/bin/python3 -m sasa_torch.roundtrip`
 *      loads them into the twin, runs the same x and writes its logits and its own save;
 *   3. import the twin's save into a differently seeded model here: every weight must come back
 *      bit-identical, and the three logits (sasa, PyTorch, sasa again) agree within 1e-5.
 * With --trained DIR (a `sasa_torch.train_ddp` output: config.json, model.safetensors) the one case
 * is that model with the weights PyTorch trained, imported here instead of randomised.
 * Needs torch (Debian's python3-torch), so it is a tool rather than a test of the suite; the suite's
 * Python-free side is test/io/torch_twin_golden.test.ts.
 *   npx tsx tools/torch_twin_roundtrip.ts [--backend native|cpu] [--trained DIR]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/native.js';
import { rng } from '../src/data/random.js';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import { exportTorchSafetensors, importTorchSafetensors } from '../src/io/torch_names.js';
import { buildModel } from '../src/models/builder.js';
import type { ModelConfig } from '../src/models/config.js';
import { modelConfig } from '../src/models/registry.js';
import * as tf from '../src/tf.js';

const TOLERANCE = 1e-5;
const BATCH = 2;
const ROOT = join(import.meta.dirname, '..');

const SMALL = { widthMultiplier: 0.125, classes: 7, attention: { kernelSize: 3, heads: 2 } };

/** Every registered model reduced, and the variants the options allow. */
function cases(): ModelConfig[] {
  const names = ['resnet', 'sasa_resnet_convstem', 'sasa_resnet'].flatMap((n) =>
    [26, 38, 50].map((d) => n.replace('resnet', `resnet${d}`)),
  );
  const reduced = names.map((n) => modelConfig(n, { ...SMALL, inputSize: 32 }));
  const demos = ['resnet26_demo', 'sasa_resnet26_convstem_demo', 'sasa_resnet26_demo'].map((n) => modelConfig(n));
  const variant = (name: string, base: string, overrides: Partial<ModelConfig>) => ({
    ...modelConfig(base, { ...SMALL, ...overrides, attention: { ...SMALL.attention, ...overrides.attention } }),
    name,
  });
  return [
    ...reduced,
    ...demos,
    variant('resnet26_odd30', 'resnet26', { inputSize: 30 }),
    variant('convstem_odd27', 'sasa_resnet26_convstem', { inputSize: 27 }),
    variant('absolute_masked', 'sasa_resnet26_convstem', {
      inputSize: 32,
      attention: { positional: 'absolute', padding: 'masked', kernelSize: 5 },
    }),
    variant('qr_scale', 'sasa_resnet26_convstem', { inputSize: 32, attention: { logits: 'qr', scale: 0.3 } }),
    variant('stem_plain', 'sasa_resnet26', { inputSize: 32, stem: { type: 'attention', values: 'plain' } }),
    variant('stem_conv_norel', 'sasa_resnet26', {
      inputSize: 32,
      stem: { type: 'attention', values: 'conv', relative: false },
    }),
  ];
}

/** BN weights and statistics and biases random (gammas non-zero), other weights as initialised. */
function randomise(model: tf.LayersModel, seed: number): void {
  const rand = rng(seed);
  const values = model.weights.map((w) => {
    const n = w.shape.reduce((a, b) => (a as number) * (b as number), 1) as number;
    const kind = w.originalName.slice(w.originalName.lastIndexOf('/') + 1).replace(/^bn_/, '');
    const draw: Record<string, () => number> = {
      gamma: () => (0.5 + 0.5 * rand()) * (rand() < 0.15 ? -1 : 1),
      beta: () => 0.2 * (rand() - 0.5),
      bias: () => 0.2 * (rand() - 0.5),
      moving_mean: () => 0.2 * (rand() - 0.5),
      moving_variance: () => 0.5 + rand(),
    };
    const d = draw[kind];
    return d ? tf.tensor(Float32Array.from({ length: n }, d), w.shape) : w.read().clone();
  });
  model.setWeights(values);
  tf.dispose(values);
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

function logitsOf(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

function sameBits(a: tf.LayersModel, b: tf.LayersModel): string[] {
  const bw = b.getWeights();
  return a.getWeights().flatMap((w, i) => {
    const x = new Uint32Array((w.dataSync() as Float32Array).buffer);
    const y = new Uint32Array((bw[i].dataSync() as Float32Array).buffer);
    return x.length === y.length && x.every((v, j) => v === y[j]) ? [] : [a.weights[i].originalName];
  });
}

const option = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

/** The model a train_ddp run wrote (config.json: {model, overrides}). */
function trainedConfig(dir: string): ModelConfig {
  const { model, overrides } = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  return modelConfig(model, overrides);
}

async function main(): Promise<void> {
  await initBackend({ backend: option('backend') ?? 'native' });
  const trained = option('trained');
  const dir = mkdtempSync(join(tmpdir(), 'sasa-torch-twin-'));
  const configs = trained ? [trainedConfig(trained)] : cases();
  const runs = [];
  for (const [c, config] of configs.entries()) {
    const model = buildModel(config, { seed: 100 + c });
    if (trained) await importTorchSafetensors(model, join(trained, 'model.safetensors'));
    else randomise(model, 200 + c);
    const [, s, , ch] = model.inputs[0].shape as number[];
    const rand = rng(300 + c);
    const x = tf.tensor(
      Float32Array.from({ length: BATCH * s * s * ch }, () => 2 * rand() - 1),
      [BATCH, s, s, ch],
    );
    await exportTorchSafetensors(model, join(dir, `${c}.safetensors`));
    await writeSafetensors(join(dir, `${c}_x.safetensors`), [
      { name: 'x', shape: x.shape, data: x.dataSync() as Float32Array },
    ]);
    runs.push({ config, model, x, logits: logitsOf(model, x) });
  }
  writeFileSync(join(dir, 'cases.json'), JSON.stringify(configs.map((config) => ({ config }))));
  execFileSync('/usr/bin/python3', ['-m', 'sasa_torch.roundtrip', dir], {
    stdio: 'inherit',
    env: { ...process.env, PYTHONPATH: join(ROOT, 'python') },
  });
  let failed = 0;
  for (const [c, r] of runs.entries()) {
    const torchLogits = (await readSafetensors(join(dir, `${c}_logits.safetensors`))).tensors.get('logits');
    const back = buildModel(r.config, { seed: 900 + c });
    await importTorchSafetensors(back, join(dir, `${c}_torch.safetensors`));
    const changed = sameBits(r.model, back);
    const dTorch = maxDiff(r.logits, torchLogits?.data as Float32Array);
    const dBack = maxDiff(r.logits, logitsOf(back, r.x));
    const scale = maxDiff(r.logits, new Float32Array(r.logits.length));
    const ok = changed.length === 0 && dTorch <= TOLERANCE && dBack <= TOLERANCE;
    if (!ok) failed++;
    console.log(
      `${ok ? 'ok  ' : 'FAIL'} ${String(r.config.name).padEnd(28)} |logits| ≤ ${scale.toFixed(3)}  ` +
        `sasa vs torch ${dTorch.toExponential(2)}  sasa vs sasa(torch save) ${dBack.toExponential(2)}` +
        (changed.length ? `  weights changed: ${changed.slice(0, 3).join(', ')}` : '  weights bit-identical'),
    );
  }
  rmSync(dir, { recursive: true, force: true });
  if (failed) {
    console.error(`${failed} of ${runs.length} round trips failed`);
    process.exit(1);
  }
  console.log(`all ${runs.length} round trips within ${TOLERANCE}`);
}

await main();
