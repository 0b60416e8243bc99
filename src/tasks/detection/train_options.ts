/**
 * A detector training run's options, their defaults and checks, and what `--resume` does with each: the
 * optimisation settings apply from the resume on; the detector, the input size, the seed, the batch size,
 * the augmentation and the backbone weights it started from are the run's identity and refused.
 */
import type { DetectorConfig } from '../../models/detection/config.js';
import { INPUT_MULTIPLE } from '../../models/detection/config.js';
import type { OptionRule } from '../training/resume_options.js';
import { SGD_RUN_RESUME_RULES, type SgdRunOptions } from '../training/run_options.js';

/** The update rule: SGD with momentum (torchvision's detection recipe) or AdamW (training/adamw.ts). */
export type DetectionOptimizer = 'sgd' | 'adamw';
export const DETECTION_OPTIMIZERS: readonly DetectionOptimizer[] = ['sgd', 'adamw'];

/** The shared SGD options (augment: random horizontal flips), and detection's own. */
export interface DetectorTrainOptions extends SgdRunOptions {
  /** The network (its classes set to the data's). */
  detector: DetectorConfig;
  /** 'sgd' (momentum: `momentum`) or 'adamw' (β 0.9, 0.999, ε 1e-8; `momentum` unused). */
  optimizer: DetectionOptimizer;
  /** Largest global gradient norm (0: no clipping). */
  clipNorm: number;
  /** Images resized to this longer side and padded to size × size; a multiple of 128. */
  size: number;
  /** A trained classification model folder whose weights start the backbone; null: random. */
  backboneWeights: string | null;
}

/** Defaults of everything but the detector and the size (the detector's input size). */
export const DETECTOR_TRAIN_DEFAULTS: Omit<DetectorTrainOptions, 'detector' | 'size'> = Object.freeze({
  epochs: 12,
  optimizer: 'sgd',
  batchSize: 8,
  lr: 0.01,
  warmupEpochs: 1,
  momentum: 0.9,
  weightDecay: 1e-4,
  clipNorm: 10,
  seed: 0,
  checkpointEvery: 100,
  augment: true,
  backboneWeights: null,
});

/** Throws, naming the option's flag, for a value out of range. */
export function checkDetectorTrainOptions(o: DetectorTrainOptions): void {
  const positiveInt = (flag: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer, got ${v}`);
  };
  positiveInt('--epochs', o.epochs);
  positiveInt('--batch-size', o.batchSize);
  positiveInt('--checkpoint-every', o.checkpointEvery);
  positiveInt('--size', o.size);
  if (o.size % INPUT_MULTIPLE !== 0) {
    throw new Error(`--size must be a multiple of ${INPUT_MULTIPLE} (the stride of P7), got ${o.size}`);
  }
  if (!DETECTION_OPTIMIZERS.includes(o.optimizer)) {
    throw new Error(`--optimizer must be one of ${DETECTION_OPTIMIZERS.join(', ')}, got ${String(o.optimizer)}`);
  }
  if (!(o.lr > 0 && Number.isFinite(o.lr))) throw new Error(`--lr must be a positive number, got ${o.lr}`);
  if (!(o.warmupEpochs >= 0 && o.warmupEpochs <= o.epochs)) {
    throw new Error(`--warmup-epochs must be from 0 to the epochs (${o.epochs}), got ${o.warmupEpochs}`);
  }
  if (!(o.momentum >= 0 && o.momentum < 1)) throw new Error(`--momentum must be in [0, 1), got ${o.momentum}`);
  if (!(o.weightDecay >= 0)) throw new Error(`--weight-decay must be ≥ 0, got ${o.weightDecay}`);
  if (!(o.clipNorm >= 0)) throw new Error(`--clip-norm must be ≥ 0 (0: no clipping), got ${o.clipNorm}`);
}

/** Per option: its flag, and whether `--resume` applies a new value or refuses it. */
export const DETECTOR_RESUME_RULES: Record<keyof DetectorTrainOptions, OptionRule> = {
  detector: { flag: '--model', rule: 'refuse' },
  optimizer: { flag: '--optimizer', rule: 'refuse' },
  ...SGD_RUN_RESUME_RULES,
  clipNorm: { flag: '--clip-norm', rule: 'apply' },
  size: { flag: '--size', rule: 'refuse' },
  backboneWeights: { flag: '--backbone-weights', rule: 'refuse' },
};
