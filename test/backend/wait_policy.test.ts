/**
 * The addon's OpenMP threads wait passively unless the environment says otherwise: loadAddon() sets
 * OMP_WAIT_POLICY=passive before libgomp reads it, so libgomp spins 0 times at a barrier instead of
 * its default 300000 (shown by OMP_DISPLAY_ENV=verbose in a fresh process).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { describeNative } from '../helpers.js';

const root = join(import.meta.dirname, '..', '..');
const script = "const { loadAddon } = await import('./src/backend/addon.ts'); console.log(!!loadAddon().addon)";

/** libgomp's settings as a fresh process that loads the addon prints them, given OMP_WAIT_POLICY. */
function gompSettings(policy: string | undefined): string {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_DISPLAY_ENV: 'verbose' };
  delete env.OMP_WAIT_POLICY;
  if (policy) env.OMP_WAIT_POLICY = policy;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^true$/m, 'the addon loaded');
  return r.stderr;
}

describeNative(
  'OpenMP wait policy of the native kernels',
  () => {
    it('passive by default: no spinning at barriers', () => {
      const s = gompSettings(undefined);
      assert.match(s, /OMP_WAIT_POLICY = 'PASSIVE'/);
      assert.match(s, /GOMP_SPINCOUNT = '0'/);
    });
    it("the environment's OMP_WAIT_POLICY wins", () => {
      const s = gompSettings('active');
      assert.match(s, /OMP_WAIT_POLICY = 'ACTIVE'/);
      assert.doesNotMatch(s, /GOMP_SPINCOUNT = '0'/);
    });
  },
  'it loads the addon',
);
