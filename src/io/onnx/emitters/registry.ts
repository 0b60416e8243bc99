/** One emitter per tfjs layer class name: a new layer class adds one entry. */
import { emitAttentionStem } from './attention_stem.js';
import { emitAdd, emitDense, emitGlobalAveragePooling2D, emitMaxPooling2D, emitRelu } from './basic.js';
import { emitBatchNorm } from './batch_norm.js';
import { emitConv2D } from './conv.js';
import type { Emitter } from './emitter.js';
import { emitLocalSelfAttention2D } from './local_attention.js';

export const EMITTERS: ReadonlyMap<string, Emitter> = new Map([
  ['SasaConv2D', emitConv2D],
  ['BatchNorm', emitBatchNorm],
  ['LocalSelfAttention2D', emitLocalSelfAttention2D],
  ['AttentionStem', emitAttentionStem],
  ['ReLU', emitRelu],
  ['Add', emitAdd],
  ['MaxPooling2D', emitMaxPooling2D],
  ['GlobalAveragePooling2D', emitGlobalAveragePooling2D],
  ['Dense', emitDense],
]);
