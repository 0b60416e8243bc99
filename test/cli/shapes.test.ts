/** sasa shapes end to end: writes COCO files and images with a summary, refuses a foreign folder, checks options. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'sasa-cli-shapes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function sasa(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('sasa shapes', () => {
  it('writes the dataset and summarises it', () => {
    const out = join(dir, 'out');
    const r = sasa('shapes', '--out', out, '--train', '3', '--val', '2', '--size', '64', '--seed', '4');
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^train: 3 images, \d+ objects \(circle \d+, square \d+, triangle \d+, star \d+; small \d+, medium \d+, large 0\)$/m,
    );
    assert.match(r.stdout, /^val: 2 images, /m);
    assert.deepEqual(readdirSync(join(out, 'images', 'val')), ['000000.png', '000001.png']);
    const train = JSON.parse(readFileSync(join(out, 'instances_train.json'), 'utf8'));
    const objects = Number(/^train: 3 images, (\d+) objects/m.exec(r.stdout)?.[1]);
    assert.equal(train.annotations.length, objects);
    assert.equal(
      sasa('shapes', '--out', out, '--train', '1', '--val', '1', '--size', '64').status,
      0,
      'replaces its own output',
    );
  });

  it('refuses a folder holding other files, and bad options', () => {
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'keep.txt'), 'x');
    const r = sasa('shapes', '--out', foreign);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^sasa: error: .*foreign is not empty and holds no shapes output/m);
    const bad = sasa('shapes', '--out', join(dir, 'b'), '--train', 'many');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--train must be a non-negative integer, got 'many'/);
  });

  it('--crops: writes the objects as a classification folder with per-class counts, its own kind of output', () => {
    const out = join(dir, 'crops');
    const r = sasa('shapes', '--crops', '--out', out, '--train', '3', '--val', '1', '--crop-size', '16', '--seed', '4');
    assert.equal(r.status, 0, r.stderr);
    const counts = /^train: (\d+) crops \(circle (\d+), square (\d+), triangle (\d+), star (\d+)\)$/m.exec(r.stdout);
    assert.ok(counts, r.stdout);
    const perClass = ['circle', 'square', 'triangle', 'star'].map((c) => readdirSync(join(out, 'train', c)).length);
    assert.deepEqual(perClass, counts.slice(2).map(Number));
    assert.equal(
      Number(counts[1]),
      perClass.reduce((a, b) => a + b, 0),
    );
    const onShapes = sasa('shapes', '--crops', '--out', join(dir, 'out'), '--train', '1', '--val', '0');
    assert.equal(onShapes.status, 1);
    assert.match(onShapes.stderr, /holds no shapes crops \(no shapes-crops.json\)/);
  });
});
