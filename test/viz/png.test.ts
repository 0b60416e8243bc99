/** PNG structure: signature, IHDR fields, chunk CRCs recomputed here, IDAT size, pixels round-trip. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inflateSync } from 'node:zlib';
import { crc32, encodePng } from '../../src/viz/png.js';
import { chunks, crcBitwise, decodePng } from './decode.js';

describe('encodePng', () => {
  const width = 7;
  const height = 5;
  const rgba = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i * 31 + 7) & 255);

  it('writes signature, IHDR, IDAT, IEND with correct CRCs', () => {
    const png = encodePng(width, height, rgba);
    const cs = chunks(png);
    assert.deepEqual(
      cs.map((c) => c.type),
      ['IHDR', 'IDAT', 'IEND'],
    );
    const ihdr = cs[0].data;
    assert.equal(ihdr.length, 13);
    assert.equal(ihdr.readUInt32BE(0), width);
    assert.equal(ihdr.readUInt32BE(4), height);
    assert.deepEqual([...ihdr.subarray(8)], [8, 6, 0, 0, 0]);
    assert.equal(inflateSync(cs[1].data).length, width * height * 4 + height);
    assert.equal(cs[2].data.length, 0);
  });

  it('round-trips the pixels, RGBA and RGB', () => {
    assert.deepEqual(decodePng(encodePng(width, height, rgba)).rgba, rgba);
    const rgb = rgba.filter((_, i) => i % 4 !== 3);
    const png = encodePng(width, height, rgb);
    assert.equal(chunks(png)[0].data[9], 2);
    assert.deepEqual(
      decodePng(png).rgba,
      rgba.map((v, i) => (i % 4 === 3 ? 255 : v)),
    );
  });

  it('computes the standard CRC-32', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * i) & 255);
    assert.equal(crc32(bytes), crcBitwise(bytes));
  });

  it('names the argument at fault', () => {
    assert.throws(() => encodePng(0, 5, new Uint8Array(0)), /width/);
    assert.throws(() => encodePng(3, Number.NaN, new Uint8Array(0)), /height/);
    assert.throws(() => encodePng(2, 2, new Uint8Array(15)), /pixels/);
  });
});
