/** Reading data files: the bytes of a file, gunzipped when it starts with the gzip magic 1f 8b. */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { readError } from '../io/files.js';

/** The file's bytes, decompressed if gzipped; errors name the path. */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw readError(path, err);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes);
    } catch (e) {
      throw new Error(`${path}: gzip data is corrupt or truncated (${(e as Error).message})`);
    }
  }
  return bytes;
}
