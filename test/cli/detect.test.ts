/**
 * sasa detect end to end on a tiny shapes set (4 training images at 128 px, 2 validation): train → eval
 * (12-line COCO summary, results JSON) → predict (a PNG per good image; a bad image named, exit 1), and
 * errors that name the option.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';

const dir = mkdtempSync(join(tmpdir(), 'sasa-cli-detect-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const shapes = join(dir, 'shapes');
const run = join(dir, 'run');

function sasa(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 180_000,
  });
}

before(() => {
  const r = sasa('shapes', '--out', shapes, '--train', '4', '--val', '2', '--size', '128', '--seed', '2');
  assert.equal(r.status, 0, r.stderr);
});

describe('sasa detect', () => {
  it('trains, evaluates and predicts', async () => {
    const data = `shapes:${shapes}`;
    const common = ['--data', data, '--epochs', '1', '--batch-size', '2', '--size', '128'];
    const t = sasa('detect', 'train', ...common, '--out', run, '--model', 'retinanet_demo');
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /^trained 2 steps in [\d.]+ s; validation AP [\d.]+, AP50 [\d.]+; model in /m);
    assert.match(t.stderr, /^epoch 1: step 2, train loss [\d.]+, validation AP/m);
    const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    assert.equal(summary.options.detector.name, 'retinanet_demo');
    assert.equal(summary.options.detector.classes, 4);

    const results = join(dir, 'results.json');
    const e = sasa('detect', 'eval', '--model-dir', join(run, 'model'), '--data', data, '--out', results);
    assert.equal(e.status, 0, e.stderr);
    const lines = e.stdout.trim().split('\n');
    assert.equal(lines.length, 12);
    assert.match(
      lines[1],
      /^ Average Precision {2}\(AP\) @\[ IoU=0\.50 {6}\| area= {3}all \| maxDets=100 \] = -?[\d.]+$/,
    );
    assert.ok(Array.isArray(JSON.parse(readFileSync(results, 'utf8'))));

    const good = join(shapes, 'images', 'val', '000000.png');
    const p = sasa(
      'detect',
      'predict',
      '--model-dir',
      join(run, 'model'),
      '--out',
      join(dir, 'pred'),
      good,
      '/nope.png',
    );
    assert.equal(p.status, 1);
    assert.match(p.stderr, /\/nope\.png: .*no such file or folder, ENOENT/);
    assert.match(p.stderr, /1 of 2 images could not be predicted: \/nope\.png/);
    const drawn = join(dir, 'pred', '000000.png');
    assert.ok(existsSync(drawn));
    const meta = await sharp(drawn).metadata();
    assert.deepEqual([meta.width, meta.height], [128, 128]);
  });

  it('names the option at fault', () => {
    const data = `shapes:${shapes}`;
    const cases: [string[], RegExp][] = [
      [['train', '--data', data, '--out', join(dir, 'x'), '--size', '200'], /--size must be a multiple of 128/],
      [['train', '--data', data, '--out', join(dir, 'x'), '--fpn', 'dense'], /--fpn must be one of conv, attention/],
      [['train', '--data', data, '--out', run], /--out .* already holds a training run/],
      [['train', '--data', data, '--out', run, '--resume', '--batch-size', '4'], /--resume cannot change --batch-size/],
      [['eval', '--model-dir', dir, '--data', data], /--model-dir .*: no model\.json/],
      [['train', '--data', data, '--out', join(dir, 'x'), '--model', 'retinanet_vgg'], /--model: unknown detector/],
      [
        ['train', '--data', 'pascal:x', '--out', join(dir, 'x')],
        /data 'pascal:x' is not a known detection data source/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = sasa('detect', ...args);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, message);
    }
  });
});
