/**
 * sasa train --resume and --out (issue 19): flags given with --resume apply (said on stderr) or are
 * refused naming them — a different --model before anything is written; a resume without a checkpoint,
 * a new run into a finished run's folder and an --out that is a file get errors naming the folder;
 * a run killed while writing its final model resumes to a complete summary, its stale temporaries gone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeIdxPair } from '../data/idx_fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-cli-resume-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const [images, labels] = writeIdxPair(dir, 'train', { count: 64, side: 8, classes: 3, seed: 9 });
const MODEL = ['--model', 'resnet26', '--width-multiplier', '0.125', '--blocks', '1,1,1,1'];
const RUN = [
  ...MODEL,
  '--data',
  `idx:${images},${labels}`,
  '--epochs',
  '1',
  '--batch-size',
  '8',
  '--validation',
  '0.1',
];

function sasa(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, SASA_NUM_THREADS: '1' },
  });
}

/** Every file under `out` with its size and modification time. */
function snapshot(out: string): string[] {
  return readdirSync(out, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => `${f} ${statSync(join(out, f)).size} ${statSync(join(out, f)).mtimeMs}`);
}

const summary = (out: string) => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));

describe('sasa train --resume', () => {
  const done = join(dir, 'done');
  before(() => {
    const r = sasa(...RUN, '--out', done);
    assert.equal(r.status, 0, r.stderr);
  });

  it('refuses a different --model before writing anything, naming both models', () => {
    const files = snapshot(done);
    const r = sasa(...RUN, '--model', 'sasa_resnet26', '--out', done, '--resume');
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /sasa: error: .*checkpoint\.safetensors: --resume cannot change --model \(the run trains 'resnet26', asked 'sasa_resnet26'/,
    );
    assert.equal(r.stdout, '');
    assert.deepEqual(snapshot(done), files);
  });

  it('refuses --batch-size and --seed together, naming both', () => {
    const r = sasa(...RUN, '--out', done, '--resume', '--batch-size', '4', '--seed', '3');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot change --batch-size \(the run has 8, asked 4\), --seed \(the run has 0, asked 3\)/);
  });

  it('after a blow-up the checkpoint is rolled back before it, and --resume --lr recovers (said and recorded)', () => {
    const nan = join(dir, 'nan');
    const diverged = sasa(...RUN, '--out', nan, '--lr', '5', '--checkpoint-every', '1');
    assert.equal(diverged.status, 1);
    const m =
      /the loss exploded to \S+ \(over 100 × the first step's \S+\) at step (\d+) .* is back at the checkpoint before the blow-up — lower the learning rate \(5\) and resume/.exec(
        diverged.stderr,
      );
    assert.ok(m, diverged.stderr);
    const r = sasa(...RUN, '--out', nan, '--resume', '--lr', '0.01');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /resuming with changed options: --lr 5 → 0\.01/);
    const lines = readFileSync(join(nan, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const resume = lines.filter((l) => l.type === 'resume');
    // the loss of step s came from the weights of step s − 1: the run goes on from s − 2
    assert.deepEqual(resume, [{ type: 'resume', step: Number(m[1]) - 2, changed: { lr: [5, 0.01] } }]);
    const losses = lines.filter((l) => l.type === 'step').map((l) => l.loss);
    assert.ok(
      losses.every((loss) => loss < 100 * losses[0]),
      `losses after the resume: ${losses}`,
    );
    assert.ok(Number.isFinite(summary(nan).validation.top1));
  });

  it('a blow-up at the first checkpointed weights leaves no checkpoint, and a new run is advised', () => {
    const nan = join(dir, 'nan-at-once');
    const diverged = sasa(...RUN, '--out', nan, '--lr', '1e12', '--checkpoint-every', '1');
    assert.equal(diverged.status, 1);
    assert.match(
      diverged.stderr,
      /no checkpoint from before the blow-up is left — start again with a lower learning rate than 1000000000000/,
    );
    assert.ok(!existsSync(nan), 'the new run removed its folder');
  });

  it('without a checkpoint names the folder; a new run into a finished one is refused naming --out', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const none = sasa(...RUN, '--out', empty, '--resume');
    assert.equal(none.status, 1);
    assert.match(
      none.stderr,
      new RegExp(`--resume: --out ${empty} holds no checkpoint\\.safetensors to continue from`),
    );
    const again = sasa(...RUN, '--out', done);
    assert.equal(again.status, 1);
    assert.match(
      again.stderr,
      /--out .*done already holds a training run \(checkpoint\.safetensors, summary\.json\); continue it with --resume/,
    );
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const notFolder = sasa(...RUN, '--out', file);
    assert.equal(notFolder.status, 1);
    assert.match(notFolder.stderr, /sasa: error: --out .*a-file: is a file, not a folder/);
  });

  it('killed while writing its final model: the resume finishes it and removes stale temporaries', () => {
    const complete = summary(done);
    rmSync(join(done, 'summary.json'));
    rmSync(join(done, 'model'), { recursive: true });
    const dead = spawnSync('true').pid;
    const stale = [`.model.tmp-${dead}-0123abcd`, `.checkpoint.safetensors.tmp-${dead}-89abcdef`];
    mkdirSync(join(done, stale[0]));
    writeFileSync(join(done, stale[0], 'weights.bin'), 'partial');
    writeFileSync(join(done, stale[1]), 'partial');
    writeFileSync(join(done, '.model.tmp-mine'), 'not ours');
    const r = sasa(...RUN, '--out', done, '--resume');
    assert.equal(r.status, 0, r.stderr);
    const resumed = summary(done);
    assert.deepEqual(resumed.validation, complete.validation);
    assert.equal(resumed.steps, complete.steps);
    assert.ok(existsSync(join(done, 'model', 'model.json')));
    for (const f of stale) assert.ok(!existsSync(join(done, f)), f);
    assert.ok(existsSync(join(done, '.model.tmp-mine')));
  });
});
