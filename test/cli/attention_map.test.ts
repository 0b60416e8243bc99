/**
 * sasa layers and sasa attention-map on a small saved model: the table of layers, the JSON map (the API's
 * weights), the PNG grid, and bad input named: a model folder missing a file or holding an unknown layer,
 * an unknown --layer, an undecodable or too small image, a --pixel outside the image.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { setup } from '../helpers.js';
import { writeTinyModel } from '../tasks/classification/tiny_model.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-amap-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const model = join(dir, 'model');
const image = join(dir, 'disc.png');

function sasa(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, SASA_NUM_THREADS: '1' },
  });
}

/** A bright disc on a dark ground, side × side. */
function disc(side: number): Promise<Buffer> {
  const data = Buffer.alloc(side * side * 3);
  for (let p = 0; p < side * side; p++) {
    const [x, y] = [p % side, Math.floor(p / side)];
    data.fill((x - side / 2) ** 2 + (y - side / 2) ** 2 < (side / 3) ** 2 ? 220 : 30, 3 * p, 3 * p + 3);
  }
  return sharp(data, { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toBuffer();
}

describe('sasa layers and sasa attention-map', () => {
  before(async () => {
    await setup();
    await writeTinyModel(model);
    writeFileSync(image, await disc(16));
  });

  it('layers lists the attention layers with resolution, k and heads', () => {
    const r = sasa('layers', '--model-dir', model);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /stem\s+stem\s+16×16\s+7\s+4/);
    assert.match(r.stdout, /layer4\.0\.conv2\s+attention\s+4×4\s+7\s+4/);
  });

  it('attention-map --json prints one k×k array per head summing to 1, and --out writes the grid', async () => {
    const out = join(dir, 'map.png');
    const r = sasa(
      'attention-map',
      '--model-dir',
      model,
      '--image',
      image,
      '--layer',
      'layer3.0.conv2',
      '--pixel',
      '3,12',
      '--json',
      '--out',
      out,
    );
    assert.equal(r.status, 0, r.stderr);
    const map = JSON.parse(r.stdout);
    assert.deepEqual([map.layer, map.pixel, map.layerPixel, map.kernelSize], ['layer3.0.conv2', [3, 12], [1, 6], 7]);
    assert.equal(map.heads.length, 4);
    for (const head of map.heads) {
      assert.equal(head.length, 7);
      assert.ok(Math.abs(head.flat().reduce((s: number, v: number) => s + v, 0) - 1) < 1e-5);
    }
    const meta = await sharp(readFileSync(out)).metadata();
    assert.equal(meta.format, 'png');
    assert.ok(meta.width > 4 * 8 * 28, `width ${meta.width}: four tiles of 8×8 cells`);
  });

  it('names a missing weights file, an unknown layer class and an unknown --layer', () => {
    const missing = join(dir, 'missing');
    cpSync(model, missing, { recursive: true });
    rmSync(join(missing, 'weights.bin'));
    const r1 = sasa('layers', '--model-dir', missing);
    assert.equal(r1.status, 1);
    assert.match(r1.stderr, /^sasa: error: .*weights\.bin/m);
    const unknown = join(dir, 'unknown');
    cpSync(model, unknown, { recursive: true });
    const json = join(unknown, 'model.json');
    writeFileSync(json, readFileSync(json, 'utf8').replace('"AttentionStem"', '"FancyStem"'));
    const r2 = sasa('layers', '--model-dir', unknown);
    assert.equal(r2.status, 1);
    assert.match(r2.stderr, /model\.json.*FancyStem/);
    const r3 = sasa('attention-map', '--model-dir', model, '--image', image, '--layer', 'layer9');
    assert.equal(r3.status, 1);
    assert.match(r3.stderr, /--layer layer9: no such attention layer \(the model's: stem, layer1\.0\.conv2/);
  });

  it('names an undecodable image, a too small one and a --pixel outside the image', async () => {
    const junk = join(dir, 'junk.png');
    writeFileSync(junk, 'not an image');
    const small = join(dir, 'small.png');
    writeFileSync(small, await disc(8));
    const cases: [string[], RegExp][] = [
      [['--image', junk], /junk\.png: cannot be decoded/],
      [['--image', small], /small\.png: the image is 8×8, too small for the model's 16×16 input/],
      [['--image', image, '--pixel', '16,2'], /--pixel 16,2 is outside the image/],
      [['--image', image, '--pixel', '2'], /--pixel must be X,Y/],
    ];
    for (const [args, message] of cases) {
      const r = sasa('attention-map', '--model-dir', model, ...args);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, message);
    }
  });
});
