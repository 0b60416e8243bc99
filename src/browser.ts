/**
 * sasa in a web page: what the page imports, none of it reaching Node's modules or the native addon.
 * Importing this file registers sasa's layer classes with tfjs-layers (as every layer module does), so
 * that saved models load.
 */
import { fetchModelFiles } from './io/model_fetch.js';
import { type TrainedModel, trainedModelOf } from './tasks/classification/model_metadata.js';
import './layers/attention_stem.js';
import './layers/batch_norm.js';
import './layers/conv2d.js';
import './layers/local_self_attention.js';

export {
  type AttentionLayerInfo,
  type AttentionMap,
  attentionLayers,
  attentionMap,
  checkPixel,
} from './tasks/classification/attention_map.js';
export { modelInput, type Normalization, type RankedClass, topClasses } from './tasks/classification/model_input.js';
export type { TrainedModel } from './tasks/classification/model_metadata.js';
export * as tf from './tf.js';

/** A model written by sasa train, from the folder at the URL `base` (model.json + weights.bin), checked. */
export async function fetchTrainedModel(base: string): Promise<TrainedModel> {
  const { model, metadata, files } = await fetchModelFiles(base);
  return trainedModelOf({ dir: base, ...files }, model, metadata);
}
