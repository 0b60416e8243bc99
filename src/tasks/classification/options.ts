/**
 * A classification run's options, their checks, and what `--resume` does with each (README,
 * "Resuming"): the optimisation settings apply from the resume on; the model, the data split, the
 * seed, the batch size, the augmentation and the weight average are the run's identity and refused.
 */
import { type ModelConfig, resolveConfig } from '../../models/config.js';
import { firstDifference } from '../training/json_difference.js';
import type { OptionRule, ResumeComparison } from '../training/resume_options.js';
import { SGD_RUN_RESUME_RULES, type SgdRunOptions } from '../training/run_options.js';

/**
 * A classification run's options (SASA.md §5), all required (the CLI's defaults are in cli/train.ts): the
 * shared SGD options (augment: pad-and-crop + flips) and classification's own. The checks, and which
 * options a resume may change, are in this file.
 */
export interface TrainOptions extends SgdRunOptions {
  model: ModelConfig;
  labelSmoothing: number;
  /** 0 turns the weight average off. */
  emaDecay: number;
  /** Fraction of the training set held out for validation (the paper: 4 %). */
  validationFraction: number;
}

export function checkOptions(o: TrainOptions): void {
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  };
  positive('epochs', o.epochs);
  positive('batch size', o.batchSize);
  positive('checkpoint interval', o.checkpointEvery);
  if (!(o.validationFraction >= 0 && o.validationFraction < 1)) {
    throw new Error(`validation fraction must be in [0, 1), got ${o.validationFraction}`);
  }
  if (!(o.warmupEpochs >= 0 && o.warmupEpochs <= o.epochs)) {
    throw new Error(`warm-up epochs must be from 0 to the epochs (${o.epochs}), got ${o.warmupEpochs}`);
  }
}

/** Per option: its flag, and whether `--resume` applies a new value or refuses it. */
export const RESUME_RULES: Record<keyof TrainOptions, OptionRule> = {
  model: { flag: '--model', rule: 'refuse' },
  ...SGD_RUN_RESUME_RULES,
  labelSmoothing: { flag: '--label-smoothing', rule: 'apply' },
  emaDecay: { flag: '--ema-decay', rule: 'refuse' },
  validationFraction: { flag: '--validation', rule: 'refuse' },
};

/** A model as compared: resolved (defaults filled in, so {k: 7} equals {}), without its display name and source. */
export function comparableModel(m: ModelConfig): unknown {
  const { source: _source, name: _name, ...model } = resolveConfig(m);
  return JSON.parse(JSON.stringify(model));
}

const modelName = (m: ModelConfig) => `'${m.name ?? 'unnamed'}'`;

/** Models compare resolved; a refused model is named with both names and its first difference. */
export const OPTION_COMPARISON: ResumeComparison<TrainOptions> = {
  same(key, a, b) {
    if (key === 'model')
      return firstDifference(comparableModel(a as ModelConfig), comparableModel(b as ModelConfig)) === null;
    return JSON.stringify(a) === JSON.stringify(b);
  },
  describe(key, a, b) {
    if (key !== 'model') return `the run has ${JSON.stringify(a)}, asked ${JSON.stringify(b)}`;
    const [stored, asked] = [a as ModelConfig, b as ModelConfig];
    const path = firstDifference(comparableModel(stored), comparableModel(asked)) as string;
    const at = (m: ModelConfig) =>
      JSON.stringify(
        path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], comparableModel(m)),
      );
    return `the run trains ${modelName(stored)}, asked ${modelName(asked)}; first difference: ${path} ${at(stored)} → ${at(asked)}`;
  },
};
