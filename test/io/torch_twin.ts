/**
 * sasa → PyTorch → sasa through the twin (python/sasa_torch), shared by
 * test/io/torch_twin_roundtrip.test.ts and tools/torch_twin_roundtrip.ts:
 *   1. build the model here (seeded), randomise every batch-norm weight and statistic and the fc
 *      bias (or import weights PyTorch trained), run it in inference mode on a seeded x [B, S, S, C];
 *   2. export the weights (exportTorchSafetensors); `/usr/bin/python3 -m sasa_torch.roundtrip`
 *      loads them into the twin, runs the same x and writes its logits and its own save;
 *   3. import the twin's save into a differently seeded model here: every weight must come back
 *      bit-identical, and the three logits (sasa, PyTorch, sasa again) agree within 1e-5.
 * Also the torch probe and a `torchrun` run of sasa_torch.train_ddp (gloo, CPU).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng } from '../../src/data/random.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { exportTorchSafetensors, importTorchSafetensors } from '../../src/io/torch_names.js';
import { buildModel } from '../../src/models/builder.js';
import type { ModelConfig } from '../../src/models/config.js';
import { modelConfig } from '../../src/models/registry.js';
import * as tf from '../../src/tf.js';

/** Max |difference| allowed between the three logits of one case. */
export const TWIN_TOLERANCE = 1e-5;
/** The Python with torch: Debian's python3-torch installs into the system Python (SASA_TORCH_PYTHON overrides). */
export const TORCH_PYTHON = process.env.SASA_TORCH_PYTHON ?? '/usr/bin/python3';
const ROOT = join(import.meta.dirname, '..', '..');
const BATCH = 2;
const SMALL = { widthMultiplier: 0.125, classes: 7, attention: { kernelSize: 3, heads: 2 } };

/** Why torch cannot be used here (false when `/usr/bin/python3 -c 'import torch'` works). */
export function torchMissing(): string | false {
  const r = spawnSync(TORCH_PYTHON, ['-c', 'import torch, torch.distributed'], { encoding: 'utf8' });
  if (r.error) return `${TORCH_PYTHON}: ${r.error.message}`;
  if (r.status !== 0) return `${TORCH_PYTHON} cannot import torch (${r.stderr.trim().split('\n').at(-1)})`;
  return false;
}

/** Every registered model reduced, the demo models, and the variants the options allow. */
export function roundTripCases(): ModelConfig[] {
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

/** Names of the weights of `a` whose bits differ from those of `b`. */
function changedWeights(a: tf.LayersModel, b: tf.LayersModel): string[] {
  const bw = b.getWeights();
  return a.getWeights().flatMap((w, i) => {
    const x = new Uint32Array((w.dataSync() as Float32Array).buffer);
    const y = new Uint32Array((bw[i].dataSync() as Float32Array).buffer);
    return x.length === y.length && x.every((v, j) => v === y[j]) ? [] : [a.weights[i].originalName];
  });
}

/** The model a train_ddp run wrote (OUT/config.json: {model, overrides}). */
export function trainedConfig(dir: string): ModelConfig {
  const { model, overrides } = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  return modelConfig(model, overrides);
}

export interface RoundTrip {
  name: string;
  /** max |logit| of sasa's logits (the scale the differences compare to). */
  logitScale: number;
  /** max |sasa − twin| over the logits [B, classes]. */
  sasaVsTorch: number;
  /** max |sasa − sasa with the twin's save imported|. */
  sasaVsBack: number;
  /** Weights whose bits changed on the trip (none expected). */
  changed: string[];
}

/**
 * The round trip of each config. With `trained` (a train_ddp OUT folder) the configs' models start
 * from OUT/model.safetensors instead of randomised batch norms.
 */
export async function roundTrip(configs: ModelConfig[], trained?: string): Promise<RoundTrip[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sasa-torch-twin-'));
  try {
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
    runTwin(['-m', 'sasa_torch.roundtrip', dir]);
    const results: RoundTrip[] = [];
    for (const [c, r] of runs.entries()) {
      const torchLogits = (await readSafetensors(join(dir, `${c}_logits.safetensors`))).tensors.get('logits');
      const back = buildModel(r.config, { seed: 900 + c });
      await importTorchSafetensors(back, join(dir, `${c}_torch.safetensors`));
      results.push({
        name: String(r.config.name),
        logitScale: maxDiff(r.logits, new Float32Array(r.logits.length)),
        sasaVsTorch: maxDiff(r.logits, torchLogits?.data as Float32Array),
        sasaVsBack: maxDiff(r.logits, logitsOf(back, r.x)),
        changed: changedWeights(r.model, back),
      });
      tf.dispose([r.x]);
      r.model.dispose();
      back.dispose();
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the system Python with the twin on its path; a failure throws with its output. */
function runTwin(args: string[]): void {
  execFileSync(TORCH_PYTHON, args, {
    stdio: 'pipe',
    maxBuffer: 64 << 20,
    env: { ...process.env, PYTHONPATH: join(ROOT, 'python') },
  });
}

export interface DdpRun {
  model: string;
  steps: number;
  /** Images per process per step. */
  batch: number;
  /** Learning rate per 256 images (train_ddp's --lr). */
  lr: number;
  out: string;
  /** Weights to start from (sasa's exportTorchSafetensors), else train_ddp's seeded initialisation. */
  init?: string;
}

/**
 * `torchrun --standalone --nproc_per_node 2 -m sasa_torch.train_ddp` on the embedded Fashion-MNIST
 * subset, gloo backend, one thread per process; returns the loss of each step (OUT/log.jsonl).
 * (`--redirects 1 --tee 1`: torch 1.13's defaults fail on Python 3.11.)
 */
export function trainDdp(run: DdpRun): number[] {
  runTwin([
    '-m',
    'torch.distributed.run',
    '--standalone',
    '--redirects',
    '1',
    '--tee',
    '1',
    '--nproc_per_node',
    '2',
    '-m',
    'sasa_torch.train_ddp',
    ...['--model', run.model, '--idx', join(ROOT, 'data', 'fashion-mnist-subset'), '--backend', 'gloo'],
    ...['--steps', String(run.steps), '--batch', String(run.batch), '--lr', String(run.lr)],
    ...['--workers', '0', '--out', run.out],
    ...(run.init ? ['--init', run.init] : []),
  ]);
  return readFileSync(join(run.out, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .filter((e) => 'loss' in e)
    .map((e) => e.loss as number);
}
