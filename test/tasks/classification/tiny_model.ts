/** A small saved attention classifier (untrained, seeded) for the attention-map and web page tests. */
import { saveModelFiles } from '../../../src/io/model_files.js';
import { createModel } from '../../../src/models/registry.js';

/** The demo attention network at 16×16×3 with 5 classes: the attention stem, then 4 attention layers. */
export const TINY_MODEL = {
  name: 'sasa_resnet26_demo',
  overrides: { inputSize: 16, inputChannels: 3, classes: 5 },
  classNames: ['circle', 'square', 'stripe', 'dot', 'noise'],
  normalization: { mean: [0.5, 0.45, 0.4], std: [0.25, 0.25, 0.3] },
} as const;

/** Builds the tiny model (seed 7) and saves it into `dir` as sasa train would (metadata included). */
export async function writeTinyModel(dir: string): Promise<void> {
  const { name, overrides, classNames, normalization } = TINY_MODEL;
  const model = createModel(name, { ...overrides }, { seed: 7 });
  const config = { name, ...overrides };
  await saveModelFiles(model, dir, { config, classNames: [...classNames], normalization, data: 'tiny' });
  model.dispose();
}
