/**
 * stemAttention: the attention of the attention stem (SASA.md §2) on an image cut into s×s blocks,
 * projections included:
 *   x [n, s, s, d_in] (the blocks), wq, wk [d_in, F], wv [P, d_in, F] with P = 1 (one value
 *   matrix) or P = s² (one per position in the block, row-major: the spatially-aware values);
 *   relRow, relCol [2s-1, F/2], or null for no relative logits →
 *   y [n, s, s, F] = localAttention2d(x·wq, x·wk, v, relRow, relCol) with v_p = x_p·wv[p],
 *   kernelSize 2s-1 and 'masked' padding: every pixel attends to the s² pixels of its block.
 * Kernels SasaStemAttention and its gradient: the native backend runs one fused kernel each way
 * that never materialises q, k and v (3 input channels become 3 × F); elsewhere, and for blocks
 * over 100 pixels, the composed kernels below (projections, then the SasaLocalAttention kernels).
 * `stemAttentionReference` is the same composition in differentiable tfjs ops, which the tests hold
 * the kernels to. Differentiable w.r.t. all inputs; the gradient computes dx only when it is asked
 * for (a second kernel call).
 */
import * as tf from '../tf.js';
import { type ComposedKernel, ensureKernels, tensorInput } from './composed_kernels.js';
import {
  LOCAL_ATTENTION,
  LOCAL_ATTENTION_GRAD,
  type LocalAttentionAttrs,
  STEM_ATTENTION,
  STEM_ATTENTION_GRAD,
  type StemAttentionAttrs,
} from './kernel_names.js';
import { ensureLocalAttentionKernels, localAttention2d } from './local_attention/op.js';
import { resolveGeometry } from './local_attention/options.js';

/** Options of {@link stemAttention}: the heads N (F must be divisible by N) and the multiplier of q. */
export interface StemAttentionOptions {
  heads: number;
  /** Multiplier of q: a number, 'none' (1), or omitted for (F/heads)^-0.5. */
  scale?: number | 'none';
}

const OP = 'stemAttention';
const fmt = (shape: readonly number[] | null | undefined) => (shape ? `[${shape.join(',')}]` : 'none');

function fail(message: string): never {
  throw new Error(`${OP}: ${message}`);
}

/** What {@link checkStemAttentionArgs} found: the sizes, the resolved scale and whether logits are relative. */
export interface Checked {
  n: number;
  s: number;
  dIn: number;
  filters: number;
  positions: number;
  scale: number;
  relative: boolean;
}

/** Checks stemAttention's arguments (errors name the op, the argument and its shape). */
export function checkStemAttentionArgs(
  x: tf.Tensor,
  wq: tf.Tensor,
  wk: tf.Tensor,
  wv: tf.Tensor,
  relRow: tf.Tensor | null,
  relCol: tf.Tensor | null,
  options: StemAttentionOptions,
): Checked {
  const named = { x, wq, wk, wv, relRow, relCol };
  for (const [name, t] of Object.entries(named)) {
    if (t === null && (name === 'relRow' || name === 'relCol')) continue;
    if (!(t instanceof tf.Tensor)) fail(`${name} must be a tf.Tensor, got ${typeof t}`);
    if (t.dtype !== 'float32') fail(`${name} must be float32, got ${t.dtype}`);
  }
  if (x.rank !== 4 || x.shape[1] !== x.shape[2] || x.shape.some((d) => d < 1)) {
    fail(`x must be blocks [n, s, s, d_in], got ${fmt(x.shape)}`);
  }
  const [n, s, , dIn] = x.shape as [number, number, number, number];
  if (wq.rank !== 2 || wq.shape[0] !== dIn) fail(`wq must be [d_in, F] = [${dIn}, F], got ${fmt(wq.shape)}`);
  const filters = wq.shape[1] as number;
  if (!tf.util.arraysEqual(wk.shape, wq.shape)) fail(`wk ${fmt(wk.shape)} must have wq's shape ${fmt(wq.shape)}`);
  const positions = wv.shape[0] as number;
  if (wv.rank !== 3 || (positions !== 1 && positions !== s * s) || wv.shape[1] !== dIn || wv.shape[2] !== filters) {
    fail(`wv must be [1 or s² = ${s * s}, d_in, F] = [P, ${dIn}, ${filters}], got ${fmt(wv.shape)}`);
  }
  if ((relRow === null) !== (relCol === null)) fail('relRow and relCol must both be tensors or both null');
  const relative = relRow !== null;
  const g = resolveGeometry(
    {
      q: [n, s, s, filters],
      k: [n, s, s, filters],
      v: [n, s, s, filters],
      relRow: relRow?.shape ?? null,
      relCol: relCol?.shape ?? null,
    },
    { kernelSize: 2 * s - 1, heads: options.heads, scale: options.scale, logits: relative ? 'qk+qr' : 'qk' },
  );
  return { n, s, dIn, filters, positions, scale: g.scale, relative };
}

