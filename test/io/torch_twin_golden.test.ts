/**
 * sasa against its PyTorch twin (python/sasa_torch) without Python: the twin's logits for conv-stem
 * networks with its weights (test/golden/torch_twin, tools/gen_torch_twin_golden.py; float64), where
 * TensorFlow-style 'same' padding of strided windows on even sides decides the result, must be
 * sasa's logits for the same weights; and the weights survive sasa's export bit for bit. The full
 * sasa → PyTorch → sasa round trip of every model needs torch: tools/torch_twin_roundtrip.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../../src/io/safetensors.js';
import { exportTorchSafetensors, importTorchSafetensors } from '../../src/io/torch_names.js';
import type { ModelConfig } from '../../src/models/config.js';
import { createModel } from '../../src/models/registry.js';
import * as tf from '../../src/tf.js';
import { assertClose, setup } from '../helpers.js';

interface TwinCase {
  name: string;
  model: string;
  config: Partial<ModelConfig>;
  weights: string;
  inputShape: [number, number, number, number];
  x: number[];
  logits: number[];
}

const dir = new URL('../golden/torch_twin/', import.meta.url);
const golden = JSON.parse(readFileSync(new URL('cases.json', dir), 'utf8')) as { cases: TwinCase[] };

/** Float32 through ~15 layers against float64: |diff| <= TOL · (1 + |ref|). */
const TOL = 1e-4;

describe('sasa computes what its PyTorch twin computes (golden logits)', () => {
  before(setup);
  for (const c of golden.cases) {
    it(`${c.name}: eval-mode logits, and the weights export unchanged`, async () => {
      const path = fileURLToPath(new URL(c.weights, dir));
      const model = createModel(c.model, c.config);
      await importTorchSafetensors(model, path);
      const y = tf.tidy(() => model.predict(tf.tensor(c.x, c.inputShape)) as tf.Tensor);
      assert.deepEqual(y.shape, [c.inputShape[0], c.config.classes]);
      assertClose(y.dataSync(), c.logits, { label: `${c.name} logits`, tol: TOL });
      y.dispose();
      const out = await mkdtemp(join(tmpdir(), 'sasa-twin-'));
      try {
        await exportTorchSafetensors(model, join(out, 'w.safetensors'));
        const [mine, theirs] = await Promise.all([readSafetensors(join(out, 'w.safetensors')), readSafetensors(path)]);
        assert.deepEqual([...mine.tensors.keys()].sort(), [...theirs.tensors.keys()].sort());
        for (const [name, t] of theirs.tensors) {
          assert.deepEqual(mine.tensors.get(name)?.shape, t.shape, name);
          assert.deepEqual(mine.tensors.get(name)?.data, t.data, name);
        }
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    });
  }
});
