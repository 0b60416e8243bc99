/**
 * Names and attributes of the kernels sasa adds to TensorFlow.js (as tfjs-core's kernel_names.ts):
 * the ops here call them, backend/ registers native kernels under them.
 */
import type { LogitsMode, PaddingMode } from './local_attention/options.js';

/** Input x; tfjs's AvgPool attributes → y (ops/avg_pool.ts: AvgPool with the exact gradient at cut windows). */
export const AVG_POOL = 'SasaAvgPool';
/** Inputs dy, input; tfjs's AvgPool attributes → dx. */
export const AVG_POOL_GRAD = 'SasaAvgPoolGrad';
export const BATCH_NORM_TRAIN = 'SasaBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'SasaBatchNormTrainGrad';
/** Inputs x, residual, gamma, beta; attrs epsilon, relu → [y = relu?(BN(x) + residual), mean, variance]. */
export const BATCH_NORM_ADD_TRAIN = 'SasaBatchNormAddTrain';
/** Inputs dy, y, x, mean, variance, gamma, beta; attrs epsilon, relu → [dx, dgamma, dbeta, dresidual]. */
export const BATCH_NORM_ADD_TRAIN_GRAD = 'SasaBatchNormAddTrainGrad';
/** Inputs x [N,H,W,C], gamma, beta; attr epsilon → [y [N,1,1,C] (max over H·W of the batch norm), mean, variance, argmax (int32 [N,C])]. */
export const BATCH_NORM_BLOCK_MAX = 'SasaBatchNormBlockMax';
/** Inputs dy [N,1,1,C], x, argmax, mean, variance, gamma; attr epsilon → [dx, dgamma, dbeta]. */
export const BATCH_NORM_BLOCK_MAX_GRAD = 'SasaBatchNormBlockMaxGrad';
export const RELU_GRAD = 'SasaReluGrad';
/** Inputs q, k, v, relRow, relCol (unused ones as empty [0] tensors) → [y, lse]. */
export const LOCAL_ATTENTION = 'SasaLocalAttention';
/** Inputs dy, q, k, v, relRow, relCol, lse → [dq, dk, dv, dRelRow, dRelCol]. */
export const LOCAL_ATTENTION_GRAD = 'SasaLocalAttentionGrad';
/**
 * Inputs q, k, relRow, relCol (unused ones as empty [0] tensors), pixels (int32 [P, 3]: batch, row, column);
 * the local attention's attributes → weights [P, heads, k, k]: the softmax of the chosen pixels (inference only).
 */
export const LOCAL_ATTENTION_WEIGHTS = 'SasaLocalAttentionWeights';
/** Input qkv [B,H,W,P·C] (q|k|v, or q|v for logits 'qr'), relRow, relCol → [y, lse] (ops/local_attention/packed.ts). */
export const LOCAL_ATTENTION_PACKED = 'SasaLocalAttentionPacked';
/** Inputs dy, qkv, relRow, relCol, lse → [dqkv, dRelRow, dRelCol]. */
export const LOCAL_ATTENTION_PACKED_GRAD = 'SasaLocalAttentionPackedGrad';
/**
 * SasaLocalAttentionPacked followed by the 2×2 average pool with stride 2 (H, W even), in training: input qkv
 * [B,H,W,P·C], relRow, relCol → [y [B,H/2,W/2,C], lse [B,H,W,N]] (ops/local_attention/packed.ts).
 */
export const LOCAL_ATTENTION_PACKED_POOLED = 'SasaLocalAttentionPackedPooled';
/** Inputs dy [B,H/2,W/2,C], qkv, relRow, relCol, lse → [dqkv, dRelRow, dRelCol]. */
export const LOCAL_ATTENTION_PACKED_POOLED_GRAD = 'SasaLocalAttentionPackedPooledGrad';
/**
 * Inference on packed q|k|v without lse: inputs qkv, relRow, relCol, bias ([C] or empty) → y + bias, y first
 * 2×2-average-pooled when attrs.pool (H, W even), with max(·, 0) when attrs.relu (a batch norm folded into W_V
 * and its ReLU).
 */
export const LOCAL_ATTENTION_PACKED_INFERENCE = 'SasaLocalAttentionPackedInference';

/**
 * Attributes of the local attention kernels: the op's options with the scale resolved.
 * The index signature lets them travel as tfjs NamedAttrMap.
 */
export interface LocalAttentionAttrs {
  kernelSize: number;
  heads: number;
  scale: number;
  padding: PaddingMode;
  logits: LogitsMode;
  [key: string]: number | string;
}
/** Inputs x, wq, wk, wv, relRow, relCol (empty [0] without relative logits) → [y, lse] (ops/attention_stem.ts). */
export const STEM_ATTENTION = 'SasaStemAttention';
/** Inputs dy, x, wq, wk, wv, relRow, relCol, lse → [dx ([0] unless inputGradient), dwq, dwk, dwv, dRelRow, dRelCol]. */
export const STEM_ATTENTION_GRAD = 'SasaStemAttentionGrad';

/**
 * Inputs x, wq, wk, wv, relRow, relCol, gamma, beta → [y [n,1,1,F], mean [F], variance [F], extreme [n,F],
 * argmax (int32 [n,F]), lse]: the stem's attention, its training batch norm and the max over each block
 * (ops/attention_stem_block_max.ts); attrs StemAttentionAttrs and epsilon.
 */
export const STEM_ATTENTION_BLOCK_MAX = 'SasaStemAttentionBlockMax';
/**
 * Inputs dy, dMean, dVariance, x, wq, wk, wv, relRow, relCol, lse, extreme, argmax, mean, variance, gamma →
 * [dx ([0] unless inputGradient), dwq, dwk, dwv, dRelRow, dRelCol, dgamma, dbeta].
 */
export const STEM_ATTENTION_BLOCK_MAX_GRAD = 'SasaStemAttentionBlockMaxGrad';

/** Attributes of the stem attention kernels (inputGradient: 1 to compute dx, for the gradient kernel). */
export interface StemAttentionAttrs {
  heads: number;
  scale: number;
  relative: number;
  inputGradient: number;
  [key: string]: number;
}
/** Inputs w, v, g; attrs lr, momentum, weightDecay, nesterov → [w', v'] (ops/sgd_update.ts). */
export const SGD_UPDATE = 'SasaSgdUpdate';
/**
 * Inputs x [B,H,W,C], filter [k,k,C,F], bias [F], residual [B,OH,OW,F]; attr strides ('same' padding) →
 * y = max(0, conv(x, filter) + bias + residual) (ops/conv_residual.ts; inference only).
 */
export const CONV_RESIDUAL_RELU = 'SasaConvResidualRelu';
/**
 * Inputs movingMean, movingVariance, mean, variance (one shape); attrs decay, unbiased →
 * [movingMean', movingVariance'] (ops/moving_stats.ts).
 */
export const MOVING_STATS = 'SasaMovingStats';

/** Attributes of SasaMovingStats: the decay and the variance's factor (Bessel's correction: n / (n − 1)). */
export interface MovingStatsAttrs {
  decay: number;
  unbiased: number;
  [key: string]: number;
}
