/**
 * sasa train refuses bad data, options and output folders before training, naming the file, option or
 * folder in one line, and leaves nothing behind (issue 19): IDX test images of another size than the
 * training images, a symbolic-link loop or a link repeating another class in an image folder,
 * `--blocks 1,1`, an `--out` below a file; a --strict run failing on its first batch removes the
 * metrics log and the folder it created, and leaves a folder that was there before as it was.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeImageFolder } from '../data/folder_fixture.js';
import { writeIdxPair } from '../data/idx_fixture.js';
import { assertOneError, literal, runSasa } from './run_sasa.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-cli-bad-run-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const train = writeIdxPair(dir, 'train', { count: 32, side: 8, classes: 2, seed: 1 });
const test = writeIdxPair(dir, 'test', { count: 8, side: 8, classes: 2, seed: 2 });
const larger = writeIdxPair(dir, 'larger', { count: 8, side: 10, classes: 2, seed: 2 });
const MODEL = ['--model', 'resnet26', '--width-multiplier', '0.125', '--blocks', '1,1,1,1'];
const TRAIN = [...MODEL, '--epochs', '1', '--batch-size', '4'];

const sasa = (...args: string[]) => runSasa(args);

const images = join(dir, 'images');
let corrupt = '';
before(async () => {
  corrupt = (await writeImageFolder(images, { perClass: 2, side: 16, corrupt: true })) as string;
});

describe('sasa train refuses before training and leaves nothing behind', () => {
  it('IDX test images of another size than the training images: names the test file and both sizes', () => {
    const out = join(dir, 'sizes');
    const r = sasa('train', '--data', `idx:${[...train, ...larger].join(',')}`, ...TRAIN, '--out', out);
    assertOneError(r, new RegExp(`${literal(larger[0])}: test images are 10×10, the training images .* 8×8`));
    assert.ok(!existsSync(out));
  });

  it('an image-folder link back to its root, or to another class: names the link and the folder', () => {
    const looped = join(dir, 'looped');
    mkdirSync(looped);
    symlinkSync(join(images, 'blue'), join(looped, 'blue'));
    symlinkSync(join(images, 'red'), join(looped, 'red'));
    symlinkSync(looped, join(looped, 'red-loop'));
    const out = join(dir, 'looped-run');
    const loop = sasa('train', '--data', `folder:${looped}`, ...TRAIN, '--image-size', '16', '--out', out);
    assertOneError(loop, new RegExp(`${literal(join(looped, 'red-loop'))}: is the folder ${literal(looped)} again`));
    rmSync(join(looped, 'red-loop'));
    symlinkSync(join(images, 'blue'), join(looped, 'red', 'more'));
    const twice = sasa('train', '--data', `folder:${looped}`, ...TRAIN, '--image-size', '16', '--out', out);
    rmSync(join(looped, 'red', 'more'));
    assertOneError(
      twice,
      new RegExp(`${literal(join(looped, 'red', 'more'))}: is the folder ${literal(join(looped, 'blue'))} again`),
    );
    assert.ok(!existsSync(out));
  });

  it('--blocks 1,1: names the option and the 4 groups it needs', () => {
    const out = join(dir, 'blocks');
    const r = sasa('train', '--data', `idx:${[...train, ...test].join(',')}`, '--blocks', '1,1', '--out', out);
    assertOneError(r, /--blocks must be 4 comma-separated block counts, one per group .* got 2/);
    assert.ok(!existsSync(out));
  });

  it('--out below a file: names the folder and why it cannot be written', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    const r = sasa('train', '--data', `idx:${[...train, ...test].join(',')}`, ...TRAIN, '--out', join(file, 'run'));
    assertOneError(
      r,
      new RegExp(`${literal(join(file, 'run'))}: cannot write into the --out folder \\(a part of the path is a file`),
    );
  });

  it('--strict failing on a corrupt image removes what the run created, and only that', () => {
    const data = ['--data', `folder:${images}`, ...TRAIN, '--image-size', '16', '--strict'];
    const fresh = join(dir, 'fresh', 'run');
    assertOneError(sasa('train', ...data, '--out', fresh), new RegExp(`${literal(corrupt)}: cannot decode image`));
    assert.ok(!existsSync(join(dir, 'fresh')), 'the folders the run made are gone');
    const kept = join(dir, 'kept');
    mkdirSync(kept);
    writeFileSync(join(kept, 'notes.txt'), 'mine');
    assertOneError(sasa('train', ...data, '--out', kept), new RegExp(`${literal(corrupt)}: cannot decode image`));
    assert.deepEqual(readdirSync(kept), ['notes.txt']);
  });
});
