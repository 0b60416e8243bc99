/**
 * The trainer: a run killed with SIGKILL mid-epoch and resumed ends with exactly the weights of an
 * uninterrupted run; a diverging run stops with a clear message and keeps its last good checkpoint;
 * a checkpoint from another model is refused naming the weights; outputs (metrics, curves, model).
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadData, parseDataSpec } from '../../src/data/spec.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { readCheckpoint } from '../../src/tasks/classification/checkpoint.js';
import { type TrainOptions, train } from '../../src/tasks/classification/trainer.js';
import { DivergedError } from '../../src/tasks/training/nan_stop.js';
import { writeIdxPair } from '../data/idx_fixture.js';
import { setup } from '../helpers.js';
import { tinyTrainOptions } from './tiny_options.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-train-'));
const COUNT = 200;
const SIDE = 8;

const [imagesPath, labelsPath] = writeIdxPair(dir, 'train', {
  count: COUNT,
  side: SIDE,
  classes: 4,
  seed: 11,
  gzip: true,
});
const spec = `idx:${imagesPath},${labelsPath}`;
const TRAIN_ARGS = [
  '--model',
  'resnet26',
  '--width-multiplier',
  '0.125',
  '--blocks',
  '1,1,1,1',
  '--epochs',
  '3',
  '--batch-size',
  '8',
  '--lr',
  '0.05',
  '--warmup-epochs',
  '1',
  '--checkpoint-every',
  '1',
  '--seed',
  '7',
  '--data',
  spec,
];

function sasa(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', ...TRAIN_ARGS, ...args], {
    env: { ...process.env, SASA_NUM_THREADS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function finished(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

function stepLines(out: string): number {
  const path = join(out, 'metrics.jsonl');
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"step"')).length;
}

async function finalTensors(out: string): Promise<Map<string, Float32Array>> {
  const { tensors } = await readSafetensors(join(out, 'checkpoint.safetensors'));
  return new Map([...tensors].map(([k, v]) => [k, v.data as Float32Array]));
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('sasa train', () => {
  it('killed with SIGKILL mid-epoch and resumed, ends with the same weights as an uninterrupted run', async () => {
    const straight = join(dir, 'straight');
    const run = await finished(sasa(['--out', straight]));
    assert.equal(run.code, 0, run.stderr);

    const killed = join(dir, 'killed');
    const child = sasa(['--out', killed]);
    const exit = finished(child);
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (stepLines(killed) >= 5) {
          child.kill('SIGKILL');
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    const k = await exit;
    assert.equal(k.signal, 'SIGKILL', `the run ended before it could be killed (${k.code})`);
    const at = (await readCheckpoint(join(killed, 'checkpoint.safetensors'))).state;
    assert.ok(at.step >= 4 && at.epoch === 0 && at.batch > 0, `killed mid-epoch: ${JSON.stringify(at)}`);

    const resumed = await finished(sasa(['--out', killed, '--resume']));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming at step \d+ of \d+/);

    const a = await finalTensors(straight);
    const b = await finalTensors(killed);
    assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    for (const [name, values] of a) assert.deepEqual(b.get(name), values, name);
    const metrics = (out: string) =>
      readFileSync(join(out, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => ({ ...JSON.parse(l), images_per_s: 0 }));
    assert.deepEqual(metrics(killed), metrics(straight));
    for (const f of [
      'loss.png',
      'loss.vl.json',
      'accuracy.png',
      'accuracy.vl.json',
      'summary.json',
      join('model', 'model.json'),
    ]) {
      assert.ok(existsSync(join(killed, f)), f);
    }
  });
});

describe('trainer', () => {
  before(setup);
  const options = (overrides: Partial<TrainOptions> = {}) =>
    tinyTrainOptions({ size: SIDE, channels: 1, classes: 4 }, overrides);

  it('stops on an exploding or non-finite loss with a clear message and keeps no checkpoint of the blow-up', async () => {
    const data = await loadData(parseDataSpec(spec));
    const out = join(dir, 'diverge');
    let step = 0;
    await assert.rejects(train(options({ lr: 1e30, checkpointEvery: 1 }), data, out), (err: unknown) => {
      assert.ok(err instanceof DivergedError);
      const m =
        /the loss (became NaN|became Infinity|exploded to \S+ \(over 100 × .*\)) at step (\d+) .*training stopped/.exec(
          (err as Error).message,
        );
      assert.ok(m, (err as Error).message);
      step = Number(m[2]);
      return true;
    });
    const path = join(out, 'checkpoint.safetensors');
    if (!existsSync(path)) return;
    const ck = await readCheckpoint(path);
    assert.ok(ck.state.step < step - 1, `the checkpoint (step ${ck.state.step}) predates the weights of step ${step}`);
    for (const [name, values] of ck.model) assert.ok(values.every(Number.isFinite), `${name} finite`);
  });

  it('refuses to resume from a checkpoint of another model, naming the mismatched weights', async () => {
    const data = await loadData(parseDataSpec(spec));
    const out = join(dir, 'other');
    await train(options({ epochs: 1 }), data, out);
    const ck = join(out, 'checkpoint.safetensors');
    const state = JSON.parse(JSON.stringify((await readCheckpoint(ck)).state));
    assert.equal(state.run.options.model.blocks.join(), '1,1');
    const { writeSafetensors } = await import('../../src/io/safetensors.js');
    const file = await readSafetensors(ck);
    const renamed = [...file.tensors].map(([name, t]) => ({
      name: name.replace('layer2.0.conv1', 'layer2.0.convX'),
      shape: t.shape,
      data: t.data as Float32Array,
    }));
    await writeSafetensors(ck, renamed, file.metadata);
    await assert.rejects(
      train(options(), data, out, { resume: true }),
      /checkpoint\.safetensors: the checkpoint is from another model \(2 mismatched weights: 'layer2\.0\.conv1\/kernel' missing; 'layer2\.0\.convX\/kernel' not in the model\)/,
    );
  });
});
