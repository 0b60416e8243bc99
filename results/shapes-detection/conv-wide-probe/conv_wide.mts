// Capacity probe: the conv demo detector with a wider backbone, a 64-channel pyramid and subnets of depth 4.
import { initBackend } from '../../../src/backend/native.js';
import { openDetectionData, parseDetectionSpec } from '../../../src/data/detection/spec.js';
import { detectorConfig } from '../../../src/models/detection/registry.js';
import { DETECTOR_TRAIN_DEFAULTS } from '../../../src/tasks/detection/train_options.js';
import { trainDetector } from '../../../src/tasks/detection/trainer.js';
await initBackend();
const [out, epochs, width, channels, depth, sigma] = process.argv.slice(2);
const data = await openDetectionData(parseDetectionSpec('shapes'), { seed: 0 });
const detector = detectorConfig('retinanet_demo', {
  classes: 4,
  channels: Number(channels),
  subnetDepth: Number(depth),
  subnetStddev: Number(sigma),
  backbone: { name: 'resnet26', overrides: { widthMultiplier: Number(width), blocks: [1, 1, 1, 1] } },
});
console.log(JSON.stringify(detector));
const r = await trainDetector(
  { ...DETECTOR_TRAIN_DEFAULTS, detector, epochs: Number(epochs), batchSize: 8, lr: 0.02, checkpointEvery: 50, size: 256 },
  data, 'shapes', out);
console.log('done', r.steps);
