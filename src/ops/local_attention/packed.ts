/**
 * localAttention2dPacked: localAttention2d with q, k and v packed along the channels in one tensor,
 * as one product x·[W_Q | W_K | W_V] gives them:
 *   qkv [B, H, W, 3C] = q|k|v (or [B, H, W, 2C] = q|v when logits is 'qr'); relRow, relCol
 *   [k, C/2] or null → y [B, H, W, C], the same as localAttention2d(q, k, v, relRow, relCol).
 * The native backend's kernels read q, k, v as strided views of qkv and write the gradient as one
 * packed dqkv, so a layer needs one projection product each way instead of three (and no sum of
 * three input gradients). Elsewhere the kernels are composed (composed_kernels.ts): tf.split, the
 * SasaLocalAttention kernels, and tf.concat of dq, dk, dv.
 * localAttention2dPackedPooled: the same y 2×2-average-pooled with stride 2 (H, W even) → [B, H/2, W/2, C],
 * differentiable: a stride-2 attention layer in training; the native kernels pool as they write y and read the
 * pooled dy as they lay it out, so the full-size y and its gradient never reach memory. Elsewhere composed:
 * the packed kernels, avgPool, and dy spread over the pooled pixels × 1/4.
 * localAttention2dPackedInference: the same y at inference, + a bias per channel and a ReLU (a batch norm
 * folded into W_V, models/folded_inference.ts), in one native kernel that keeps nothing for a gradient.
 */
import * as tf from '../../tf.js';
import { avgPool } from '../avg_pool.js';
import { type ComposedKernel, ensureKernels, tensorInput } from '../composed_kernels.js';
import {
  LOCAL_ATTENTION,
  LOCAL_ATTENTION_GRAD,
  LOCAL_ATTENTION_PACKED,
  LOCAL_ATTENTION_PACKED_GRAD,
  LOCAL_ATTENTION_PACKED_INFERENCE,
  LOCAL_ATTENTION_PACKED_POOLED,
  LOCAL_ATTENTION_PACKED_POOLED_GRAD,
  type LocalAttentionAttrs,
} from '../kernel_names.js';
import { attentionAttrs, ensureLocalAttentionKernels } from './op.js';
import { ATTENTION_DEFAULTS, type LocalAttentionOptions, resolveGeometry } from './options.js';

const OP = 'localAttention2dPacked';

/** qkv [B, H, W, P·C] split into q, k, v (k an empty [0] tensor for logits 'qr'). */
function unpack(qkv: tf.Tensor, attrs: LocalAttentionAttrs): Record<'q' | 'k' | 'v', tf.Tensor> {
  const parts = attrs.logits === 'qr' ? 2 : 3;
  const split = tf.split(qkv, parts, 3);
  return parts === 3 ? { q: split[0], k: split[1], v: split[2] } : { q: split[0], k: tf.zeros([0]), v: split[1] };
}

/** Inputs qkv, relRow, relCol → [y, lse]: the SasaLocalAttention kernel on the split q, k, v. */
const composedForward: tf.KernelFunc = ({ inputs, attrs }) => {
  const [qkv, relRow, relCol] = ['qkv', 'relRow', 'relCol'].map((n) => tensorInput(inputs, n));
  const a = attrs as unknown as LocalAttentionAttrs;
  ensureLocalAttentionKernels();
  return tf.tidy(() => tf.engine().runKernel(LOCAL_ATTENTION, { ...unpack(qkv, a), relRow, relCol }, a) as tf.Tensor[]);
};

/** Inputs dy, qkv, relRow, relCol, lse → [dqkv, dRelRow, dRelCol]: SasaLocalAttentionGrad, dq|dk|dv concatenated. */
const composedBackward: tf.KernelFunc = ({ inputs, attrs }) => {
  const [dy, qkv, relRow, relCol, lse] = ['dy', 'qkv', 'relRow', 'relCol', 'lse'].map((n) => tensorInput(inputs, n));
  const a = attrs as unknown as LocalAttentionAttrs;
  ensureLocalAttentionKernels();
  return tf.tidy(() => {
    const grads = tf
      .engine()
      .runKernel(LOCAL_ATTENTION_GRAD, { dy, ...unpack(qkv, a), relRow, relCol, lse }, a) as tf.Tensor[];
    const [dq, dk, dv, dRelRow, dRelCol] = grads;
    const dqkv = tf.concat(a.logits === 'qr' ? [dq, dv] : [dq, dk, dv], 3);
    return [dqkv, dRelRow, dRelCol];
  });
};

