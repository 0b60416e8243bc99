// Probe: a demo detector trained with `detect train`'s options and overrides.
// Args: out, detector name, epochs, detector overrides JSON, training overrides JSON; DATA=shapes:DIR picks the data (default shapes).
import { initBackend } from '../../../src/backend/native.js';
import { openDetectionData, parseDetectionSpec } from '../../../src/data/detection/spec.js';
import { detectorConfig } from '../../../src/models/detection/registry.js';
import { DETECTOR_TRAIN_DEFAULTS } from '../../../src/tasks/detection/train_options.js';
import { trainDetector } from '../../../src/tasks/detection/trainer.js';
await initBackend();
const [out, name, epochs, detectorOverrides, trainOverrides] = process.argv.slice(2);
const data = await openDetectionData(parseDetectionSpec(process.env.DATA ?? 'shapes'), { seed: 0 });
const detector = detectorConfig(name, { classes: 4, ...JSON.parse(detectorOverrides ?? '{}') });
const options = {
  ...DETECTOR_TRAIN_DEFAULTS,
  detector,
  epochs: Number(epochs),
  batchSize: 8,
  lr: 0.02,
  checkpointEvery: 50,
  size: 256,
  ...JSON.parse(trainOverrides ?? '{}'),
};
console.log(JSON.stringify(options));
const r = await trainDetector(options, data, 'shapes', out);
console.log('done', r.steps);
