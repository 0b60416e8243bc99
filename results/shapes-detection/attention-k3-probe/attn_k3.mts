// The attention demo with kernelSize 3 (FPN and subnets), otherwise detect train's options: a 12-epoch probe.
import { initBackend } from '/work/wt/shapes/src/backend/native.js';
import { openDetectionData, parseDetectionSpec } from '/work/wt/shapes/src/data/detection/spec.js';
import { detectorConfig } from '/work/wt/shapes/src/models/detection/registry.js';
import { DETECTOR_TRAIN_DEFAULTS } from '/work/wt/shapes/src/tasks/detection/train_options.js';
import { trainDetector } from '/work/wt/shapes/src/tasks/detection/trainer.js';
await initBackend();
const data = await openDetectionData(parseDetectionSpec('shapes'), { seed: 0 });
const detector = detectorConfig('retinanet_demo_attnfpn', { classes: 4, attention: { heads: 4, kernelSize: 3 } });
const r = await trainDetector({ ...DETECTOR_TRAIN_DEFAULTS, detector, epochs: 12, batchSize: 8, lr: 0.02, checkpointEvery: 50, size: 256 }, data, 'shapes', process.argv[2]);
console.log('done', r.steps);
