/**
 * `sasa/models`: networks as data. Named models (createModel, listModels), their configurations, the
 * builder, weights from files (loadWeights), analytic parameter and FLOP counts, the paper's studies.
 * @module sasa/models
 */
export { type BuildOptions, buildGroupOutputs, buildModel, modelConfigOf } from '../models/builder.js';
export type {
  AttentionConfig,
  ModelConfig,
  ResolvedBlock,
  ResolvedConfig,
  ResolvedStem,
  SpatialOp,
  StemConfig,
  StemType,
} from '../models/config.js';
export { resolveConfig } from '../models/config.js';
export { type ModelConv, modelConvs } from '../models/convs.js';
export { countModel, type LayerCount, type ModelCount } from '../models/count.js';
export { loadWeights } from '../models/pretrained.js';
export {
  createModel,
  type ListModelsOptions,
  listModels,
  type ModelOverrides,
  modelConfig,
} from '../models/registry.js';
export { STUDIES, type Study, type StudyEntry, studyConfigs } from '../models/studies.js';