/** The op as a composition of tfjs ops and localAttention2d (the reference for the fused kernels). */
export function stemAttentionReference(
  x: tf.Tensor4D,
  wq: tf.Tensor2D,
  wk: tf.Tensor2D,
  wv: tf.Tensor3D,
  relRow: tf.Tensor2D | null,
  relCol: tf.Tensor2D | null,
  options: StemAttentionOptions,
): tf.Tensor4D {
  const c = checkStemAttentionArgs(x, wq, wk, wv, relRow, relCol, options);
  return tf.tidy(() => {
    const { q, k, v } = project(x, wq, wk, wv);
    return localAttention2d(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, relRow, relCol, {
      kernelSize: 2 * c.s - 1,
      heads: options.heads,
      scale: c.scale,
      padding: 'masked',
      logits: c.relative ? 'qk+qr' : 'qk',
    });
  });
}

/** The local attention within s×s blocks, as SasaLocalAttention kernel attributes. */
function blockAttrs(s: number, attrs: StemAttentionAttrs): LocalAttentionAttrs {
  const { heads, scale, relative } = attrs;
  return { kernelSize: 2 * s - 1, heads, scale, padding: 'masked', logits: relative === 1 ? 'qk+qr' : 'qk' };
}

/**
 * The projections of blocks x [n, s, s, d_in]: q = x·wq, k = x·wk [n, s, s, F] and v_p = x_p·wv[p] (one
 * batched product [P, n, d_in] × [P, d_in, F]); also x as flat [n·s·s, d_in] and byPosition [P, n, d_in]
 * for the weights' gradients. The reference and the composed kernels both project through it.
 */
function project(x: tf.Tensor, wq: tf.Tensor, wk: tf.Tensor, wv: tf.Tensor) {
  const [n, s, , dIn] = x.shape;
  const [positions, , filters] = wv.shape;
  const flat = tf.reshape(x, [n * s * s, dIn]);
  const by = (w: tf.Tensor) => tf.reshape(tf.matMul(flat, w as tf.Tensor2D), [n, s, s, filters]);
  const byPosition = tf.transpose(tf.reshape(x, [n, s * s, dIn]), [1, 0, 2]); // [P, n, d_in]
  const v =
    positions === 1
      ? by(tf.reshape(wv, [dIn, filters]))
      : tf.reshape(tf.transpose(tf.matMul(byPosition, wv as tf.Tensor3D), [1, 0, 2]), [n, s, s, filters]);
  return { flat, byPosition, q: by(wq), k: by(wk), v };
}

/** Inputs x, wq, wk, wv, relRow, relCol → [y, lse]. */
const composedForward: tf.KernelFunc = ({ inputs, attrs }) => {
  const [x, wq, wk, wv, relRow, relCol] = ['x', 'wq', 'wk', 'wv', 'relRow', 'relCol'].map((n) =>
    tensorInput(inputs, n),
  );
  ensureLocalAttentionKernels();
  return tf.tidy(() => {
    const { q, k, v } = project(x, wq, wk, wv);
    const a = blockAttrs(x.shape[1] as number, attrs as unknown as StemAttentionAttrs);
    return tf.engine().runKernel(LOCAL_ATTENTION, { q, k, v, relRow, relCol }, a) as tf.Tensor[];
  });
};

/**
 * Inputs dy, x, wq, wk, wv, relRow, relCol, lse → [dx ([0] unless inputGradient), dwq, dwk, dwv,
 * dRelRow, dRelCol]: the SasaLocalAttentionGrad kernel, then the projections' products
 *   dwq = xᵀ·dq, dwk = xᵀ·dk, dwv[p] = x_pᵀ·dv_p,  dx = dq·wqᵀ + dk·wkᵀ + dv_p·wv[p]ᵀ.
 */
