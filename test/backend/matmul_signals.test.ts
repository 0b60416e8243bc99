/**
 * Native BatchMatMul must survive signals: oneDNN's JIT sgemm (<= 3.11, issue #4845) points rsp
 * into the heap while it runs, so a signal handler's frame — here V8's SIGPROF sampling under
 * `node --cpu-prof` — corrupts the heap ("corrupted size vs. prev_size while consolidating").
 * A child process runs the triggering shapes (small m and n, k >= 256, transposes, gradients)
 * under the profiler for a while and must exit 0.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeNative } from '../helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const script = join(here, 'fixtures', 'matmul_under_profiler.ts');

describeNative(
  'BatchMatMul under a sampling profiler (signals during the kernel)',
  () => {
    it('node --cpu-prof running native matmuls and their gradients exits 0', () => {
      const dir = mkdtempSync(join(tmpdir(), 'sasa-cpuprof-'));
      try {
        const r = spawnSync(
          process.execPath,
          ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', dir, '--import', 'tsx', script],
          { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, SECONDS_TO_RUN: '2' } },
        );
        const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-5).join('\n');
        assert.equal(r.signal, null, `the child was killed by ${r.signal}:\n${tail}`);
        assert.equal(r.status, 0, `the child exited with ${r.status}:\n${tail}`);
        assert.match(r.stdout, /^ok \d+ products/m);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
  'it exercises the native kernel',
);
