/**
 * sasa: stand-alone self-attention vision models (Ramachandran et al., NeurIPS 2019) for TensorFlow.js.
 * The root holds what a user reaches for first: the backend set-up, the named models, the optimiser
 * for `model.compile`, the embedded data. Importing it (as `sasa/node`) registers the `file://` scheme
 * for `model.save` and `tf.loadLayersModel`. The rest is by subpath: `sasa/ops`, `sasa/layers`,
 * `sasa/models`, `sasa/train`, `sasa/data`, `sasa/detection`, `sasa/node`.
 * @module sasa
 */
export { type BackendStatus, type InitOptions, initBackend } from './api/node.js';
export { type DataSpec, FASHION_MNIST_CLASSES, type LoadedData, loadData, parseDataSpec } from './data/spec.js';
export type { ModelConfig } from './models/config.js';
export {
  createModel,
  type ListModelsOptions,
  listModels,
  type ModelOverrides,
  modelConfig,
} from './models/registry.js';
export { SgdOptimizer, type SgdOptimizerOptions } from './tasks/training/sgd_optimizer.js';
