/**
 * The fuzz ops reach every kernel the native backend registers (src/backend/native.ts): the first
 * cases of each op, run on native with each native kernel wrapped to note its calls, call them all —
 * forward and gradient kernels.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { registerNativeBackend } from '../../src/backend/native.js';
import * as tf from '../../src/tf.js';
import { describeNative, setup, useBackend } from '../helpers.js';
import { outputs } from './harness.js';
import { FUZZ_OPS } from './ops.js';
import { caseOf } from './sweep.js';

const SEED = 2026;
const CASES = 60;

describeNative('fuzz coverage', () => {
  before(setup);

  it('every registered native kernel runs in the first cases of some fuzz op', async () => {
    await useBackend('native');
    const registered = registerNativeBackend().kernels;
    const seen = new Set<string>();
    for (const name of registered) {
      const kernel = tf.getKernel(name, 'native') as tf.KernelConfig;
      tf.unregisterKernel(name, 'native');
      tf.registerKernel({
        ...kernel,
        kernelFunc: (args) => {
          seen.add(name);
          return kernel.kernelFunc(args);
        },
      });
    }
    for (const op of FUZZ_OPS) {
      for (let i = 0; i < CASES; i++) {
        const fuzzCase = caseOf(op, SEED, i);
        try {
          tf.tidy(() => outputs(fuzzCase, op.run));
        } catch {
          // a refused case: the kernels it reached are noted all the same
        }
      }
    }
    assert.ok(registered.length >= 38, `${registered.length} native kernels`);
    assert.deepEqual(
      registered.filter((k) => !seen.has(k)),
      [],
    );
  });
});
