/**
 * Running a command line in-process with its output captured, and the state of a folder tree to
 * compare before and after (names, kinds, sizes, modification times; links are not followed).
 */
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface Captured<T> {
  code: T;
  stdout: string;
  stderr: string;
}

type Write = typeof process.stdout.write;

/** Runs `fn` with process.stdout and process.stderr captured (console.* included). */
export async function quietly<T>(fn: () => Promise<T>): Promise<Captured<T>> {
  const out: string[] = [];
  const err: string[] = [];
  const writes = [process.stdout.write, process.stderr.write];
  const capture =
    (into: string[]): Write =>
    (chunk: string | Uint8Array, ...rest: unknown[]) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    };
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  try {
    const code = await fn();
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    [process.stdout.write, process.stderr.write] = writes;
  }
}

/** One line per entry under `root`: path, kind, size, mtime (a link: its target). Sorted. */
export function snapshot(root: string): string[] {
  const lines: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const s = lstatSync(path);
      if (s.isSymbolicLink()) lines.push(`${path} -> ${readlinkSync(path)}`);
      else if (s.isDirectory()) {
        lines.push(`${path}/`);
        walk(path);
      } else lines.push(`${path} ${s.size} ${s.mtimeMs}`);
    }
  };
  walk(root);
  return lines;
}
