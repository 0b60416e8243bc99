/**
 * sasa predict and eval refuse what would print nonsense, naming the file at fault in one line
 * (issue 19): model.json naming more classes than the network has outputs, NaN weights, a weight
 * shape changed by hand; predict names a corrupt PNG (bad CRC), a truncated JPEG and a GIF named .png,
 * still predicts the good images around them and exits 1; --backend and SASA_BACKEND name their values.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { writeIdxPair } from '../data/idx_fixture.js';
import { assertOneError, literal, runSasa } from './run_sasa.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-cli-bad-model-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const train = writeIdxPair(dir, 'train', { count: 32, side: 8, classes: 2, seed: 1 });
const test = writeIdxPair(dir, 'test', { count: 8, side: 8, classes: 2, seed: 2 });
const data = `idx:${[...train, ...test].join(',')}`;
const model = join(dir, 'run', 'model');

const sasa = runSasa;

/** A copy of the trained model with `edit` applied to its model.json (parsed) and weights.bin. */
function editedModel(name: string, edit: { json?: (j: Record<string, never>) => void; weights?: Buffer }): string {
  const copy = join(dir, name);
  cpSync(model, copy, { recursive: true });
  if (edit.json) {
    const json = JSON.parse(readFileSync(join(copy, 'model.json'), 'utf8'));
    edit.json(json);
    writeFileSync(join(copy, 'model.json'), JSON.stringify(json));
  }
  if (edit.weights) writeFileSync(join(copy, 'weights.bin'), edit.weights);
  return copy;
}

const good = join(dir, 'good.png');
before(async () => {
  const r = sasa([
    'train',
    ...['--data', data, '--model', 'resnet26', '--width-multiplier', '0.125', '--blocks', '1,1,1,1'],
    ...['--epochs', '1', '--batch-size', '8', '--out', join(dir, 'run')],
  ]);
  assert.equal(r.status, 0, r.stderr);
  await sharp(Buffer.alloc(16 * 16 * 3, 150), { raw: { width: 16, height: 16, channels: 3 } })
    .png()
    .toFile(good);
});

describe('sasa predict and eval on a bad model folder', () => {
  it('model.json naming 3 classes for a 2-output network: predict and eval name the file and the counts', () => {
    const three = editedModel('three', {
      json: (j) => {
        (j.userDefinedMetadata as { classNames: string[] }).classNames = ['a', 'b', 'c'];
      },
    });
    const message = new RegExp(`${literal(join(three, 'model.json'))}: .*classNames names 3 classes, .* 2 outputs`);
    assertOneError(sasa(['predict', '--model-dir', three, good]), message);
    assertOneError(sasa(['eval', '--model-dir', three, '--data', data]), message);
  });

  it('NaN weights: names weights.bin and the weight', () => {
    const size = readFileSync(join(model, 'weights.bin')).length;
    const nan = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) nan.writeFloatLE(Number.NaN, i);
    const bad = editedModel('nan', { weights: nan });
    assertOneError(
      sasa(['predict', '--model-dir', bad, good]),
      new RegExp(`${literal(join(bad, 'weights.bin'))}: weight '.+' holds NaN or infinite values`),
    );
  });

  it('a weight shape changed in model.json: names model.json and both shapes', () => {
    const bad = editedModel('shape', {
      json: (j) => {
        const spec = (j.weightsManifest as { weights: { shape: number[] }[] }[])[0].weights[0];
        spec.shape = [...spec.shape].reverse();
      },
    });
    assertOneError(
      sasa(['predict', '--model-dir', bad, good]),
      new RegExp(`${literal(join(bad, 'model.json'))}: a weight's shape in weightsManifest is \\[.*\\], .* needs \\[`),
    );
  });
});

describe('sasa predict on bad image files', () => {
  it('names each bad file on one line, predicts the good ones around it, exits 1', async () => {
    const png = readFileSync(good);
    const crc = join(dir, 'crc.png');
    const flipped = Buffer.from(png);
    flipped[29] ^= 0xff; // inside IHDR: its CRC no longer matches
    writeFileSync(crc, flipped);
    const jpeg = await sharp(Buffer.alloc(64 * 64 * 3, 90), { raw: { width: 64, height: 64, channels: 3 } })
      .jpeg()
      .toBuffer();
    const cut = join(dir, 'cut.jpg');
    writeFileSync(cut, jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
    const gif = join(dir, 'gif.png');
    await sharp(Buffer.alloc(16 * 16 * 3, 150), { raw: { width: 16, height: 16, channels: 3 } })
      .gif()
      .toFile(gif);
    const cases: [string, RegExp][] = [
      [crc, /corrupt or truncated image \(.*CRC error/],
      [cut, /corrupt or truncated image \(.*premature end of JPEG/],
      [gif, /a GIF image, not JPEG or PNG/],
    ];
    for (const [file, reason] of cases) {
      const r = sasa(['predict', '--model-dir', model, '--json', good, file, good]);
      assertOneError(r, new RegExp(`^sasa: error: ${literal(file)}: ${reason.source}`));
      const predicted = r.stdout.trim().split('\n');
      assert.equal(predicted.length, 2, r.stdout);
      for (const line of predicted) assert.equal(JSON.parse(line).path, good);
    }
  });
});

describe('--backend', () => {
  it('an unknown backend names the option (or SASA_BACKEND) and the valid values', () => {
    assertOneError(
      sasa(['predict', '--backend', 'gpu', '--model-dir', model, good]),
      /--backend must be one of native, cpu, got 'gpu'/,
    );
    assertOneError(
      sasa(['predict', '--model-dir', model, good], { SASA_BACKEND: 'gpu' }),
      /SASA_BACKEND=gpu: must be one of native, cpu/,
    );
  });
});
