import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { saveModelFiles } from '../../../src/io/model_files.js';
import { createDetector } from '../../../src/models/detection/registry.js';
import { createModel } from '../../../src/models/registry.js';
import { loadBackboneWeights } from '../../../src/tasks/detection/backbone_weights.js';
import { setup } from '../../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-backbone-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('loadBackboneWeights', () => {
  before(setup);

  it("copies a classifier's layers into the detector's backbone by name, not its head", async () => {
    const overrides = { widthMultiplier: 0.25, blocks: [1, 1, 1, 1], classes: 3, inputSize: 64 };
    const classifier = createModel('resnet26', overrides, { seed: 11 });
    await saveModelFiles(classifier, join(dir, 'model'));
    const detector = createDetector('retinanet_demo', { channels: 8, classes: 2 }, { seed: 1 });
    const copied = await loadBackboneWeights(detector, join(dir, 'model'));
    const names = new Set(detector.layers.map((l) => l.name));
    const shared = classifier.layers.filter((l) => l.getWeights().length > 0 && names.has(l.name)).map((l) => l.name);
    assert.ok(copied.length > 5);
    assert.deepEqual(copied, shared);
    for (const name of copied) {
      const [want, got] = [classifier.getLayer(name).getWeights(), detector.getLayer(name).getWeights()];
      want.forEach((w, i) => {
        assert.deepEqual(got[i].dataSync(), w.dataSync(), name);
      });
    }
    classifier.dispose();
    detector.dispose();
  });

  it('names --backbone-weights when the folder holds no model', async () => {
    const detector = createDetector('retinanet_demo', { channels: 8, classes: 2 });
    await assert.rejects(loadBackboneWeights(detector, join(dir, 'none')), /--backbone-weights .*none: cannot load/);
    detector.dispose();
  });
});
