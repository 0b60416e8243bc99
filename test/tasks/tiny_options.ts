/** Training options for the trainer tests: a tiny resnet26 (width ×0.125, two groups, small conv stem). */
import { modelConfig } from '../../src/models/registry.js';
import type { TrainOptions } from '../../src/tasks/classification/trainer.js';

export function tinyTrainOptions(
  data: { size: number; channels: number; classes: number },
  overrides: Partial<TrainOptions> = {},
): TrainOptions {
  return {
    model: modelConfig('resnet26', {
      widthMultiplier: 0.125,
      blocks: [1, 1],
      inputSize: data.size,
      inputChannels: data.channels,
      classes: data.classes,
      stem: { type: 'small_conv' },
    }),
    epochs: 2,
    batchSize: 8,
    lr: 0.05,
    warmupEpochs: 0,
    momentum: 0.9,
    weightDecay: 1e-4,
    labelSmoothing: 0.1,
    emaDecay: 0.9,
    seed: 1,
    validationFraction: 0.1,
    checkpointEvery: 1,
    augment: true,
    ...overrides,
  };
}
