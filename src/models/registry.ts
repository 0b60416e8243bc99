/**
 * Named models (SASA.md §3): for depth 26, 38 and 50,
 *   resnet{D}                 baseline: conv stem, 3×3 convolutions
 *   sasa_resnet{D}_convstem   conv stem, every spatial convolution replaced by attention (k 7, 8 heads)
 *   sasa_resnet{D}            full attention: attention stem (spatially-aware values) and attention blocks
 * and the demo pair for 28×28 grey images with 10 classes (`sasa demo`): sasa_resnet26_demo (width
 * ×0.25, one block per group, the small attention stem, 4 heads of k 7) and its convolutional twin
 * resnet26_demo (same widths and depth, 3×3 convolutions, the small conv stem); and between them
 * sasa_resnet26_convstem_demo (attention blocks, the small conv stem: the paper's conv-stem form).
 * createModel(name, overrides) builds one (with `weights`: and loads them, pretrained.ts); listModels(pattern)
 * lists the names, glob patterns as timm's list_models takes them.
 */
import type * as tf from '../tf.js';
import { type BuildOptions, buildModel } from './builder.js';
import type { ModelConfig } from './config.js';
import { loadWeights } from './pretrained.js';

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

/** What listModels leaves out. */
export interface ListModelsOptions {
  /** Glob pattern(s) of names to leave out (timm's `exclude_filters`). */
  exclude?: string | readonly string[];
}

/**
 * Names of the registered models matching `pattern` (one glob or several: any one matches; none: all),
 * less those matching `options.exclude`, in registry order. Globs as timm's list_models (fnmatch):
 * `*` any run of characters, `?` one character, `[abc]` / `[!abc]` a set or its complement; case is ignored.
 * @example listModels('sasa_*', { exclude: '*_demo' })  // the six full-size attention models
 */
export function listModels(pattern?: string | readonly string[], options: ListModelsOptions = {}): string[] {
  const include = globs(pattern ?? [], 'pattern');
  const exclude = globs(options.exclude ?? [], 'exclude');
  return [...MODELS.keys()].filter(
    (n) => (include.length === 0 || include.some((re) => re.test(n))) && !exclude.some((re) => re.test(n)),
  );
}

function globs(patterns: string | readonly string[], option: string): RegExp[] {
  const list = typeof patterns === 'string' ? [patterns] : patterns;
  if (!Array.isArray(list) || !list.every((p) => typeof p === 'string')) {
    throw new Error(`listModels: ${option} must be a glob string or a list of them, got ${JSON.stringify(patterns)}`);
  }
  return list.filter((p) => p !== '').map(globRegExp);
}

/** fnmatch's translation of a glob into an anchored, case-insensitive RegExp. */
export function globRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    const close = c === '[' ? glob.indexOf(']', i + 2) : -1;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (close > 0) {
      const set = glob.slice(i + 1, close).replace(/\\/g, '\\\\');
      source += set.startsWith('!') ? `[^${set.slice(1)}]` : `[${set}]`;
      i = close;
    } else source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'i');
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

/** createModel's second argument: configuration overrides, and optionally where to load the weights from. */
export type ModelOverrides = Partial<ModelConfig> & {
  /** A `.safetensors` file (PyTorch names) or a TensorFlow.js model directory / model.json (pretrained.ts). */
  weights?: string;
};

/**
 * Builds a registered model, input [B, H, W, C_in] → logits [B, classes], e.g.
 * `createModel('sasa_resnet26', { classes: 10, inputSize: 32 })`. With `weights` (a path), loads them
 * into the built network strictly, as timm's `pretrained` hook does, and resolves to the model.
 */
export function createModel(
  name: string,
  overrides: ModelOverrides & { weights: string },
  options?: BuildOptions,
): Promise<tf.LayersModel>;
export function createModel(
  name: string,
  overrides?: Partial<ModelConfig> & { weights?: undefined },
  options?: BuildOptions,
): tf.LayersModel;
export function createModel(
  name: string,
  overrides: ModelOverrides = {},
  options: BuildOptions = {},
): tf.LayersModel | Promise<tf.LayersModel> {
  const { weights, ...config } = overrides;
  const model = buildModel(modelConfig(name, config), options);
  if (weights === undefined) return model;
  return loadWeights(model, weights).then(
    () => model,
    (err: Error) => {
      model.dispose();
      throw err;
    },
  );
}
