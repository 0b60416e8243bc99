/** The CLI tests' way to run `sasa` as a user does, and to check that it refused in one line. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/** `sasa ...args` through tsx (one thread, the environment plus `env`), its status, stdout and stderr. */
export function runSasa(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, SASA_NUM_THREADS: '1', ...env },
  });
}

/** Asserts exit code 1 and exactly one stderr line, `sasa: error: …` matching `pattern`. */
export function assertOneError(r: ReturnType<typeof runSasa>, pattern: RegExp): void {
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^sasa: error: /);
  assert.match(lines[0], pattern);
}

/** `s` as a regular expression that matches it literally. */
export const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
