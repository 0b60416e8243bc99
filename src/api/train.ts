/**
 * `sasa/train`: training classifiers. SgdOptimizer (a tf.Optimizer for model.compile + model.fit), the
 * loss, the training step and loop sasa's CLI runs (train), evaluation, checkpoints, schedules, and the
 * optimizers with checkpointed state (Sgd, AdamW: StatefulOptimizer).
 * @module sasa/train
 */

export {
  type AttentionLayerInfo,
  type AttentionMap,
  attentionLayers,
  attentionMap,
} from '../tasks/classification/attention_map.js';
export { type Checkpoint, readCheckpoint, type TrainState } from '../tasks/classification/checkpoint.js';
export { WeightAverage } from '../tasks/classification/ema.js';
export { evaluate, evaluateBatches, type Metrics, MetricsAccumulator } from '../tasks/classification/evaluate.js';
export { smoothedCrossEntropy } from '../tasks/classification/loss.js';
export { Sgd } from '../tasks/classification/sgd.js';
export { makeTrainStep, type StepOptions, type TrainStep } from '../tasks/classification/step.js';
export {
  type ClassificationCallback,
  type EpochLogs,
  type StepLogs,
  type TrainBeginLogs,
  type TrainOptions,
  type TrainResult,
  type TrainRun,
  train,
} from '../tasks/classification/trainer.js';
export { AdamW, type AdamWOptions } from '../tasks/training/adamw.js';
export { CallbackList, type TrainingCallback } from '../tasks/training/callbacks.js';
export { DivergedError } from '../tasks/training/nan_stop.js';
export type { StatefulOptimizer } from '../tasks/training/optimizer_state.js';
export type { OptionChange } from '../tasks/training/resume_options.js';
export { learningRate, type Schedule } from '../tasks/training/schedule.js';
export {
  SGD_OPTIMIZER_DEFAULTS,
  SgdOptimizer,
  type SgdOptimizerOptions,
} from '../tasks/training/sgd_optimizer.js';
