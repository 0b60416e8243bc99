/**
 * A fixed-seed subset of the fuzz sweep (scripts/fuzz.ts runs the full one): for each native op,
 * random shapes, attributes, dtypes and views through the public op on the native and cpu
 * backends. Refusals must be clear Errors; accepted cases must match cpu. SASA_FUZZ_CASES sets
 * the cases per op (default 200, 40 under SASA_TEST_FAST=1).
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { describeNative, FAST, setup } from '../helpers.js';
import { describeCase } from './harness.js';
import { FUZZ_OPS } from './ops.js';
import { sweep } from './sweep.js';

const SEED = 2026;
const CASES = Number(process.env.SASA_FUZZ_CASES ?? (FAST ? 40 : 200));

describeNative('fuzzing the native ops against the cpu backend', () => {
  before(async () => {
    await setup();
  });

  for (const op of FUZZ_OPS) {
    it(`${op.name}: ${CASES} random cases (seed ${SEED})`, async () => {
      const tally = await sweep(op, SEED, 0, CASES);
      const shown = tally.failures
        .slice(0, 3)
        .map((f) => `${JSON.stringify(f.verdict)}\n  ${describeCase(f.fuzzCase)}`);
      assert.equal(tally.failures.length, 0, `${tally.failures.length} failing cases, e.g.\n${shown.join('\n')}`);
      assert.ok(tally.matched > CASES / 4, `only ${tally.matched} of ${CASES} cases were accepted and compared`);
    });
  }
});