/** Inputs qkv, relRow, relCol → [y 2×2-average-pooled, lse]: SasaLocalAttentionPacked, then avgPool. */
const composedPooledForward: tf.KernelFunc = ({ inputs, attrs }) => {
  const [qkv, relRow, relCol] = ['qkv', 'relRow', 'relCol'].map((n) => tensorInput(inputs, n));
  return tf.tidy(() => {
    const [y, lse] = tf.engine().runKernel(LOCAL_ATTENTION_PACKED, { qkv, relRow, relCol }, attrs) as tf.Tensor[];
    return [avgPool(y as tf.Tensor4D, 2, 2, 'same'), lse];
  });
};

/**
 * Inputs dy [B,H/2,W/2,C], qkv, relRow, relCol, lse → [dqkv, dRelRow, dRelCol]: dy × 1/4 at each of the four
 * pixels it averaged (the pool's gradient), then SasaLocalAttentionPackedGrad.
 */
const composedPooledBackward: tf.KernelFunc = ({ inputs, attrs }) => {
  const [dy, qkv, relRow, relCol, lse] = ['dy', 'qkv', 'relRow', 'relCol', 'lse'].map((n) => tensorInput(inputs, n));
  return tf.tidy(() => {
    const [b, ho, wo, c] = dy.shape;
    const spread = tf.tile(tf.reshape(tf.mul(dy, 0.25), [b, ho, 1, wo, 1, c]), [1, 1, 2, 1, 2, 1]);
    const dyFull = tf.reshape(spread, [b, 2 * ho, 2 * wo, c]);
    return tf
      .engine()
      .runKernel(LOCAL_ATTENTION_PACKED_GRAD, { dy: dyFull, qkv, relRow, relCol, lse }, attrs) as tf.Tensor[];
  });
};

/**
 * Inputs qkv, relRow, relCol, bias → the packed forward's y (2×2-average-pooled with attrs.pool) + bias, then
 * max(·, 0) with attrs.relu, composed.
 */
const composedInference: tf.KernelFunc = ({ inputs, attrs }) => {
  const [qkv, relRow, relCol, bias] = ['qkv', 'relRow', 'relCol', 'bias'].map((n) => tensorInput(inputs, n));
  const { relu, pool, ...a } = attrs as unknown as LocalAttentionAttrs & { relu: boolean; pool: boolean };
  return tf.tidy(() => {
    const [y] = tf.engine().runKernel(LOCAL_ATTENTION_PACKED, { qkv, relRow, relCol }, a) as tf.Tensor[];
    const pooled = pool ? avgPool(y as tf.Tensor4D, 2, 2, 'same') : y;
    const shifted = bias.size > 0 ? tf.add(pooled, bias) : pooled;
    return relu ? tf.relu(shifted) : shifted;
  });
};

const KERNELS: readonly ComposedKernel[] = [
  { kernelName: LOCAL_ATTENTION_PACKED, kernelFunc: composedForward },
  { kernelName: LOCAL_ATTENTION_PACKED_GRAD, kernelFunc: composedBackward },
  { kernelName: LOCAL_ATTENTION_PACKED_INFERENCE, kernelFunc: composedInference },
  { kernelName: LOCAL_ATTENTION_PACKED_POOLED, kernelFunc: composedPooledForward },
  { kernelName: LOCAL_ATTENTION_PACKED_POOLED_GRAD, kernelFunc: composedPooledBackward },
];

