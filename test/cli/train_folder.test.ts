/**
 * sasa train, eval and predict on image folders end to end: training streams the folder and names the
 * corrupt file it skips, --strict fails naming it, an empty class folder is named, predict prints the
 * folder's class names, eval evaluates a plain folder whole and a DIR/train + DIR/val folder on val.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FOLDER_CLASSES, writeImageFolder } from '../data/folder_fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-cli-folder-'));
const root = join(dir, 'images');
let corrupt = '';
before(async () => {
  corrupt = (await writeImageFolder(root, { corrupt: true })) as string;
});
after(() => rmSync(dir, { recursive: true, force: true }));

function sasa(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, SASA_NUM_THREADS: '1' },
  });
}

const MODEL = ['--model', 'resnet26', '--width-multiplier', '0.125', '--blocks', '1,1,1,1'];
const TRAIN = [...MODEL, '--image-size', '32', '--epochs', '1', '--batch-size', '4', '--seed', '0'];
const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('sasa train, eval and predict on an image folder', () => {
  const out = join(dir, 'run');

  it('train streams the folder, names and counts the corrupt file, writes the model', () => {
    const r = sasa('train', '--data', `folder:${root}`, ...TRAIN, '--validation', '0.1', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /on folder \(.*\) \(19 training images, 32×32×3, 3 classes\)/);
    assert.match(r.stderr, new RegExp(`skipped ${literal(corrupt)} \\(train\\): `));
    assert.match(r.stderr, /epoch 1: .*1 unreadable file skipped/);
    const epoch = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((l) => l.type === 'epoch');
    assert.deepEqual([epoch.skipped, epoch.val_skipped], [1, 0]);
    for (const f of ['checkpoint.safetensors', 'loss.png', join('model', 'model.json')]) {
      assert.ok(existsSync(join(out, f)), f);
    }
  });

  it('predict prints the class names of the folder', () => {
    const r = sasa('predict', '--model-dir', join(out, 'model'), '--top', '3', join(root, 'red', '0.png'));
    assert.equal(r.status, 0, r.stderr);
    const labels = r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/).at(-1));
    assert.deepEqual(labels.sort(), FOLDER_CLASSES);
  });

  it('eval evaluates a plain folder whole, naming the file it skips', () => {
    const r = sasa('eval', '--model-dir', join(out, 'model'), '--data', `folder:${root}`, '--json');
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout);
    assert.equal(m.split, 'all');
    assert.equal(m.count, 18);
    assert.deepEqual(
      m.skipped.map((s: { path: string }) => s.path),
      [corrupt],
    );
    assert.match(r.stderr, new RegExp(`skipped ${literal(corrupt)}: `));
  });

  it('--strict fails naming the corrupt file; an empty class folder is named', () => {
    const strict = sasa('train', '--data', `folder:${root}`, ...TRAIN, '--strict', '--out', join(dir, 'strict'));
    assert.equal(strict.status, 1);
    assert.match(strict.stderr, new RegExp(`${literal(corrupt)}: cannot decode image`));
    const empty = join(dir, 'empty');
    mkdirSync(join(empty, 'a'), { recursive: true });
    mkdirSync(join(empty, 'b'));
    const r = sasa('eval', '--model-dir', join(out, 'model'), '--data', `folder:${empty}`);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${literal(empty)}: no images .* in any of its 2 class folders`));
  });

  it('DIR/train and DIR/val: trains on train, tests on val, and eval takes val', async () => {
    const split = join(dir, 'split');
    await writeImageFolder(join(split, 'train'), { perClass: 4 });
    await writeImageFolder(join(split, 'val'), { perClass: 2, seed: 1 });
    mkdirSync(join(split, 'val', 'zz-empty'));
    const bad = sasa('train', '--data', `folder:${split}`, ...TRAIN, '--out', join(dir, 'bad'));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /class folder 'zz-empty' has no images/);
    rmSync(join(split, 'val', 'zz-empty'), { recursive: true });
    const o = join(dir, 'split-run');
    const r = sasa('train', '--data', `folder:${split}`, ...TRAIN, '--validation', '0', '--out', o);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /12 training \+ 6 test images/);
    assert.match(r.stdout, /test top-1 [\d.]+ %/);
    const e = sasa('eval', '--model-dir', join(o, 'model'), '--data', `folder:${split}`, '--json');
    assert.equal(e.status, 0, e.stderr);
    assert.deepEqual([JSON.parse(e.stdout).split, JSON.parse(e.stdout).count], ['test', 6]);
  });
});
