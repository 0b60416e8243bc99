/** Decoding with sharp: RGB bytes from PNG (grey, RGBA) and JPEG, EXIF orientation, normalisation, errors. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { decodeImage, decodeRgb, normalizeRgb } from '../../../src/data/detection/decode.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-decode-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const pixels = (w: number, h: number, channels: number) =>
  Buffer.from(Array.from({ length: w * h * channels }, (_, i) => (i * 37) % 256));

describe('decodeRgb', () => {
  it('gives a PNG’s RGB bytes exactly, [height, width, 3]', async () => {
    const raw = pixels(5, 3, 3);
    const png = await sharp(raw, { raw: { width: 5, height: 3, channels: 3 } })
      .png()
      .toBuffer();
    const rgb = await decodeRgb(png);
    assert.deepEqual([rgb.width, rgb.height], [5, 3]);
    assert.deepEqual(Buffer.from(rgb.data), raw);
  });

  it('repeats a grey image over three channels and drops alpha', async () => {
    const grey = pixels(4, 2, 1);
    const g = await decodeRgb(
      await sharp(grey, { raw: { width: 4, height: 2, channels: 1 } })
        .png()
        .toBuffer(),
    );
    assert.deepEqual(
      Array.from(g.data),
      Array.from(grey).flatMap((v) => [v, v, v]),
    );
    const rgba = pixels(4, 2, 4).map((v, i) => (i % 4 === 3 ? 255 : v));
    const a = await decodeRgb(
      await sharp(rgba, { raw: { width: 4, height: 2, channels: 4 } })
        .png()
        .toBuffer(),
    );
    assert.deepEqual(
      Array.from(a.data),
      Array.from(rgba).filter((_, i) => i % 4 !== 3),
    );
  });

  it('applies the EXIF orientation (or not, when asked)', async () => {
    const path = join(dir, 'rotated.jpg');
    const raw = Buffer.alloc(6 * 4 * 3, 128);
    raw.fill(255, 0, 3); // top-left pixel white
    await sharp(raw, { raw: { width: 6, height: 4, channels: 3 } })
      .jpeg({ quality: 100 })
      .withMetadata({ orientation: 6 })
      .toFile(path);
    const shown = await decodeRgb(path);
    assert.deepEqual([shown.width, shown.height], [4, 6]);
    assert.ok(
      shown.data[3 * 3] > 200,
      'orientation 6 turns the image a quarter clockwise: the white pixel is top-right',
    );
    const stored = await decodeRgb(path, { orient: false });
    assert.deepEqual([stored.width, stored.height], [6, 4]);
  });

  it('normalises (x = (byte / 255 − mean) / std) and says what is wrong with a bad file', async () => {
    const x = normalizeRgb(
      { data: Uint8Array.from([0, 51, 255]), width: 1, height: 1 },
      { mean: [0, 0.1, 0.5], std: [1, 2, 0.5] },
    );
    assert.deepEqual(Array.from(x.data), [0, (0.2 - 0.1) / 2, 1].map(Math.fround));
    const empty = join(dir, 'empty.png');
    writeFileSync(empty, '');
    await assert.rejects(decodeRgb(empty), /empty file/);
    await assert.rejects(decodeRgb(join(dir, 'nope.png')), /ENOENT/);
    assert.throws(
      () => normalizeRgb({ data: new Uint8Array(3), width: 1, height: 1 }, { std: [1, 0, 1] }),
      /std positive/,
    );
    const png = await sharp(pixels(2, 2, 3), { raw: { width: 2, height: 2, channels: 3 } })
      .png()
      .toBuffer();
    assert.equal((await decodeImage(png)).data.length, 12);
  });
});
