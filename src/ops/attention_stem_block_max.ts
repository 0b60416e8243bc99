/**
 * stemAttentionBlockMax: the attention stem's training path when it pools over whole blocks (pool = s),
 * as one op: y = stemAttention(x, …) [n, s, s, F], its training batch norm (statistics over all n·s²
 * pixels) and the max over each block's s² pixels:
 *   out [n, 1, 1, F] = max_p BN(y)[b, p],  mean, variance [F] (biased) — batchNormBlockMax(y, gamma, beta).
 * The native backend runs one kernel each way that never writes y (8 × 224² × 64 floats, 103 MB, at the
 * paper's stem) nor its gradient: the forward keeps each block's extreme (y at the max of BN(y)) and its
 * pixel, the backward recomputes each head's y from the softmax weights it rebuilds anyway and forms dy =
 * [p = argmax]·dOut·γ/σ + y·k2 + k3 per channel (batchNormBlockMax's gradient) head by head. Elsewhere the
 * composed kernels: the stem's and the block max's kernels in turn. Differentiable w.r.t. x, the weights,
 * gamma and beta (and through mean and variance); dx only when asked, as stemAttention's.
 */
import * as tf from '../tf.js';
import {
  checkStemAttentionArgs,
  STEM_ATTENTION_COMPOSED,
  type StemAttentionOptions,
  stemGradients,
} from './attention_stem.js';
import {
  BATCH_NORM_COMPOSED,
  BATCH_NORM_EPSILON,
  type BatchNormTrainResult,
  epsilonProblem,
} from './batch_norm_train.js';
import { type ComposedKernel, ensureKernels, tensorInput } from './composed_kernels.js';
import {
  BATCH_NORM_BLOCK_MAX,
  BATCH_NORM_BLOCK_MAX_GRAD,
  STEM_ATTENTION,
  STEM_ATTENTION_BLOCK_MAX,
  STEM_ATTENTION_BLOCK_MAX_GRAD,
  STEM_ATTENTION_GRAD,
  type StemAttentionAttrs,
} from './kernel_names.js';

const OP = 'stemAttentionBlockMax';

/** The stem kernels' attributes and the batch norm's epsilon. */
type BlockMaxAttrs = StemAttentionAttrs & { epsilon: number };

/** The stem's kernel attributes of the fused ones (epsilon dropped). */
function stemAttrs(attrs: BlockMaxAttrs, inputGradient: number): StemAttentionAttrs {
  const { heads, scale, relative } = attrs;
  return { heads, scale, relative, inputGradient };
}

/** Inputs x, wq, wk, wv, relRow, relCol, gamma, beta → [out, mean, variance, extreme, argmax, lse]. */
const composedForward: tf.KernelFunc = ({ inputs, attrs }) => {
  const names = ['x', 'wq', 'wk', 'wv', 'relRow', 'relCol', 'gamma', 'beta'];
  const [x, wq, wk, wv, relRow, relCol, gamma, beta] = names.map((n) => tensorInput(inputs, n));
  const a = attrs as unknown as BlockMaxAttrs;
  ensureKernels(STEM_ATTENTION_COMPOSED);
  ensureKernels(BATCH_NORM_COMPOSED);
  return tf.tidy(() => {
    const engine = tf.engine();
    const [y, lse] = engine.runKernel(
      STEM_ATTENTION,
      { x, wq, wk, wv, relRow, relCol },
      stemAttrs(a, 0),
    ) as tf.Tensor[];
    const [out, mean, variance, argmax] = engine.runKernel(
      BATCH_NORM_BLOCK_MAX,
      { x: y, gamma, beta },
      { epsilon: a.epsilon },
    ) as tf.Tensor[];
    return [out, mean, variance, gatherPixels(y, argmax), argmax, lse];
  });
};

/** y [n, s, s, F] at pixel argmax[b, c] of each block and channel: [n, F]. */
function gatherPixels(y: tf.Tensor, argmax: tf.Tensor): tf.Tensor {
  const [n, s, , c] = y.shape;
  if (s === 1) return tf.reshape(y, [n, c]);
  const atMax = tf.oneHot(argmax as tf.Tensor2D, s * s); // [n, F, s²]
  return tf.sum(tf.mul(tf.transpose(tf.reshape(y, [n, s * s, c]), [0, 2, 1]), atMax), 2);
}

/**
 * Inputs dy, dMean, dVariance, x, wq, wk, wv, relRow, relCol, lse, extreme, argmax, mean, variance, gamma →
 * [dx, dwq, dwk, dwv, dRelRow, dRelCol, dgamma, dbeta]: y recomputed by the stem's kernel, the block max's
 * gradient kernel, the statistics' own gradient dMean/M + dVariance·2(y − mean)/M, the stem's gradient kernel.
 */
