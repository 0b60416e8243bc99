/**
 * The install script without a toolchain: it exits 0 (the package still installs), says why, and
 * records the reason in build/NOT_BUILT, which the library quotes once when it falls back to the
 * pure-JS backend. Run on a copy of the script in a temporary package root, so the checkout's
 * build/ is untouched; the missing compiler is a PATH that holds only node.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const repo = join(import.meta.dirname, '..', '..');
const root = mkdtempSync(join(tmpdir(), 'sasa-build-native-'));
const onlyNode = join(root, 'bin');
mkdirSync(join(root, 'scripts'));
mkdirSync(onlyNode);
copyFileSync(join(repo, 'scripts', 'build-native.mjs'), join(root, 'scripts', 'build-native.mjs'));
copyFileSync(join(repo, 'binding.gyp'), join(root, 'binding.gyp'));
symlinkSync(process.execPath, join(onlyNode, 'node'));
after(() => rmSync(root, { recursive: true, force: true }));

function installScript(env: Record<string, string>, ...args: string[]) {
  rmSync(join(root, 'build'), { recursive: true, force: true });
  return spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), ...args], {
    cwd: root,
    env: { HOME: root, ...env },
    encoding: 'utf8',
  });
}

describe('scripts/build-native.mjs without a toolchain', () => {
  it('exits 0 without a C++ compiler on PATH, says how to fix it and records why', () => {
    const run = installScript({ PATH: onlyNode });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /native oneDNN backend was not built: no C\+\+ compiler: g\+\+ is not on PATH/);
    assert.match(run.stderr, /pure-JS backend/);
    assert.match(run.stderr, /to fix: apt-get install -y libdnnl-dev g\+\+ make python3 && npm rebuild sasa/);
    assert.equal(
      readFileSync(join(root, 'build', 'NOT_BUILT'), 'utf8'),
      'no C++ compiler: g++ is not on PATH (set CXX to use another)\n',
    );
  });

  it('names the oneDNN headers when the compiler and make are there but the headers are not', () => {
    const run = installScript({ PATH: process.env.PATH ?? '', SASA_DNNL_INCLUDE: join(root, 'scripts') });
    assert.equal(run.status, 0, run.stderr);
    assert.match(
      readFileSync(join(root, 'build', 'NOT_BUILT'), 'utf8'),
      /^oneDNN headers \(oneapi\/dnnl\/dnnl\.hpp, Debian package libdnnl-dev\) are not in .*scripts\n$/,
    );
  });

  it('fails with --required (`npm run build:native`) and leaves no note', () => {
    const run = installScript({ PATH: onlyNode }, '--required');
    assert.equal(run.status, 1);
    assert.match(run.stderr, /no C\+\+ compiler/);
    assert.equal(existsSync(join(root, 'build', 'NOT_BUILT')), false);
  });

  it('is quoted once by initBackend, which falls back to the cpu backend', () => {
    installScript({ PATH: onlyNode });
    const { stdout, stderr } = fallback(join(root, 'build', 'Release', 'sasa_native.node'));
    const reason = 'the addon was not built at install: no C++ compiler: g++ is not on PATH (set CXX to use another)';
    assert.deepEqual(JSON.parse(stdout), ['cpu', 'cpu', reason]);
    const lines = stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, stderr);
    assert.equal(
      lines[0],
      `sasa: native backend unavailable (${reason}); running on TensorFlow.js's pure-JS backend, about 100x slower.`,
    );
    assert.match(lines[1], /^sasa: fix: apt-get install -y libdnnl-dev g\+\+ make python3, then `npm rebuild sasa`/);
  });

  it('says the install script did not run when there is no build folder at all', () => {
    const build = join(root, 'never-installed', 'build');
    const { stdout } = fallback(join(build, 'Release', 'sasa_native.node'));
    const reason = `the install script did not run (no ${build}; npm 12 runs it once allowed: npm install-scripts approve sasa)`;
    assert.equal(JSON.parse(stdout)[2], reason);
  });
});

/** initBackend called twice in a fresh process whose addon path is `addon`: [backends, reason], stderr. */
function fallback(addon: string): { stdout: string; stderr: string } {
  const program = [
    "import { initBackend } from './src/backend/native.ts';",
    'const first = await initBackend();',
    'const second = await initBackend();',
    'console.log(JSON.stringify([first.backend, second.backend, first.reason]));',
  ].join('\n');
  const { SASA_BACKEND: _, SASA_REQUIRE_NATIVE: __, ...env } = process.env;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
    cwd: repo,
    env: { ...env, SASA_NATIVE_ADDON: addon },
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return run;
}