const composedBackward: tf.KernelFunc = ({ inputs, attrs }) => {
  const names = ['dy', 'x', 'wq', 'wk', 'wv', 'relRow', 'relCol', 'lse'];
  const [dy, x, wq, wk, wv, relRow, relCol, lse] = names.map((n) => tensorInput(inputs, n));
  const stemAttrs = attrs as unknown as StemAttentionAttrs;
  ensureLocalAttentionKernels();
  return tf.tidy(() => {
    const [n, s, , dIn] = x.shape;
    const [positions, , filters] = wv.shape;
    const { flat, byPosition, q, k, v } = project(x, wq, wk, wv);
    const a = blockAttrs(s, stemAttrs);
    const grads = tf.engine().runKernel(LOCAL_ATTENTION_GRAD, { dy, q, k, v, relRow, relCol, lse }, a) as tf.Tensor[];
    const [dq, dk, dv, dRelRow, dRelCol] = grads.map((g, i) => (i < 3 ? tf.reshape(g, [n * s * s, filters]) : g));
    const weightGrad = (d: tf.Tensor) => tf.matMul(flat, d as tf.Tensor2D, true, false);
    const dvByPosition = tf.transpose(tf.reshape(dv, [n, s * s, filters]), [1, 0, 2]); // [P, n, F]
    const dwv =
      positions === 1
        ? tf.reshape(weightGrad(dv), wv.shape)
        : tf.matMul(byPosition as tf.Tensor3D, dvByPosition as tf.Tensor3D, true, false);
    let dx = tf.zeros([0]);
    if (stemAttrs.inputGradient === 1) {
      const back = (d: tf.Tensor, w: tf.Tensor) => tf.matMul(d as tf.Tensor2D, w as tf.Tensor2D, false, true);
      const fromV =
        positions === 1
          ? back(dv, tf.reshape(wv, [dIn, filters]))
          : tf.reshape(
              tf.transpose(tf.matMul(dvByPosition as tf.Tensor3D, wv as tf.Tensor3D, false, true), [1, 0, 2]),
              [n * s * s, dIn],
            );
      dx = tf.reshape(tf.add(tf.add(back(dq, wq), back(dk, wk)), fromV), x.shape);
    }
    return [dx, weightGrad(dq), weightGrad(dk), dwv, dRelRow, dRelCol];
  });
};

/** The composed kernels, for backends without their own and for the native one's blocks over its limit. */
export const STEM_ATTENTION_COMPOSED: readonly ComposedKernel[] = [
  { kernelName: STEM_ATTENTION, kernelFunc: composedForward },
  { kernelName: STEM_ATTENTION_GRAD, kernelFunc: composedBackward },
];

tf.registerGradient({
  kernelName: STEM_ATTENTION,
  inputsToSave: ['x', 'wq', 'wk', 'wv', 'relRow', 'relCol'],
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy] = dys as tf.Tensor[];
    const [x, wq, wk, wv, relRow, relCol, lse] = saved;
    const run = (inputGradient: boolean) =>
      tf
        .engine()
        .runKernel(
          STEM_ATTENTION_GRAD,
          { dy, x, wq, wk, wv, relRow, relCol, lse },
          { ...(attrs as unknown as StemAttentionAttrs), inputGradient: inputGradient ? 1 : 0 },
        ) as tf.Tensor[];
    return stemGradients(run);
  },
});

/**
 * The gradient map of a stem kernel whose gradient kernel `run(inputGradient)` returns [dx, dwq, dwk, dwv,
 * dRelRow, dRelCol, …more]: the weights' gradients from one call now, dx (never needed by the stem: its input
 * is the image) from a second call only if asked; `more` names the outputs after dRelCol.
 */
export function stemGradients(
  run: (inputGradient: boolean) => tf.Tensor[],
  more: readonly string[] = [],
): Record<string, () => tf.Tensor> {
  const grads = run(false);
  const names = ['wq', 'wk', 'wv', 'relRow', 'relCol', ...more];
  return { x: () => run(true)[0], ...Object.fromEntries(names.map((n, i) => [n, () => grads[i + 1]])) };
}

/** The attention stem's attention on blocks x (see the file comment); y [n, s, s, F]. */
export function stemAttention(
  x: tf.Tensor4D,
  wq: tf.Tensor2D,
  wk: tf.Tensor2D,
  wv: tf.Tensor3D,
  relRow: tf.Tensor2D | null,
  relCol: tf.Tensor2D | null,
  options: StemAttentionOptions,
): tf.Tensor4D {
  const c = checkStemAttentionArgs(x, wq, wk, wv, relRow, relCol, options);
  ensureKernels(STEM_ATTENTION_COMPOSED);
  const attrs: StemAttentionAttrs = {
    heads: options.heads,
    scale: c.scale,
    relative: c.relative ? 1 : 0,
    inputGradient: 0,
  };
  return tf.tidy(() => {
    const empty = () => tf.zeros([0]);
    const inputs = { x, wq, wk, wv, relRow: relRow ?? empty(), relCol: relCol ?? empty() };
    const [y] = tf.engine().runKernel(STEM_ATTENTION, inputs, attrs) as tf.Tensor[];
    return y as tf.Tensor4D;
  });
}
