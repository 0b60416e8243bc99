/**
 * The classification commands end to end on tiny IDX data: sasa demo (both models, the side-by-side
 * table), sasa eval on the model it wrote (metrics, confusion.png), sasa predict on PNG files, and
 * clear errors for bad input (unknown data spec, corrupt IDX file, missing model directory).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { writeIdxPair } from '../data/idx_fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const train = writeIdxPair(dir, 'train', { count: 96, side: 8, classes: 3, seed: 1 });
const test = writeIdxPair(dir, 'test', { count: 24, side: 8, classes: 3, seed: 2 });
const data = `idx:${[...train, ...test].join(',')}`;

function assertDemoTable(stdout: string): void {
  assert.match(stdout, /model\s+params\s+FLOPs\/image\s+test top-1\s+steps\s+train time/);
  assert.match(stdout, /attention \(sasa_resnet26_demo\)\s+[\d.]+ M\s+[\d.]+ M\s+[\d.]+ %\s+\d+\s+\d+ s/);
  assert.match(stdout, /conv twin \(resnet26_demo\)\s+[\d.]+ M\s+[\d.]+ M\s+[\d.]+ %\s+\d+\s+\d+ s/);
}

function sasa(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, SASA_NUM_THREADS: '1' },
  });
}

describe('sasa demo, eval and predict', () => {
  const out = join(dir, 'demo');

  it('demo trains the attention network and its conv twin and prints them side by side', () => {
    const r = sasa('demo', '--data', data, '--epochs', '1', '--batch-size', '8', '--out', out, '--validation', '0.1');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /both models at once/);
    assertDemoTable(r.stdout);
    for (const f of ['attention/model/model.json', 'conv/loss.png', 'conv/accuracy.png', 'attention/metrics.jsonl']) {
      assert.ok(existsSync(join(out, f)), f);
    }
    assert.match(readFileSync(join(out, 'conv', 'train.log'), 'utf8'), /resnet26_demo on /);
  });

  it('demo --jobs 1 trains the two models one after the other in this process', () => {
    const one = join(dir, 'demo-one');
    const r = sasa('demo', '--data', data, '--epochs', '1', '--batch-size', '8', '--out', one, '--jobs', '1');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /one model after the other/);
    assertDemoTable(r.stdout);
    assert.ok(existsSync(join(one, 'attention', 'model', 'model.json')));
  });

  it('a failed side-by-side run stops the demo and names the run and its log', () => {
    const bad = join(dir, 'demo-bad');
    const r = sasa('demo', '--data', data, '--epochs', '1', '--batch-size', '8', '--out', bad, '--lr', '1e12');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /sasa: error: (attention|conv twin) stopped \(exit code 1\); its log is .*train\.log/);
    assert.match(r.stderr, /the loss (became|exploded)/); // NaN, or first over 100 × the first step's loss
  });

  it('eval reports top-1, top-5, per-class accuracy and writes the confusion matrix', () => {
    const r = sasa('eval', '--model-dir', join(out, 'attention', 'model'), '--data', data, '--json');
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout) as {
      count: number;
      top1: number;
      top5: number;
      perClass: number[];
      confusion: number[][];
    };
    assert.equal(m.count, 24);
    assert.equal(m.top5, 1);
    assert.equal(m.perClass.length, 3);
    assert.equal(
      m.confusion.flat().reduce((a, b) => a + b, 0),
      24,
    );
    for (const f of ['confusion.png', 'confusion.vl.json'])
      assert.ok(existsSync(join(out, 'attention', 'model', f)), f);
  });

  it('predict prints the top classes of image files', async () => {
    const png = join(dir, 'bright.png');
    await sharp(Buffer.alloc(16 * 16 * 3, 220), { raw: { width: 16, height: 16, channels: 3 } })
      .png()
      .toFile(png);
    const r = sasa('predict', '--model-dir', join(out, 'conv', 'model'), '--top', '2', png);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${png.replace(/[.]/g, '\\.')}\\n\\s+[\\d.]+ %  [012]\\n\\s+[\\d.]+ %  [012]`));
  });

  it('bad input: unknown data spec, corrupt IDX, missing model directory, missing image', () => {
    const spec = sasa('train', '--data', 'imagenet', '--out', join(dir, 'x'));
    assert.equal(spec.status, 1);
    assert.match(spec.stderr, /--data 'imagenet' is not a known data source/);
    const bad = join(dir, 'bad-images');
    writeFileSync(bad, Buffer.from([0, 0, 8, 1, 0, 0, 0, 1]));
    const corrupt = sasa('train', '--data', `idx:${bad},${train[1]}`, '--out', join(dir, 'y'));
    assert.equal(corrupt.status, 1);
    assert.match(corrupt.stderr, new RegExp(`${bad}.*magic`));
    const missing = sasa('eval', '--model-dir', join(dir, 'nope'), '--data', data);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nope/);
    const image = sasa('predict', '--model-dir', join(out, 'conv', 'model'), join(dir, 'missing.jpg'));
    assert.equal(image.status, 1);
    assert.match(image.stderr, /missing\.jpg/);
  });
});
