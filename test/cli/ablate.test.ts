/**
 * sasa ablate end to end on tiny IDX data: every configuration of a study trained and tabulated
 * (results.md, results.json, results.png), and --resume keeping finished configurations, continuing an
 * interrupted one from its checkpoint, and refusing a folder trained with other options.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { zoomedRange } from '../../src/cli/ablate.js';
import { writeIdxPair } from '../data/idx_fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-ablate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const train = writeIdxPair(dir, 'train', { count: 64, side: 8, classes: 3, seed: 3 });
const test = writeIdxPair(dir, 'test', { count: 16, side: 8, classes: 3, seed: 4 });
const data = `idx:${[...train, ...test].join(',')}`;
const out = join(dir, 'study');
const common = ['ablate', '--study', 'logits', '--data', data, '--epochs', '1', '--batch-size', '8', '--out', out];

function sasa(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, SASA_NUM_THREADS: '1' },
  });
}

interface Results {
  study: string;
  command: string;
  results: { label: string; test_top1: number; steps: number; dir: string }[];
}

const results = (): Results => JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;

describe('zoomedRange (the results plot)', () => {
  it('spans whole percents from 2 below the lowest bar to 1 above the highest, within 0-100', () => {
    assert.deepEqual(zoomedRange([85.65, 86.09, 86.16]), [83, 88]);
    assert.deepEqual(zoomedRange([0.5, 40]), [0, 41]);
    assert.deepEqual(zoomedRange([99.9, 100]), [97, 100]);
  });
});

describe('sasa ablate', () => {
  let first: Results;

  it('trains every configuration of the study and writes the table, JSON and plot', () => {
    const r = sasa(...common);
    assert.equal(r.status, 0, r.stderr);
    first = results();
    assert.equal(first.study, 'logits');
    assert.match(first.command, /^sasa ablate --study logits/);
    assert.deepEqual(
      first.results.map((x) => x.label),
      ['logits=qk+qr', 'logits=qr'],
    );
    for (const x of first.results) assert.ok(x.test_top1 >= 0 && x.test_top1 <= 1 && x.steps === 7, JSON.stringify(x));
    // Run folders relative to --out, so a committed study does not name this machine's paths.
    assert.deepEqual(
      first.results.map((x) => x.dir),
      ['1-logits=qk+qr', '2-logits=qr'],
    );
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    assert.match(md, /\| logits=qr \| [\d.]+ M \| [\d.]+ M \| [\d.]+ % \|/);
    assert.ok(existsSync(join(out, 'results.png')) && existsSync(join(out, 'results.vl.json')));
  });

  it('--resume keeps finished configurations and continues an interrupted one from its checkpoint', () => {
    const second = readdirSync(out).find((f) => f.startsWith('2-'));
    assert.ok(second);
    rmSync(join(out, second, 'summary.json'));
    const r = sasa(...common, '--resume');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.match(/already trained/g)?.length, 1);
    assert.deepEqual(
      results().results.map((x) => x.test_top1),
      first.results.map((x) => x.test_top1),
    );
    const again = sasa(...common, '--resume');
    assert.equal(again.stdout.match(/already trained/g)?.length, 2);
  });

  it('--resume refuses a folder trained with other options, naming the field', () => {
    const r = sasa(...common, '--resume', '--lr', '0.05');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /summary\.json: the finished run was trained with other options \(first difference: lr\)/);
  });

  it('--configs splits a study over runs; --resume then tabulates it whole', () => {
    const split = join(dir, 'split');
    const args = common.map((a) => (a === out ? split : a));
    const second = sasa(...args, '--configs', '2');
    assert.equal(second.status, 0, second.stderr);
    assert.ok(!existsSync(join(split, 'results.json')));
    assert.deepEqual(readdirSync(split), ['2-logits=qr']);
    assert.equal(sasa(...args, '--configs', '1').status, 0);
    const whole = sasa(...args, '--resume');
    assert.equal(whole.stdout.match(/already trained/g)?.length, 2);
    const table = JSON.parse(readFileSync(join(split, 'results.json'), 'utf8')) as Results;
    assert.equal(table.results.length, 2);
    const bad = sasa(...args, '--configs', '3');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--configs 3: study 'logits' has 2 configurations \(1: logits=qk\+qr; 2: logits=qr\)/);
  });
});
