/** sasa export onnx end to end: writes the file and says so; bad flags and folders are errors naming them. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { onnxOptionsOf } from '../../src/cli/export.js';
import { saveModelFiles } from '../../src/io/model_files.js';
import { createModel, modelConfig } from '../../src/models/registry.js';
import { setup } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-cli-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function sasa(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('sasa export onnx', () => {
  before(async () => {
    await setup();
    const model = createModel('sasa_resnet26_demo', {}, { seed: 1 });
    const metadata = { config: modelConfig('sasa_resnet26_demo'), classNames: [], normalization: {} };
    await saveModelFiles(model, join(dir, 'model'), metadata);
    model.dispose();
  });

  it('writes the ONNX file and summarises it', () => {
    const out = join(dir, 'demo.onnx');
    const r = sasa('export', 'onnx', '--model-dir', join(dir, 'model'), '--out', out, '--batch', '2');
    assert.equal(r.status, 0, r.stderr);
    const bytes = statSync(out).size;
    assert.match(r.stdout, new RegExp(`sasa_resnet26_demo from .*, ${(bytes / 1e6).toFixed(2)} MB, opset 17, batch 2`));
  });

  it('reports a folder that is not a model, naming the file', () => {
    const r = sasa('export', 'onnx', '--model-dir', join(dir, 'none'), '--out', join(dir, 'x.onnx'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^sasa: error: .*none\/model\.json: missing/);
  });

  it('names the flag of a bad opset or batch', () => {
    assert.throws(
      () => onnxOptionsOf({ opset: '11', batch: 'dynamic' }),
      /--opset must be an integer from 13 to 21, got '11' \(MaxPool needs opset 12, ReduceSum needs opset 13, Softmax needs opset 13\)/,
    );
    assert.throws(
      () => onnxOptionsOf({ opset: '17', batch: 'many' }),
      /--batch must be 'dynamic' or a positive integer, got 'many'/,
    );
    assert.deepEqual(onnxOptionsOf({ opset: '13', batch: '8' }), { opset: 13, batch: 8 });
  });
});