const composedBackward: tf.KernelFunc = ({ inputs, attrs }) => {
  const names = ['dy', 'dMean', 'dVariance', 'x', 'wq', 'wk', 'wv', 'relRow', 'relCol', 'lse', 'argmax'];
  const [dy, dMean, dVariance, x, wq, wk, wv, relRow, relCol, lse, argmax] = names.map((n) => tensorInput(inputs, n));
  const [mean, variance, gamma] = ['mean', 'variance', 'gamma'].map((n) => tensorInput(inputs, n));
  const a = attrs as unknown as BlockMaxAttrs;
  ensureKernels(STEM_ATTENTION_COMPOSED);
  ensureKernels(BATCH_NORM_COMPOSED);
  return tf.tidy(() => {
    const engine = tf.engine();
    const [y] = engine.runKernel(STEM_ATTENTION, { x, wq, wk, wv, relRow, relCol }, stemAttrs(a, 0)) as tf.Tensor[];
    const [dyBn, dgamma, dbeta] = engine.runKernel(
      BATCH_NORM_BLOCK_MAX_GRAD,
      { dy, x: y, argmax, mean, variance, gamma },
      { epsilon: a.epsilon },
    ) as tf.Tensor[];
    const rows = y.size / (y.shape[3] as number);
    const throughStats = tf.div(tf.add(dMean, tf.mul(tf.mul(dVariance, 2), tf.sub(y, mean))), rows);
    const dyStem = tf.add(dyBn, throughStats);
    const grads = engine.runKernel(
      STEM_ATTENTION_GRAD,
      { dy: dyStem, x, wq, wk, wv, relRow, relCol, lse },
      stemAttrs(a, a.inputGradient),
    ) as tf.Tensor[];
    return [...grads, dgamma, dbeta];
  });
};

/** The composed kernels, for backends without their own and for the native one's blocks over its limit. */
export const STEM_ATTENTION_BLOCK_MAX_COMPOSED: readonly ComposedKernel[] = [
  { kernelName: STEM_ATTENTION_BLOCK_MAX, kernelFunc: composedForward },
  { kernelName: STEM_ATTENTION_BLOCK_MAX_GRAD, kernelFunc: composedBackward },
];

tf.registerGradient({
  kernelName: STEM_ATTENTION_BLOCK_MAX,
  inputsToSave: ['x', 'wq', 'wk', 'wv', 'relRow', 'relCol', 'gamma'],
  outputsToSave: [false, true, true, true, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dMean, dVariance] = dys as tf.Tensor[];
    const [x, wq, wk, wv, relRow, relCol, gamma, mean, variance, extreme, argmax, lse] = saved;
    const run = (inputGradient: boolean) =>
      tf
        .engine()
        .runKernel(
          STEM_ATTENTION_BLOCK_MAX_GRAD,
          { dy, dMean, dVariance, x, wq, wk, wv, relRow, relCol, lse, extreme, argmax, mean, variance, gamma },
          { ...(attrs as unknown as BlockMaxAttrs), inputGradient: inputGradient ? 1 : 0 },
        ) as tf.Tensor[];
    return stemGradients(run, ['gamma', 'beta']);
  },
});

/**
 * The attention stem's attention on blocks x [n, s, s, d_in], its training batch norm and the max over
 * each block (see the file comment): y [n, 1, 1, F] and the batch statistics.
 */
export function stemAttentionBlockMax(
  x: tf.Tensor4D,
  wq: tf.Tensor2D,
  wk: tf.Tensor2D,
  wv: tf.Tensor3D,
  relRow: tf.Tensor2D | null,
  relCol: tf.Tensor2D | null,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  options: StemAttentionOptions & { epsilon?: number },
): BatchNormTrainResult {
  const c = checkStemAttentionArgs(x, wq, wk, wv, relRow, relCol, options);
  const epsilon = options.epsilon ?? BATCH_NORM_EPSILON;
  const problem = epsilonProblem(epsilon);
  if (problem) throw new Error(`${OP}: epsilon ${problem}`);
  for (const [name, t] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (!(t instanceof tf.Tensor) || t.rank !== 1 || t.shape[0] !== c.filters || t.dtype !== 'float32') {
      const got = t instanceof tf.Tensor ? `${t.dtype} [${t.shape.join(',')}]` : typeof t;
      throw new Error(`${OP}: ${name} must be float32 [${c.filters}] (one value per channel), got ${got}`);
    }
  }
  ensureKernels(STEM_ATTENTION_BLOCK_MAX_COMPOSED);
  const attrs: BlockMaxAttrs = {
    heads: options.heads,
    scale: c.scale,
    relative: c.relative ? 1 : 0,
    inputGradient: 0,
    epsilon,
  };
  const [y, mean, variance] = tf.tidy(() => {
    const empty = () => tf.zeros([0]);
    const inputs = { x, wq, wk, wv, relRow: relRow ?? empty(), relCol: relCol ?? empty(), gamma, beta };
    return (tf.engine().runKernel(STEM_ATTENTION_BLOCK_MAX, inputs, attrs) as tf.Tensor[]).slice(0, 3);
  });
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
