/**
 * Crash safety of `sasa train`: a run killed with SIGKILL inside each kind of write (checkpoint, curves,
 * model, summary, metrics line — through the test-only SASA_TEST_KILL_AT hook, src/io/kill_point.ts) or
 * at seeded random moments, then resumed with `--resume` (as often as it was killed), ends with the
 * uninterrupted run's weight files byte for byte, its summary (but for the time) and its metrics (but
 * for the speed), and no temporary file left in the run folder. `sasa detect train` likewise, killed
 * inside a checkpoint and inside its final model. The fast subset (SASA_TEST_FAST, run on tfjs's slow cpu
 * backend in CI) kills inside a checkpoint and the summary and at random moments, and detect train once.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rng } from '../../src/data/random.js';
import { writeIdxPair } from '../data/idx_fixture.js';
import { FAST } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const train = writeIdxPair(dir, 'train', { count: 100, side: 8, classes: 4, seed: 3 });
const test = writeIdxPair(dir, 'test', { count: 24, side: 8, classes: 4, seed: 4 });
/** 100 images, 4 held out: 96 / 16 = 6 steps an epoch, a checkpoint every 3 steps and at each epoch end. */
const TRAIN_ARGS = [
  ...['--model', 'resnet26', '--width-multiplier', '0.125', '--blocks', '1,1,1,1', '--seed', '5'],
  ...['--epochs', '2', '--batch-size', '16', '--lr', '0.05', '--warmup-epochs', '1', '--checkpoint-every', '3'],
  ...['--data', `idx:${[...train, ...test].join(',')}`],
];
/** Files that must equal the uninterrupted run's byte for byte. */
const SAME_BYTES = ['checkpoint.safetensors', 'model/weights.bin', 'model/model.json', 'loss.vl.json'];

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** `sasa ARGS…` with SASA_TEST_KILL_AT=`killAt`, SIGKILLed from here by `kill` if given (it gets the child). */
function run(args: string[], killAt = '', kill?: (child: ChildProcess) => () => void): Promise<Exit> {
  const env = { ...process.env, SASA_NUM_THREADS: '1', SASA_TEST_KILL_AT: killAt };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env, stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const stop = kill?.(child);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      stop?.();
      resolve({ code, signal, stderr });
    }),
  );
}

/**
 * `sasa train` into `out` (resumed with `resume`), killed at `killAt` (SASA_TEST_KILL_AT), or `killAfterMs`
 * after its metrics log holds `killAfterLines` lines.
 */
function sasa(out: string, { resume = false, killAt = '', killAfterLines = 0, killAfterMs = 0 } = {}): Promise<Exit> {
  const args = ['train', ...TRAIN_ARGS, '--out', out, ...(resume ? ['--resume'] : [])];
  if (!killAfterLines) return run(args, killAt);
  return run(args, killAt, (child) => {
    const poll = setInterval(() => {
      if (metricsLines(out) < killAfterLines) return;
      clearInterval(poll);
      setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    }, 2);
    return () => clearInterval(poll);
  });
}

function metricsLines(out: string): number {
  const path = join(out, 'metrics.jsonl');
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').length - 1 : 0;
}

const readJsonLines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => ({ ...JSON.parse(l), images_per_s: 0 }));
const summaryOf = (out: string) => ({ ...JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')), seconds: 0 });

/** Every entry under `out` whose name starts with a dot (the temporaries of atomic writes). */
function hiddenEntries(out: string): string[] {
  return readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((p) => p.split('/').some((n) => n[0] === '.'));
}

/** Resumes `out` (or starts it again, when it was killed before its first checkpoint) and expects it to end well. */
async function resumeToEnd(out: string): Promise<void> {
  const r = await sasa(out, { resume: existsSync(join(out, 'checkpoint.safetensors')) });
  assert.equal(r.code, 0, `the resume failed (${r.signal ?? r.code}):\n${r.stderr}`);
}

function assertSameRun(out: string, straight: string): void {
  for (const f of SAME_BYTES) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(straight, f))), f);
  assert.deepEqual(summaryOf(out), summaryOf(straight));
  assert.deepEqual(readJsonLines(join(out, 'metrics.jsonl')), readJsonLines(join(straight, 'metrics.jsonl')));
  for (const f of ['loss.png', 'accuracy.png']) assert.ok(existsSync(join(out, f)), f);
  assert.deepEqual(hiddenEntries(out), []);
}

