/** IDX files (MNIST, Fashion-MNIST): unsigned-byte arrays, raw or gzipped. */
import type { ImageSet } from './dataset.js';
import { readMaybeGzip } from './read.js';

/** An IDX array: `dims` (e.g. [N, rows, cols]) and its bytes, row-major. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const hex = (v: number, digits: number) => `0x${v.toString(16).padStart(digits, '0')}`;

/**
 * Parses IDX bytes holding an unsigned-byte array of `ndims` dimensions (magic 0x0000080<ndims>).
 * Checks magic, dtype byte 0x08, dimension count, and that the data is exactly the size the dims say.
 */
export function parseIdx(bytes: Uint8Array, ndims: number, path: string): IdxArray {
  const expected = 0x800 | ndims;
  if (bytes.length < 4) throw new Error(`${path}: truncated IDX header: ${bytes.length} bytes, expected at least 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic >>> 16 !== 0) {
    throw new Error(`${path}: not an IDX file: magic ${hex(magic, 8)}, expected ${hex(expected, 8)}`);
  }
  if (bytes[2] !== 0x08) {
    throw new Error(`${path}: IDX dtype byte ${hex(bytes[2], 2)} is not supported, expected 0x08 (unsigned byte)`);
  }
  if (bytes[3] !== ndims) {
    throw new Error(
      `${path}: wrong IDX magic ${hex(magic, 8)}, expected ${hex(expected, 8)} (${bytes[3]} dimensions, expected ${ndims})`,
    );
  }
  const header = 4 + 4 * ndims;
  if (bytes.length < header) {
    throw new Error(`${path}: truncated IDX header: ${bytes.length} bytes, expected ${header}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i));
  const size = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - header;
  if (actual < size) {
    throw new Error(`${path}: truncated: dims [${dims.join(', ')}] need ${size} data bytes, found ${actual}`);
  }
  if (actual > size) {
    throw new Error(`${path}: ${actual - size} bytes after the data of dims [${dims.join(', ')}] (${size} bytes)`);
  }
  return { dims, data: bytes.subarray(header) };
}

/** Reads an IDX file (gzipped or raw) of `ndims` unsigned-byte dimensions. */
export async function readIdx(path: string, ndims: number): Promise<IdxArray> {
  return parseIdx(await readMaybeGzip(path), ndims, path);
}

/** Reads an IDX images file, [N, rows, cols] (magic 0x00000803). */
export async function loadIdxImages(path: string): Promise<IdxArray> {
  return readIdx(path, 3);
}

/** Reads an IDX labels file, [N] (magic 0x00000801). */
export async function loadIdxLabels(path: string): Promise<IdxArray> {
  return readIdx(path, 1);
}

/**
 * Reads an images file and its labels file: images [count, height, width, 1], labels [count]. Both are read at
 * once; when both fail, the images file's error is the one thrown (not whichever failed first), so the message
 * does not depend on timing.
 */
export async function loadIdxPair(imagesPath: string, labelsPath: string): Promise<ImageSet & { channels: 1 }> {
  const [read, readLabels] = await Promise.allSettled([loadIdxImages(imagesPath), loadIdxLabels(labelsPath)]);
  if (read.status === 'rejected') throw read.reason;
  if (readLabels.status === 'rejected') throw readLabels.reason;
  const [images, labels] = [read.value, readLabels.value];
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw new Error(`${imagesPath} has ${count} images but ${labelsPath} has ${labels.dims[0]} labels`);
  }
  return { images: images.data, labels: labels.data, count, height, width, channels: 1 };
}
