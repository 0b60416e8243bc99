/**
 * A whole network against an independent float64 PyTorch model: tools/gen_model_golden.py →
 * test/golden/model.json and test/golden/model_weights.safetensors. The reduced sasa_resnet26
 * (attention stem, bottleneck blocks with local self-attention in every group, stride-2 attention,
 * projection and identity shortcuts) is built by createModel with the stored overrides, loaded from
 * the PyTorch state dict through fromTorchStateDict, and checked for eval-mode logits, training-mode
 * logits, the gradients of sum(logits · G) w.r.t. the input and every trainable weight, and the
 * batch-norm running statistics after one training-mode forward.
 * Regenerate the fixtures with /usr/bin/python3 tools/gen_model_golden.py.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../../src/io/safetensors.js';
import { importTorchSafetensors, torchName, toTorchStateDict } from '../../src/io/torch_names.js';
import type { ModelConfig } from '../../src/models/config.js';
import { createModel } from '../../src/models/registry.js';
import * as tf from '../../src/tf.js';
import { assertClose, setup } from '../helpers.js';

interface ModelGolden {
  model: string;
  config: Partial<ModelConfig>;
  inputShape: number[];
  bnDecay: number;
  x: number[];
  G: number[];
  logitsEval: number[];
  logitsTrain: number[];
  dx: number[];
  grads: Record<string, number[]>;
  runningStats: Record<string, number[]>;
}

const golden = JSON.parse(readFileSync(new URL('../golden/model.json', import.meta.url), 'utf8')) as ModelGolden;
const weightsPath = fileURLToPath(new URL('../golden/model_weights.safetensors', import.meta.url));

/**
 * Float32 through ~20 layers against float64: |diff| <= TOL · (1 + max|ref|) (assertClose). Measured
 * worst errors relative to max|ref| are ~1e-6 (logits) and ~3e-5 (gradients), native and cpu backends.
 * GOLDEN_VERBOSE=1 reports the error of every tensor as a test diagnostic.
 */
const TOL = 2e-4;

/** Max abs error and max abs error relative to max|ref|, for the diagnostics. */
function errors(actual: ArrayLike<number>, expected: ArrayLike<number>): { abs: number; rel: number } {
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    abs = Math.max(abs, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return { abs, rel: scale > 0 ? abs / scale : abs };
}

function check(
  t: TestContext,
  label: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  worst?: { label: string; rel: number; abs: number },
): void {
  const e = errors(actual, expected);
  if (process.env.GOLDEN_VERBOSE) t.diagnostic(`${label}: ${e.abs.toExponential(2)} ${e.rel.toExponential(2)}`);
  if (worst && e.rel > worst.rel) Object.assign(worst, { label, ...e });
  else if (!worst)
    t.diagnostic(`${label}: max abs err ${e.abs.toExponential(2)}, rel to max|ref| ${e.rel.toExponential(2)}`);
  assertClose(actual, expected, { label, tol: TOL });
}

describe(`${golden.model} (reduced) matches an independent PyTorch model`, () => {
  let model: tf.LayersModel;
  let x: tf.Tensor;
  let weights: Awaited<ReturnType<typeof readSafetensors>>['tensors'];
  before(async () => {
    weights = (await readSafetensors(weightsPath)).tensors;
    await setup();
    model = createModel(golden.model, golden.config);
    assert.equal(model.trainableWeights.length, Object.keys(golden.grads).length, 'trainable weights');
    await importTorchSafetensors(model, weightsPath);
    x = tf.tensor(golden.x, golden.inputShape);
  });

  it('eval-mode logits (BN with the running statistics)', (t) => {
    const y = model.apply(x, { training: false }) as tf.Tensor;
    assert.deepEqual(y.shape, [golden.inputShape[0], golden.config.classes]);
    check(t, 'logitsEval', y.dataSync(), golden.logitsEval);
    y.dispose();
    // inference leaves the running statistics alone
    for (const w of toTorchStateDict(model)) {
      const stored = weights.get(w.name);
      assert.ok(stored, w.name);
      assert.deepEqual(Array.from(w.data), Array.from(stored.data), `${w.name} changed in eval mode`);
    }
  });

  it('training-mode logits, gradients w.r.t. the input and every weight, updated running statistics', (t) => {
    const trainable = model.trainableWeights;
    const vars = trainable.map((w) => w.read());
    const G = tf.tensor(golden.G, [golden.inputShape[0], golden.config.classes as number]);
    const { value, grads } = tf
      .engine()
      .gradients(() => model.apply(x, { training: true }) as tf.Tensor, [x, ...vars], G);
    check(t, 'logitsTrain', value.dataSync(), golden.logitsTrain);
    check(t, 'dx', grads[0].dataSync(), golden.dx);
    const worst = { label: '', rel: -1, abs: 0 };
    trainable.forEach((w, i) => {
      const { name, perm } = torchName(w.originalName, w.shape.length);
      const want = golden.grads[name];
      assert.ok(want, `no golden gradient for ${name}`);
      const got = tf.tidy(() => (perm ? tf.transpose(grads[i + 1], perm) : grads[i + 1]).dataSync());
      check(t, `d ${name}`, got, want, worst);
    });
    t.diagnostic(
      `weight gradients (${trainable.length}): worst ${worst.label}: max abs err ${worst.abs.toExponential(2)}, rel to max|ref| ${worst.rel.toExponential(2)}`,
    );
    const stats = new Map(toTorchStateDict(model).map((w) => [w.name, w.data]));
    const worstStat = { label: '', rel: -1, abs: 0 };
    const names = Object.keys(golden.runningStats);
    assert.equal(names.length, [...stats.keys()].filter((n) => /running_(mean|var)$/.test(n)).length);
    for (const name of names) {
      const got = stats.get(name);
      assert.ok(got, `model has no ${name}`);
      check(t, name, got, golden.runningStats[name], worstStat);
    }
    t.diagnostic(
      `running stats (${names.length}): worst ${worstStat.label}: max abs err ${worstStat.abs.toExponential(2)}, rel to max|ref| ${worstStat.rel.toExponential(2)}`,
    );
    tf.dispose([G, value, ...grads]);
  });
});
