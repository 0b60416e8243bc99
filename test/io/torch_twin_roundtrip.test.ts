/**
 * sasa → PyTorch → sasa with torch itself (Debian's python3-torch at /usr/bin/python3): every
 * registered model (reduced) and the attention variants make the trip with bit-identical weights and
 * logits within 1e-5 (test/io/torch_twin.ts); and `torchrun` trains sasa's weights in the twin
 * data-parallel (2 gloo processes on CPU, the embedded Fashion-MNIST subset) with a falling loss, the
 * weights it writes giving sasa the twin's logits. Without torch the suite is skipped with the reason, unless
 * SASA_REQUIRE_TORCH=1 (CI sets it), which makes a missing torch a failure. SASA_TORCH_PYTHON names
 * another Python (default /usr/bin/python3).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { exportTorchSafetensors } from '../../src/io/torch_names.js';
import { createModel } from '../../src/models/registry.js';
import { FAST, setup } from '../helpers.js';
import {
  type RoundTrip,
  roundTrip,
  roundTripCases,
  TWIN_TOLERANCE,
  torchMissing,
  trainDdp,
  trainedConfig,
} from './torch_twin.js';

const missing = torchMissing();
const required = process.env.SASA_REQUIRE_TORCH === '1';
const skip =
  missing && !required
    ? `${missing}: install Debian's python3-torch (SASA_REQUIRE_TORCH=1 makes this a failure)`
    : false;

/** The fast subset: the demo models and two attention variants. */
const FAST_CASES = new Set(['resnet26_demo', 'sasa_resnet26_convstem_demo', 'sasa_resnet26_demo', 'absolute_masked']);

function assertTrip(r: RoundTrip): void {
  const at = `${r.name} (|logits| ≤ ${r.logitScale.toFixed(3)})`;
  assert.deepEqual(r.changed, [], `${at}: weights changed on the trip`);
  assert.ok(r.sasaVsTorch <= TWIN_TOLERANCE, `${at}: sasa vs PyTorch logits differ by ${r.sasaVsTorch}`);
  assert.ok(r.sasaVsBack <= TWIN_TOLERANCE, `${at}: sasa vs sasa with the twin's save differ by ${r.sasaVsBack}`);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('sasa → PyTorch → sasa through the twin (python3-torch)', { skip }, () => {
  before(async () => {
    if (missing) throw new Error(`SASA_REQUIRE_TORCH=1 but ${missing}`);
    await setup();
  });

  it(`every registered model and attention variant: weights bit-identical, logits within ${TWIN_TOLERANCE}`, async () => {
    const cases = roundTripCases().filter((c) => !FAST || FAST_CASES.has(String(c.name)));
    const results = await roundTrip(cases);
    assert.equal(results.length, cases.length);
    for (const r of results) assertTrip(r);
  });

  it('torchrun, 2 gloo processes, from sasa weights: the loss falls, and the trained weights give sasa the twin logits', async (t) => {
    const out = await mkdtemp(join(tmpdir(), 'sasa-ddp-'));
    try {
      const init = join(out, 'init.safetensors');
      const start = createModel('resnet26_demo', {}, { seed: 11 });
      await exportTorchSafetensors(start, init);
      start.dispose();
      const losses = trainDdp({ model: 'resnet26_demo', steps: 10, batch: 16, lr: 1, out, init });
      assert.equal(losses.length, 10);
      const [first, last] = [mean(losses.slice(0, 3)), mean(losses.slice(-3))];
      const story = `loss ${first.toFixed(3)} over the first 3 steps, ${last.toFixed(3)} over the last 3`;
      t.diagnostic(story);
      assert.ok(last < first - 0.1, story);
      const [r] = await roundTrip([trainedConfig(out)], out);
      assertTrip(r);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
