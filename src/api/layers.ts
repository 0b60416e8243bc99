/**
 * `sasa/layers`: tfjs-layers layers (serialisable, so saved models reload): LocalSelfAttention2D, the
 * attention stem, sasa's batch norm and Conv2D, and the 2-D sinusoidal positional encoding.
 * @module sasa/layers
 */
export {
  AttentionStem,
  type AttentionStemArgs,
  type AttentionStemOptions,
  type ResolvedStemOptions,
  STEM_VALUES,
  type StemValues,
} from '../layers/attention_stem.js';
export { BatchNorm, type BatchNormArgs, type BatchNormOptions } from '../layers/batch_norm.js';
export { Conv2D, type Conv2DArgs } from '../layers/conv2d.js';
export {
  LocalSelfAttention2D,
  type LocalSelfAttention2DArgs,
  localSelfAttention2d,
  type ValueFold,
} from '../layers/local_self_attention.js';
export { sinusoidalEncoding2d } from '../layers/positional_encoding.js';
