// Probe: a demo detector with overrides (default { levelBatchNorm: true }: batch norm per pyramid level and after
// each hidden subnet layer, Google's TPU RetinaNet), otherwise `detect train`'s options.
// Args: out, detector name, epochs[, overrides JSON].
import { initBackend } from '../../../src/backend/native.js';
import { openDetectionData, parseDetectionSpec } from '../../../src/data/detection/spec.js';
import { detectorConfig } from '../../../src/models/detection/registry.js';
import { DETECTOR_TRAIN_DEFAULTS } from '../../../src/tasks/detection/train_options.js';
import { trainDetector } from '../../../src/tasks/detection/trainer.js';
await initBackend();
const [out, name, epochs, overrides] = process.argv.slice(2);
const data = await openDetectionData(parseDetectionSpec('shapes'), { seed: 0 });
const detector = detectorConfig(name, { classes: 4, ...JSON.parse(overrides ?? '{"levelBatchNorm": true}') });
console.log(JSON.stringify(detector));
const r = await trainDetector(
  { ...DETECTOR_TRAIN_DEFAULTS, detector, epochs: Number(epochs), batchSize: 8, lr: 0.02, checkpointEvery: 50, size: 256 },
  data, 'shapes', out);
console.log('done', r.steps);
