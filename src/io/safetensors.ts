/**
 * The safetensors format: an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
 * ({name: {dtype, shape, data_offsets: [begin, end]}, optional "__metadata__": {string: string}},
 * padded with spaces to a multiple of 8), then the tensors' little-endian bytes, offsets relative to
 * the start of that data section. The writer lays tensors out in the order given (F32 and I32); the
 * reader takes F32, I32, F64 (as Float64Array) and I64 (as BigInt64Array), and, like the reference
 * implementation, insists that the tensors tile the data section exactly.
 */
import { open, readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { bytesOf, readError, writeFileAtomic } from './files.js';

/** The safetensors dtypes read (F32, I32, F64, I64); F32 and I32 are also written. */
export type SafetensorsDtype = 'F32' | 'I32' | 'F64' | 'I64';
/** A tensor's data as read: F32 → Float32Array, I32 → Int32Array, F64 → Float64Array, I64 → BigInt64Array. */
export type SafetensorsData = Float32Array | Int32Array | Float64Array | BigInt64Array;

/** A tensor for {@link writeSafetensors}: its name, shape, and data (row-major; float32 → F32, int32 → I32). */
export interface SafetensorsInput {
  name: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** A tensor as read: its shape, dtype, and data (row-major). */
export interface SafetensorsTensor {
  shape: number[];
  dtype: SafetensorsDtype;
  data: SafetensorsData;
}

/** A safetensors file as {@link readSafetensors} reads it: its tensors by name, and its `__metadata__`. */
export interface SafetensorsFile {
  /** Tensors in the order of their data. */
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const METADATA = '__metadata__';
const ARRAYS = { F32: Float32Array, I32: Int32Array, F64: Float64Array, I64: BigInt64Array };

function checkHost(path: string): void {
  if (endianness() !== 'LE') throw new Error(`${path}: safetensors needs a little-endian host`);
}

function isDims(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0);
}

function checkMetadata(metadata: unknown, where: string): Record<string, string> {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new Error(`${where}: ${METADATA} must be an object of strings`);
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new Error(`${where}: ${METADATA}.${key} is not a string`);
  }
  return { ...(metadata as Record<string, string>) };
}

/** Writes `tensors` (in order) and `metadata` to `path` atomically (temporary sibling + rename). */
export async function writeSafetensors(
  path: string,
  tensors: readonly SafetensorsInput[],
  metadata?: Record<string, string>,
): Promise<void> {
  checkHost(path);
  const entries: string[] = [];
  if (metadata !== undefined)
    entries.push(`${JSON.stringify(METADATA)}:${JSON.stringify(checkMetadata(metadata, path))}`);
  const seen = new Set<string>();
  let offset = 0;
  for (const { name, shape, data } of tensors) {
    const where = `${path}: tensor '${name}'`;
    if (typeof name !== 'string' || name === '' || name === METADATA) throw new Error(`${where}: invalid name`);
    if (seen.has(name)) throw new Error(`${where}: duplicate name`);
    seen.add(name);
    if (!isDims(shape)) throw new Error(`${where}: invalid shape ${JSON.stringify(shape)}`);
    const dtype = data instanceof Float32Array ? 'F32' : data instanceof Int32Array ? 'I32' : null;
    if (dtype === null) throw new Error(`${where}: data must be a Float32Array or an Int32Array`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new Error(`${where}: ${data.length} values for shape [${shape}] (${size})`);
    const entry = { dtype, shape, data_offsets: [offset, offset + data.byteLength] };
    entries.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    offset += data.byteLength;
  }
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const header = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  header.set(json);
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(header.length), true);
  await writeFileAtomic(path, [length, header, ...tensors.map((t) => bytesOf(t.data))]);
}

/** The header of `file`, the first bytes of a file of `size` bytes (default: all of it). */
function parseHeader(
  path: string,
  file: Uint8Array,
  size = file.length,
): { header: Record<string, unknown>; start: number } {
  if (size < 8) throw new Error(`${path}: ${size} bytes, too short for the 8-byte header length`);
  const n = new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(size - 8)) {
    throw new Error(`${path}: header length ${n} bytes exceeds the ${size - 8} bytes after it (truncated?)`);
  }
  const start = 8 + Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, start)));
  } catch (err) {
    throw new Error(`${path}: header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new Error(`${path}: header is not a JSON object`);
  }
  return { header: header as Record<string, unknown>, start };
}

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(path: string, name: string, value: unknown, dataBytes: number): Entry {
  const where = `${path}: tensor '${name}'`;
  const { dtype, shape, data_offsets: offsets } = (value ?? {}) as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(dtype in ARRAYS)) {
    throw new Error(`${where}: unknown dtype ${JSON.stringify(dtype)} (F32, I32, F64 or I64)`);
  }
  if (!isDims(shape)) throw new Error(`${where}: invalid shape ${JSON.stringify(shape)}`);
  if (!isDims(offsets) || offsets.length !== 2 || offsets[0] > offsets[1]) {
    throw new Error(`${where}: invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets;
  if (end > dataBytes) {
    throw new Error(`${where}: data_offsets [${begin}, ${end}] exceed the ${dataBytes}-byte data section (truncated?)`);
  }
  const needed = shape.reduce((a, b) => a * b, 1) * ARRAYS[dtype as SafetensorsDtype].BYTES_PER_ELEMENT;
  if (end - begin !== needed) {
    throw new Error(
      `${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, ${dtype} [${shape}] needs ${needed}`,
    );
  }
  return { name, dtype: dtype as SafetensorsDtype, shape, begin, end };
}

/**
 * The `__metadata__` of a safetensors file, reading only its header (not the tensors); errors name the
 * file, as readSafetensors' do.
 */
export async function readSafetensorsMetadata(path: string): Promise<Record<string, string>> {
  const fh = await open(path, 'r').catch((err) => Promise.reject(readError(path, err)));
  try {
    const size = (await fh.stat()).size;
    const length = Buffer.alloc(8);
    await fh.read(length, 0, 8, 0);
    const n = Number(length.readBigUInt64LE(0));
    const head = Buffer.alloc(Math.min(size, 8 + Math.min(n, size)));
    await fh.read(head, 0, head.length, 0);
    const { header } = parseHeader(path, head, size);
    return METADATA in header ? checkMetadata(header[METADATA], path) : {};
  } finally {
    await fh.close();
  }
}

/** Reads and validates a safetensors file; errors name the file and the tensor at fault. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  checkHost(path);
  const file = new Uint8Array(await readFile(path).catch((err) => Promise.reject(readError(path, err))));
  const { header, start } = parseHeader(path, file);
  const dataBytes = file.length - start;
  const metadata = METADATA in header ? checkMetadata(header[METADATA], path) : {};
  const entries = Object.entries(header)
    .filter(([name]) => name !== METADATA)
    .map(([name, value]) => parseEntry(path, name, value, dataBytes))
    .sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const [i, e] of entries.entries()) {
    if (e.begin < covered) {
      const prev = entries[i - 1];
      throw new Error(
        `${path}: tensor '${e.name}' [${e.begin}, ${e.end}] overlaps tensor '${prev.name}' [${prev.begin}, ${prev.end}]`,
      );
    }
    if (e.begin > covered)
      throw new Error(`${path}: tensor '${e.name}' starts at ${e.begin}, leaving a gap after ${covered}`);
    covered = e.end;
  }
  if (covered !== dataBytes) {
    throw new Error(`${path}: the tensors cover ${covered} of the ${dataBytes} data bytes (trailing bytes)`);
  }
  const tensors = new Map<string, SafetensorsTensor>();
  for (const { name, dtype, shape, begin, end } of entries) {
    const bytes = file.slice(start + begin, start + end);
    const data = new ARRAYS[dtype](bytes.buffer, 0, (end - begin) / ARRAYS[dtype].BYTES_PER_ELEMENT);
    tensors.set(name, { shape, dtype, data });
  }
  return { tensors, metadata };
}