/** The gradient of a packed forward kernel (pooled or not) through its gradient kernel `gradName`. */
function registerPackedGradient(kernelName: string, gradName: string): void {
  tf.registerGradient({
    kernelName,
    inputsToSave: ['qkv', 'relRow', 'relCol'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const [dy] = dys as tf.Tensor[];
      const [qkv, relRow, relCol, lse] = saved;
      const grads = tf
        .engine()
        .runKernel(gradName, { dy, qkv, relRow, relCol, lse }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      return { qkv: () => grads[0], relRow: () => grads[1], relCol: () => grads[2] };
    },
  });
}
registerPackedGradient(LOCAL_ATTENTION_PACKED, LOCAL_ATTENTION_PACKED_GRAD);
registerPackedGradient(LOCAL_ATTENTION_PACKED_POOLED, LOCAL_ATTENTION_PACKED_POOLED_GRAD);

/**
 * What inference does to the attention's output y [B, H, W, C]: relu?(pool?(y) + bias), bias [C] (null: none),
 * pool the 2×2 average with stride 2 (H and W even).
 */
export interface AttentionEpilogue {
  bias: tf.Tensor1D | null;
  relu: boolean;
  pool?: boolean;
}

/** Local self-attention on packed q|k|v (see the file comment); y [B, H, W, C]. */
export function localAttention2dPacked(
  qkv: tf.Tensor4D,
  relRow: tf.Tensor2D | null,
  relCol: tf.Tensor2D | null,
  options: LocalAttentionOptions,
): tf.Tensor4D {
  return packedCall(qkv, relRow, relCol, options, null);
}

/**
 * localAttention2dPacked followed by the 2×2 average pool with stride 2, differentiable (see the file comment):
 * qkv [B, H, W, P·C] (H, W even) → [B, H/2, W/2, C].
 */
export function localAttention2dPackedPooled(
  qkv: tf.Tensor4D,
  relRow: tf.Tensor2D | null,
  relCol: tf.Tensor2D | null,
  options: LocalAttentionOptions,
): tf.Tensor4D {
  return packedCall(qkv, relRow, relCol, options, 'pooled');
}

/**
 * localAttention2dPacked at inference: relu?(pool?(y) + bias) (bias [C]; pool: 2×2 average, stride 2, H and W
 * even → [B, H/2, W/2, C]), with nothing kept for a gradient (the native kernel writes no lse and pools, adds the
 * bias and applies the ReLU as it writes y). Not differentiable.
 */
export function localAttention2dPackedInference(
  qkv: tf.Tensor4D,
  relRow: tf.Tensor2D | null,
  relCol: tf.Tensor2D | null,
  options: LocalAttentionOptions,
  epilogue: AttentionEpilogue,
): tf.Tensor4D {
  return packedCall(qkv, relRow, relCol, options, epilogue);
}

/** The packed forward (epilogue null), its pooled form ('pooled') or the inference kernel, after the shapes are checked. */
function packedCall(
  qkv: tf.Tensor4D,
  relRow: tf.Tensor2D | null,
  relCol: tf.Tensor2D | null,
  options: LocalAttentionOptions,
  epilogue: AttentionEpilogue | 'pooled' | null,
): tf.Tensor4D {
  if (!(qkv instanceof tf.Tensor)) throw new Error(`${OP}: qkv must be a tf.Tensor, got ${typeof qkv}`);
  if (qkv.dtype !== 'float32') throw new Error(`${OP}: qkv must be float32, got ${qkv.dtype}`);
  const logits = options.logits ?? ATTENTION_DEFAULTS.logits;
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
  const attrs = attentionAttrs(g);
  ensureKernels(KERNELS);
  const inference = epilogue === 'pooled' ? null : epilogue;
  const bias = inference?.bias;
  if (bias && (bias.rank !== 1 || bias.shape[0] !== shape[3])) {
    throw new Error(`${OP}: bias must be [${shape[3]}], got [${bias.shape.join(',')}]`);
  }
  const pool = inference?.pool === true || epilogue === 'pooled';
  if (pool && (h % 2 !== 0 || w % 2 !== 0))
    throw new Error(`${OP}: pool needs an even height and width, got ${h}×${w}`);
  return tf.tidy(() => {
    const empty = () => tf.zeros([0]);
    const inputs = { qkv, relRow: g.useQR && relRow ? relRow : empty(), relCol: g.useQR && relCol ? relCol : empty() };
    if (inference) {
      const infer = { ...inputs, bias: bias ?? empty() };
      return tf
        .engine()
        .runKernel(LOCAL_ATTENTION_PACKED_INFERENCE, infer, { ...attrs, relu: inference.relu, pool }) as tf.Tensor4D;
    }
    const kernel = pool ? LOCAL_ATTENTION_PACKED_POOLED : LOCAL_ATTENTION_PACKED;
    const [y] = tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor[];
    return y as tf.Tensor4D;
  });
}