describe('sasa train killed with SIGKILL and resumed', () => {
  const straight = join(dir, 'straight');
  before(async () => {
    const r = await sasa(straight);
    assert.equal(r.code, 0, r.stderr);
  });

  /** Write points and the time each is reached at which the run is killed (SASA_TEST_KILL_AT). */
  const KILLS = [
    ['checkpoint.safetensors@2', 'a step checkpoint, mid-epoch'],
    ['checkpoint.safetensors@3', "the epoch-end checkpoint just after the epoch's last step checkpoint"],
    ['metrics.jsonl@8', 'a step line of the metrics log'],
    ['metrics.jsonl@7', "the first epoch's line of the metrics log"],
    ['loss.vl.json@1', "the first epoch's loss curve"],
    ['weights.bin@1', 'the final weights'],
    ['model.json@1', "the final model's model.json"],
    ['summary.json@1', 'the summary'],
  ];
  const kills = FAST
    ? KILLS.filter(([point]) => ['checkpoint.safetensors@2', 'summary.json@1'].includes(point))
    : KILLS;
  for (const [point, what] of kills) {
    it(`killed while writing ${what} (${point})`, async () => {
      const out = join(dir, point);
      const killed = await sasa(out, { killAt: point });
      assert.equal(killed.signal, 'SIGKILL', `not killed at ${point} (exit ${killed.code}):\n${killed.stderr}`);
      assert.ok(hiddenEntries(out).length > 0 || point.startsWith('metrics'), 'the kill left a temporary file');
      await resumeToEnd(out);
      assertSameRun(out, straight);
    });
  }

  it('killed while writing the summary, then while its resume replaces the model folder', async () => {
    const out = join(dir, 'model-replace');
    assert.equal((await sasa(out, { killAt: 'summary.json@1' })).signal, 'SIGKILL');
    const again = await sasa(out, { resume: true, killAt: 'model@1' });
    assert.equal(again.signal, 'SIGKILL', again.stderr);
    assert.ok(!existsSync(join(out, 'model')), 'killed between the renames: the model folder is away');
    await resumeToEnd(out);
    assertSameRun(out, straight);
  });

  it('killed three times at seeded random moments, resumed each time', async () => {
    const out = join(dir, 'random');
    const random = rng(19);
    const lines = readJsonLines(join(straight, 'metrics.jsonl')).length;
    let kills = 0;
    for (let i = 0; i < 3; i++) {
      const at = { killAfterLines: 1 + Math.floor(random() * lines), killAfterMs: Math.floor(random() * 400) };
      const r = await sasa(out, { resume: existsSync(join(out, 'checkpoint.safetensors')), ...at });
      if (r.signal === 'SIGKILL') kills++;
      else assert.equal(r.code, 0, r.stderr);
    }
    assert.ok(kills >= 2, `${kills} of the 3 runs were killed`);
    await resumeToEnd(out);
    assertSameRun(out, straight);
  });
});

describe('sasa detect train killed with SIGKILL and resumed', () => {
  const shapes = join(dir, 'shapes');
  const straight = join(dir, 'detect-straight');
  /** 4 images, batch 2: 2 steps an epoch, a checkpoint at each step and epoch end. */
  const detect = (out: string, extra: string[] = [], killAt = '') => {
    const args = ['--data', `shapes:${shapes}`, '--epochs', '2', '--batch-size', '2', '--size', '128'];
    const more = ['--model', 'retinanet_demo', '--checkpoint-every', '1', '--out', out, ...extra];
    return run(['detect', 'train', ...args, ...more], killAt);
  };
  before(async () => {
    const made = await run(['shapes', '--out', shapes, '--train', '4', '--val', '2', '--size', '128', '--seed', '2']);
    assert.equal(made.code, 0, made.stderr);
    const r = await detect(straight);
    assert.equal(r.code, 0, r.stderr);
  });

  const points = FAST ? ['checkpoint.safetensors@3'] : ['checkpoint.safetensors@3', 'weights.bin@1'];
  for (const point of points) {
    it(`killed at ${point}, resumed, ends as the uninterrupted run`, async () => {
      const out = join(dir, `detect-${point}`);
      const killed = await detect(out, [], point);
      assert.equal(killed.signal, 'SIGKILL', `not killed at ${point} (exit ${killed.code}):\n${killed.stderr}`);
      const resumed = await detect(out, ['--resume']);
      assert.equal(resumed.code, 0, resumed.stderr);
      for (const f of ['checkpoint.safetensors', 'model/weights.bin', 'model/model.json']) {
        assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(straight, f))), f);
      }
      // modelDir names the run's own folder
      assert.deepEqual({ ...summaryOf(out), modelDir: '' }, { ...summaryOf(straight), modelDir: '' });
      assert.deepEqual(readJsonLines(join(out, 'metrics.jsonl')), readJsonLines(join(straight, 'metrics.jsonl')));
      assert.deepEqual(hiddenEntries(out), []);
    });
  }
});
