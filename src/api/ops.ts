/**
 * `sasa/ops`: sasa's tensor ops (tfjs ops with their own kernels and gradients): local self-attention,
 * the attention stem's attention (alone, or with its training batch norm and block max), training batch norm, average pooling, the fused SGD update, and
 * valueAndGrads. Each runs on any tfjs backend (composed of tfjs ops) and fused on sasa's native one.
 * @module sasa/ops
 */
export { type StemAttentionOptions, stemAttention, stemAttentionReference } from '../ops/attention_stem.js';
export { stemAttentionBlockMax } from '../ops/attention_stem_block_max.js';
export { avgPool, type Pad } from '../ops/avg_pool.js';
export {
  type BatchNormTrainResult,
  batchNormAddTrain,
  batchNormBlockMax,
  batchNormTrain,
} from '../ops/batch_norm_train.js';
export { ensureLocalAttentionKernels, localAttention2d } from '../ops/local_attention/op.js';
export {
  ATTENTION_DEFAULTS,
  type AttentionLayerOptions,
  LOGITS_MODES,
  type LocalAttentionOptions,
  type LogitsMode,
  MAX_KERNEL_SIZE,
  PADDING_MODES,
  type PaddingMode,
  POSITIONAL_ENCODINGS,
  type PositionalEncoding,
  type ResolvedAttentionOptions,
} from '../ops/local_attention/options.js';
export { localAttention2dPacked, localAttention2dPackedPooled } from '../ops/local_attention/packed.js';
export { localAttentionWeights, type QueryPixel } from '../ops/local_attention/weights.js';
export { type SgdUpdateOptions, sgdUpdate } from '../ops/sgd_update.js';
export { valueAndGrads } from '../ops/value_and_grads.js';
export { registerWebglKernels, unregisterWebglKernels, WEBGL_BACKEND } from '../ops/webgl/register.js';
