/**
 * Named models (SASA.md §3): for depth 26, 38 and 50,
 *   resnet{D}                 baseline: conv stem, 3×3 convolutions
 *   sasa_resnet{D}_convstem   conv stem, every spatial convolution replaced by attention (k 7, 8 heads)
 *   sasa_resnet{D}            full attention: attention stem (spatially-aware values) and attention blocks
 * and the demo pair for 28×28 grey images with 10 classes (`sasa demo`): sasa_resnet26_demo (width
 * ×0.25, one block per group, the small attention stem, 4 heads of k 7) and its convolutional twin
 * resnet26_demo (same widths and depth, 3×3 convolutions, the small conv stem); and between them
 * sasa_resnet26_convstem_demo (attention blocks, the small conv stem: the paper's conv-stem form).
 * createModel(name, overrides) builds one; listModels(pattern) lists the names.
 */
import type * as tf from '../tf.js';
import { type BuildOptions, buildModel } from './builder.js';
import type { ModelConfig } from './config.js';

export const DEPTHS: Record<number, number[]> = {
  26: [1, 2, 4, 1],
  38: [2, 3, 5, 2],
  50: [3, 4, 6, 3],
};

function registry(): Map<string, ModelConfig> {
  const m = new Map<string, ModelConfig>();
  for (const [depth, blocks] of Object.entries(DEPTHS)) {
    m.set(`resnet${depth}`, { name: `resnet${depth}`, stem: { type: 'conv' }, blocks, spatial: 'conv' });
    m.set(`sasa_resnet${depth}_convstem`, {
      name: `sasa_resnet${depth}_convstem`,
      stem: { type: 'conv' },
      blocks,
      spatial: 'attention',
    });
    m.set(`sasa_resnet${depth}`, {
      name: `sasa_resnet${depth}`,
      stem: { type: 'attention' },
      blocks,
      spatial: 'attention',
    });
  }
  const demo = {
    widthMultiplier: 0.25,
    blocks: [1, 1, 1, 1],
    inputSize: 28,
    inputChannels: 1,
    classes: 10,
    attention: { kernelSize: 7, heads: 4 },
  };
  m.set('sasa_resnet26_demo', {
    name: 'sasa_resnet26_demo',
    stem: { type: 'small_attention' },
    spatial: 'attention',
    ...demo,
  });
  m.set('sasa_resnet26_convstem_demo', {
    name: 'sasa_resnet26_convstem_demo',
    stem: { type: 'small_conv' },
    spatial: 'attention',
    ...demo,
  });
  m.set('resnet26_demo', { name: 'resnet26_demo', stem: { type: 'small_conv' }, spatial: 'conv', ...demo });
  return m;
}

const MODELS = registry();

/** The nine models of the paper's main table (SASA.md §6.1). */
export const PAPER_MODELS = [...MODELS.keys()].filter((n) => !n.endsWith('_demo'));

/** Names of the registered models matching `pattern` ('*' wildcards; no pattern: all). */
export function listModels(pattern?: string): string[] {
  const names = [...MODELS.keys()];
  if (!pattern) return names;
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 'i');
  return names.filter((n) => re.test(n));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** Merges overrides into a configuration; `stem` and `attention` are merged field by field. */
export function mergeConfig(base: ModelConfig, overrides: Partial<ModelConfig> = {}): ModelConfig {
  return {
    ...base,
    ...overrides,
    stem: { ...base.stem, ...overrides.stem },
    attention: { ...base.attention, ...overrides.attention },
  };
}

/** The configuration of a registered model with overrides applied; unknown names list the known ones. */
export function modelConfig(name: string, overrides: Partial<ModelConfig> = {}): ModelConfig {
  const base = MODELS.get(name);
  if (!base) throw new Error(`unknown model '${name}'; known models: ${listModels().join(', ')}`);
  return mergeConfig(base, overrides);
}

/** Builds a registered model, e.g. createModel('sasa_resnet26', { classes: 10, inputSize: 32 }). */
export function createModel(
  name: string,
  overrides: Partial<ModelConfig> = {},
  options: BuildOptions = {},
): tf.LayersModel {
  return buildModel(modelConfig(name, overrides), options);
}
