/** A test-only PNG reader for what encodePng writes (8-bit RGBA or RGB, filter 0), with its own CRC-32. */
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';

export interface Chunk {
  type: string;
  data: Buffer;
  crc: number;
}

/** Bitwise CRC-32 (reflected polynomial 0xEDB88320), independent of the encoder's table. */
export function crcBitwise(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

export function chunks(png: Buffer): Chunk[] {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const out: Chunk[] = [];
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    out.push({ type, data: png.subarray(at + 8, at + 8 + len), crc: png.readUInt32BE(at + 8 + len) });
    assert.equal(crcBitwise(png.subarray(at + 4, at + 8 + len)), out[out.length - 1].crc, `CRC of ${type}`);
    at += 12 + len;
  }
  return out;
}

export interface Image {
  width: number;
  height: number;
  /** RGBA, 4 bytes per pixel. */
  rgba: Uint8Array;
}

export function decodePng(png: Buffer): Image {
  const cs = chunks(png);
  const ihdr = cs[0].data;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const channels = ihdr[9] === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(cs.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  assert.equal(raw.length, height * (width * channels + 1));
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const row = y * (width * channels + 1);
    assert.equal(raw[row], 0, `filter byte of row ${y}`);
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < channels; k++) rgba[(y * width + x) * 4 + k] = raw[row + 1 + x * channels + k];
      if (channels === 3) rgba[(y * width + x) * 4 + 3] = 255;
    }
  }
  return { width, height, rgba };
}

export function pixel(img: Image, x: number, y: number): [number, number, number] {
  const i = (y * img.width + x) * 4;
  return [img.rgba[i], img.rgba[i + 1], img.rgba[i + 2]];
}

/** The distinct RGB colours in `img`. */
export function colours(img: Image): Set<number> {
  const set = new Set<number>();
  for (let i = 0; i < img.rgba.length; i += 4) set.add((img.rgba[i] << 16) | (img.rgba[i + 1] << 8) | img.rgba[i + 2]);
  return set;
}
