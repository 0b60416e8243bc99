/** File-system helpers shared by the model and safetensors writers: synced writes and temp siblings. */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { killPoint } from './kill_point.js';

/** A fresh name next to `path` (same directory, so a rename onto `path` stays atomic). */
export function siblingName(path: string, tag: string): string {
  return join(dirname(path), `.${basename(path)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * The process id in `entry` when it is a name siblingName gave next to a file or folder called `name`
 * with `tag` (`.<name>.<tag>-<pid>-<8 hex digits>`); otherwise null.
 */
export function siblingOwner(entry: string, name: string, tag: string): number | null {
  const prefix = `.${name}.${tag}-`;
  if (!entry.startsWith(prefix)) return null;
  const m = /^(\d+)-[0-9a-f]{8}$/.exec(entry.slice(prefix.length));
  return m ? Number(m[1]) : null;
}

/** `chunks` cut in two at half their bytes (views, no copies). */
function halves(chunks: readonly Uint8Array[]): [Uint8Array[], Uint8Array[]] {
  let left = Math.floor(chunks.reduce((n, c) => n + c.byteLength, 0) / 2);
  const first: Uint8Array[] = [];
  const second: Uint8Array[] = [];
  for (const chunk of chunks) {
    const cut = Math.min(left, chunk.byteLength);
    if (cut > 0) first.push(chunk.subarray(0, cut));
    if (cut < chunk.byteLength) second.push(chunk.subarray(cut));
    left -= cut;
  }
  return [first, second];
}

async function writeAll(fh: FileHandle, chunks: readonly Uint8Array[]): Promise<void> {
  for (const chunk of chunks) {
    let done = 0;
    while (done < chunk.byteLength) {
      const { bytesWritten } = await fh.write(chunk, done, chunk.byteLength - done);
      done += bytesWritten;
    }
  }
}

/**
 * Writes `chunks` to a new file at `path` (failing if it exists) and fsyncs it. Half-way through, the
 * test-only kill point named `point` (kill_point.ts).
 */
export async function writeSynced(path: string, chunks: readonly Uint8Array[], point = basename(path)): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    const [first, second] = halves(chunks);
    await writeAll(fh, first);
    killPoint(point);
    await writeAll(fh, second);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `chunks` to a temporary sibling of `path`, then renames it onto `path`. */
export async function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const tmp = siblingName(path, 'tmp');
  try {
    await writeSynced(tmp, chunks, basename(path));
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** writeFileAtomic for a text, synchronously (a temporary sibling, fsynced, renamed onto `path`). */
export function writeFileAtomicSync(path: string, text: string): void {
  const tmp = siblingName(path, 'tmp');
  try {
    const fd = openSync(tmp, 'wx');
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** The bytes of a typed array as a view (no copy). */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** What the file-system errors a write may meet mean, in words. */
const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'a folder is in the way',
  EIO: 'input/output error',
  ENOENT: 'a folder on its path is missing and could not be made',
  EEXIST: 'a file or a link is in the way of a folder',
  ELOOP: 'too many levels of symbolic links',
};

/** What the file-system errors a read may meet mean, in words. */
const READ_FAILURES: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ELOOP: 'too many levels of symbolic links',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
};

/**
 * A system error met while reading, in words with its code: `no such file or folder, ENOENT`; null
 * for an error that is not a system error.
 */
export function readFailure(err: unknown): string | null {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return null;
  return `${READ_FAILURES[code] ?? (err as Error).message}, ${code}`;
}

/** A system error met while reading `path` as an Error naming it (`PATH: cannot read (no such file…, ENOENT)`); others pass. */
export function readError(path: string, err: unknown): unknown {
  const words = readFailure(err);
  return words === null ? err : new Error(`${path}: cannot read (${words})`);
}

/**
 * A system error met while writing `what` (e.g. 'the checkpoint') at `path` as an Error naming both:
 * `PATH: cannot write WHAT (no space left on the device, ENOSPC)`; any other error passes unchanged.
 */
export function writeError(path: string, what: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return err;
  return new Error(`${path}: cannot write ${what} (${WRITE_FAILURES[code] ?? (err as Error).message}, ${code})`);
}

/** Runs `write`, turning a system error into writeError's message. */
export async function writing<T>(path: string, what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw writeError(path, what, err);
  }
}

/** writing() for synchronous writes. */
export function writingSync<T>(path: string, what: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    throw writeError(path, what, err);
  }
}

/**
 * mkdir -p `dir`; returns the topmost folder it made. Node's recursive mkdir reports ENOENT where a
 * read-only file system refuses the folder: the topmost missing one is then made alone for the real error.
 */
export function makeFolders(dir: string): string | undefined {
  try {
    return mkdirSync(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    let top = resolve(dir);
    while (!existsSync(dirname(top)) && dirname(top) !== top) top = dirname(top);
    mkdirSync(top);
    throw err;
  }
}
