/**
 * The options every SGD training run has, classification's and detection's alike, with their flags and
 * what `--resume` does with each: the optimisation settings apply from the resume on; the batch size, the
 * seed and the augmentation are the run's identity and refused. Each task adds its own (the model, …).
 */
import type { OptionRule } from './resume_options.js';

export interface SgdRunOptions {
  epochs: number;
  batchSize: number;
  /** Peak learning rate (after warm-up). */
  lr: number;
  warmupEpochs: number;
  momentum: number;
  weightDecay: number;
  seed: number;
  /** Steps between checkpoints (and at every epoch end). */
  checkpointEvery: number;
  /** Random augmentation in training (the task says which). */
  augment: boolean;
}

/** Per shared option: its flag, and whether `--resume` applies a new value or refuses it. */
export const SGD_RUN_RESUME_RULES: Readonly<Record<keyof SgdRunOptions, OptionRule>> = Object.freeze({
  epochs: { flag: '--epochs', rule: 'apply' },
  batchSize: { flag: '--batch-size', rule: 'refuse' },
  lr: { flag: '--lr', rule: 'apply' },
  warmupEpochs: { flag: '--warmup-epochs', rule: 'apply' },
  momentum: { flag: '--momentum', rule: 'apply' },
  weightDecay: { flag: '--weight-decay', rule: 'apply' },
  seed: { flag: '--seed', rule: 'refuse' },
  checkpointEvery: { flag: '--checkpoint-every', rule: 'apply' },
  augment: { flag: '--no-augment', rule: 'refuse' },
});

/** The shared options' names, each its own commander attribute name too (`--batch-size` → batchSize). */
export const SGD_RUN_OPTIONS = Object.keys(SGD_RUN_RESUME_RULES) as readonly (keyof SgdRunOptions)[];

/** The shared options of `from` (e.g. a command's parsed flags), and nothing else. */
export function sgdRunOptionsOf(from: SgdRunOptions): SgdRunOptions {
  return Object.fromEntries(SGD_RUN_OPTIONS.map((k) => [k, from[k]])) as unknown as SgdRunOptions;
}
