/** Names of the kernels sasa adds to TensorFlow.js (ops/ defines the public functions). */
export const BATCH_NORM_TRAIN = 'SasaBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'SasaBatchNormTrainGrad';
export const RELU_GRAD = 'SasaReluGrad';
/** Inputs q, k, v, relRow, relCol (unused ones as empty [0] tensors) → [y, lse]. */
export const LOCAL_ATTENTION = 'SasaLocalAttention';
/** Inputs dy, q, k, v, relRow, relCol, lse → [dq, dk, dv, dRelRow, dRelCol]. */
export const LOCAL_ATTENTION_GRAD = 'SasaLocalAttentionGrad';

/**
 * Attributes of the local attention kernels: the op's options with the scale resolved.
 * The index signature lets them travel as tfjs NamedAttrMap.
 */
export interface LocalAttentionAttrs {
  kernelSize: number;
  heads: number;
  scale: number;
  padding: 'zeros' | 'masked';
  logits: 'qk+qr' | 'qr' | 'qk';
  [key: string]: number | string;
}
/** Inputs w, v, g; attrs lr, momentum, weightDecay, nesterov → [w', v'] (ops/sgd_update.ts). */
export const SGD_UPDATE = 'SasaSgdUpdate';
