/**
 * localAttention2dPacked: localAttention2d with q, k and v packed along the channels in one tensor,
 * as one product x·[W_Q | W_K | W_V] gives them:
 *   qkv [B, H, W, 3C] = q|k|v (or [B, H, W, 2C] = q|v when logits is 'qr'); relRow, relCol
 *   [k, C/2] or null → y [B, H, W, C], the same as localAttention2d(q, k, v, relRow, relCol).
 * The native backend's kernels read q, k, v as strided views of qkv and write the gradient as one
 * packed dqkv, so a layer needs one projection product each way instead of three (and no sum of
 * three input gradients). Elsewhere it is tf.split followed by localAttention2d.
 */
import * as tf from '@tensorflow/tfjs';
import { hasKernel } from '../../backend/gradients.js';
import {
  LOCAL_ATTENTION_PACKED,
  LOCAL_ATTENTION_PACKED_GRAD,
  type LocalAttentionAttrs,
} from '../../backend/kernel_names.js';
import { localAttention2d } from './op.js';
import { type LocalAttentionOptions, resolveGeometry } from './options.js';

const OP = 'localAttention2dPacked';

tf.registerGradient({
  kernelName: LOCAL_ATTENTION_PACKED,
  inputsToSave: ['qkv', 'relRow', 'relCol'],
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy] = dys as tf.Tensor[];
    const [qkv, relRow, relCol, lse] = saved;
    const grads = tf
      .engine()
      .runKernel(
        LOCAL_ATTENTION_PACKED_GRAD,
        { dy, qkv, relRow, relCol, lse },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
    return { qkv: () => grads[0], relRow: () => grads[1], relCol: () => grads[2] };
  },
});

/** Local self-attention on packed q|k|v (see the file comment); y [B, H, W, C]. */
export function localAttention2dPacked(
  qkv: tf.Tensor4D,
  relRow: tf.Tensor2D | null,
  relCol: tf.Tensor2D | null,
  options: LocalAttentionOptions,
): tf.Tensor4D {
  if (!(qkv instanceof tf.Tensor)) throw new Error(`${OP}: qkv must be a tf.Tensor, got ${typeof qkv}`);
  if (qkv.dtype !== 'float32') throw new Error(`${OP}: qkv must be float32, got ${qkv.dtype}`);
  const logits = options.logits ?? 'qk+qr';
  const parts = logits === 'qr' ? 2 : 3;
  if (qkv.rank !== 4 || qkv.shape[3] % parts !== 0) {
    throw new Error(
      `${OP}: qkv must be [B, H, W, ${parts}·C] (${parts === 3 ? 'q|k|v' : "q|v for logits 'qr'"}), got [${qkv.shape.join(',')}]`,
    );
  }
  const [b, h, w, packed] = qkv.shape;
  const shape = [b, h, w, packed / parts];
  const g = resolveGeometry(
    { q: shape, k: parts === 3 ? shape : null, v: shape, relRow: relRow?.shape ?? null, relCol: relCol?.shape ?? null },
    options,
  );
  if (!hasKernel(LOCAL_ATTENTION_PACKED)) {
    return tf.tidy(() => {
      const split = tf.split(qkv, parts, 3) as tf.Tensor4D[];
      const [q, k, v] = parts === 3 ? split : [split[0], null, split[1]];
      return localAttention2d(q, k, v as tf.Tensor4D, relRow, relCol, options);
    });
  }
  const attrs: LocalAttentionAttrs = {
    kernelSize: g.kernelSize,
    heads: g.heads,
    scale: g.scale,
    padding: g.masked ? 'masked' : 'zeros',
    logits,
  };
  return tf.tidy(() => {
    const empty = () => tf.zeros([0]);
    const inputs = { qkv, relRow: g.useQR && relRow ? relRow : empty(), relCol: g.useQR && relCol ? relCol : empty() };
    const [y] = tf.engine().runKernel(LOCAL_ATTENTION_PACKED, inputs, attrs) as tf.Tensor[];
    return y as tf.Tensor4D;
  });
}
