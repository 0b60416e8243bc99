/**
 * A test-only reader of the safetensors fixtures written by tools/gen_model_golden.py (F32 only):
 * an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON ({name: {dtype, shape,
 * data_offsets: [begin, end]}}, optional "__metadata__"), then the raw little-endian data, offsets
 * relative to the start of the data section. Kept independent of any reader in src/ on purpose.
 */
import { readFileSync } from 'node:fs';

export interface FixtureTensor {
  shape: number[];
  dtype: string;
  data: Float32Array;
}

export function readSafetensorsFixture(path: string | URL): {
  tensors: Map<string, FixtureTensor>;
  metadata: Record<string, string>;
} {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  const start = 8 + n;
  const tensors = new Map<string, FixtureTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (dtype !== 'F32') throw new Error(`${name}: dtype ${dtype} (the fixture reader handles F32 only)`);
    const [begin, end] = data_offsets;
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== 4 * count || start + end > bytes.length) throw new Error(`${name}: bad data_offsets`);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(start + begin + 4 * i, true);
    tensors.set(name, { shape, dtype, data });
  }
  return { tensors, metadata };
}
