/**
 * Training-mode batch normalisation over all axes but the last (channels-last data).
 * x: [..., C], gamma, beta: [C] →
 *   mean = E[x], variance = E[(x - mean)²] (biased), y = (x - mean) / sqrt(variance + ε) · gamma + beta,
 *   and y = max(0, y) with `relu` (the ReLU fused into the same pass, and its gradient into the
 *   batch norm's).
 * Kernels SasaBatchNormTrain and its gradient: on the native backend single fused kernels; elsewhere
 * kernels composed of tfjs ops (composed_kernels.ts), the gradient written out:
 *   g = dy · [y > 0] (relu) or dy,  x̂ = (x − mean)/sqrt(variance + ε),  dbeta = Σ g,  dgamma = Σ g·x̂,
 *   dx = gamma/sqrt(variance + ε) · (g − dbeta/M − x̂·dgamma/M)   (M rows; sums over all axes but C).
 * batchNormAddTrain: the last batch norm of a residual block with its shortcut and ReLU,
 *   y = max(0, BN(x) + residual), in one op that keeps only x and y for the gradient (as PyTorch's in-place
 *   `out += identity; relu_(out)`): g = dy · [y > 0], dresidual = g, dx from g as above. Its kernels compose
 *   the batch norm kernels with an add and a ReLU; BN(x) lives only inside them.
 */
import * as tf from '../tf.js';
import { type ComposedKernel, ensureKernels, tensorInput } from './composed_kernels.js';
import {
  BATCH_NORM_ADD_TRAIN,
  BATCH_NORM_ADD_TRAIN_GRAD,
  BATCH_NORM_BLOCK_MAX,
  BATCH_NORM_BLOCK_MAX_GRAD,
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  RELU_GRAD,
} from './kernel_names.js';

/** The default ε (PyTorch's and the paper's). */
export const BATCH_NORM_EPSILON = 1e-5;

/** What is wrong with an ε (undefined: nothing): a finite number > 0. */
export function epsilonProblem(epsilon: unknown): string | undefined {
  return typeof epsilon === 'number' && epsilon > 0 && Number.isFinite(epsilon)
    ? undefined
    : `must be a finite number > 0, got ${String(epsilon)}`;
}

/**
 * What {@link batchNormTrain} and {@link batchNormBlockMax} return: y (x's shape [..., C]; [N, 1, 1, C] for
 * the block max) and the batch statistics mean [C] and biased variance [C].
 */
export interface BatchNormTrainResult {
  y: tf.Tensor;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

function checkArgs(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): void {
  for (const [name, t] of [
    ['x', x],
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (!(t instanceof tf.Tensor)) throw new Error(`batchNormTrain: ${name} must be a tf.Tensor, got ${typeof t}`);
  }
  const c = x.shape[x.shape.length - 1];
  const where = `batchNormTrain: x ${JSON.stringify(x.shape)}`;
  if (x.rank < 2) throw new Error(`${where} must have rank >= 2 ([..., C])`);
  if (x.dtype !== 'float32') throw new Error(`${where} must be float32, got ${x.dtype}`);
  if (x.size === 0) throw new Error(`${where} is empty: batch statistics need at least one value per channel`);
  for (const [name, t] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (t.rank !== 1 || t.shape[0] !== c || t.dtype !== 'float32') {
      throw new Error(`${where}: ${name} must be float32 of shape [${c}], got ${t.dtype} ${JSON.stringify(t.shape)}`);
    }
  }
  const problem = epsilonProblem(epsilon);
  if (problem) throw new Error(`batchNormTrain: epsilon ${problem}`);
}

/** The forward in tfjs ops on x viewed as [M, C]: normalised x (and its ReLU), mean, variance. */
function normalise(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, relu: boolean): tf.Tensor[] {
  const c = x.shape[x.shape.length - 1];
  const x2 = tf.reshape(x, [-1, c]);
  const { mean, variance } = tf.moments(x2, [0]);
  const normed = tf.batchNorm(x2, mean, variance, beta, gamma, epsilon);
  return [tf.reshape(relu ? tf.relu(normed) : normed, x.shape), mean, variance];
}

/**
 * The gradient formula of the file comment in tfjs ops: dy, x [..., C] (dy already through the
 * ReLU, if any), mean, variance, gamma → [dx, dgamma, dbeta].
 */
function normaliseGrad(
  dy: tf.Tensor,
  x: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  gamma: tf.Tensor,
  epsilon: number,
): tf.Tensor[] {
  const c = x.shape[x.shape.length - 1];
  const rows = x.size / c;
  const g = tf.reshape(dy, [-1, c]);
  const rstd = tf.rsqrt(tf.add(variance, epsilon));
  const xHat = tf.mul(tf.sub(tf.reshape(x, [-1, c]), mean), rstd);
  const dbeta = tf.sum(g, 0);
  const dgamma = tf.sum(tf.mul(g, xHat), 0);
  const centred = tf.sub(tf.sub(g, tf.div(dbeta, rows)), tf.mul(xHat, tf.div(dgamma, rows)));
  const dx = tf.reshape(tf.mul(centred, tf.mul(gamma, rstd)), x.shape);
  return [dx, dgamma, dbeta];
}

/** Attributes of the batch-norm kernels (relu 1: the ReLU after it). */
interface BatchNormAttrs {
  epsilon: number;
  relu?: number;
  [key: string]: number | undefined;
}

/** Inputs x, gamma, beta → [y, mean, variance]. */
const trainForward: tf.KernelFunc = ({ inputs, attrs }) => {
  const [x, gamma, beta] = ['x', 'gamma', 'beta'].map((n) => tensorInput(inputs, n));
  const { epsilon, relu } = attrs as unknown as BatchNormAttrs;
  return tf.tidy(() => normalise(x, gamma, beta, epsilon, relu === 1));
};

/** Inputs dy, x, mean, variance, gamma, beta → [dx, dgamma, dbeta]. */
const trainBackward: tf.KernelFunc = ({ inputs, attrs }) => {
  const [dy, x, mean, variance, gamma, beta] = ['dy', 'x', 'mean', 'variance', 'gamma', 'beta'].map((n) =>
    tensorInput(inputs, n),
  );
  const { epsilon, relu } = attrs as unknown as BatchNormAttrs;
  return tf.tidy(() => {
    const g = relu === 1 ? tf.mul(dy, tf.step(normalise(x, gamma, beta, epsilon, false)[0])) : dy;
    return normaliseGrad(g, x, mean, variance, gamma, epsilon);
  });
};

/** Inputs x, residual, gamma, beta → [y = relu?(BN(x) + residual), mean, variance]; BN(x) freed in the kernel. */
const addTrainForward: tf.KernelFunc = ({ inputs, attrs }) => {
  const [x, residual, gamma, beta] = ['x', 'residual', 'gamma', 'beta'].map((n) => tensorInput(inputs, n));
  const { epsilon, relu } = attrs as unknown as BatchNormAttrs;
  return tf.tidy(() => {
    const [normed, mean, variance] = tf
      .engine()
      .runKernel(BATCH_NORM_TRAIN, { x, gamma, beta }, { epsilon, relu: 0 }) as tf.Tensor[];
    const sum = tf.add(normed, residual);
    return [relu === 1 ? tf.relu(sum) : sum, mean, variance];
  });
};

/** dy · [y > 0]: the native ReLU gradient kernel where the backend has it (y > 0 exactly where the sum was). */
function throughRelu(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (tf.getKernel(RELU_GRAD, tf.getBackend())) return tf.engine().runKernel(RELU_GRAD, { dy, x: y }) as tf.Tensor;
  return tf.mul(dy, tf.step(y));
}

/** Inputs dy, y, x, mean, variance, gamma, beta → [dx, dgamma, dbeta, dresidual]. */
const addTrainBackward: tf.KernelFunc = ({ inputs, attrs }) => {
  const [dy, y, x, mean, variance, gamma, beta] = ['dy', 'y', 'x', 'mean', 'variance', 'gamma', 'beta'].map((n) =>
    tensorInput(inputs, n),
  );
  const { epsilon, relu } = attrs as unknown as BatchNormAttrs;
  return tf.tidy(() => {
    const g = relu === 1 ? throughRelu(dy, y) : tf.clone(dy);
    const grads = tf
      .engine()
      .runKernel(BATCH_NORM_TRAIN_GRAD, { dy: g, x, mean, variance, gamma, beta }, { epsilon, relu: 0 }) as tf.Tensor[];
    return [...grads, g];
  });
};

/** Inputs x [N, H, W, C], gamma, beta → [y [N, 1, 1, C], mean, variance, argmax (int32 [N, C], the pixel h·W + w)]. */
const blockMaxForward: tf.KernelFunc = ({ inputs, attrs }) => {
  const [x, gamma, beta] = ['x', 'gamma', 'beta'].map((n) => tensorInput(inputs, n));
  const { epsilon } = attrs as unknown as BatchNormAttrs;
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [y, mean, variance] = normalise(x, gamma, beta, epsilon, false);
    const pixels = tf.reshape(y, [n, h * w, c]);
    return [tf.reshape(tf.max(pixels, 1), [n, 1, 1, c]), mean, variance, tf.argMax(pixels, 1)];
  });
};

/** Inputs dy [N, 1, 1, C], x, argmax, mean, variance, gamma → [dx, dgamma, dbeta]: dy goes to the argmax pixel. */
const blockMaxBackward: tf.KernelFunc = ({ inputs, attrs }) => {
  const [dy, x, argmax, mean, variance, gamma] = ['dy', 'x', 'argmax', 'mean', 'variance', 'gamma'].map((n) =>
    tensorInput(inputs, n),
  );
  const { epsilon } = attrs as unknown as BatchNormAttrs;
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    // tfjs's oneHot refuses depth 1; a one-pixel block is its own max.
    const atMax = h * w === 1 ? tf.ones([n, 1, c]) : tf.transpose(tf.oneHot(argmax as tf.Tensor2D, h * w), [0, 2, 1]);
    const g = tf.reshape(tf.mul(atMax, tf.reshape(dy, [n, 1, c])), x.shape);
    return normaliseGrad(g, x, mean, variance, gamma, epsilon);
  });
};

/** The composed kernels, for backends without their own (also composed into the stem's fused batch norm). */
export const BATCH_NORM_COMPOSED: readonly ComposedKernel[] = [
  { kernelName: BATCH_NORM_TRAIN, kernelFunc: trainForward },
  { kernelName: BATCH_NORM_TRAIN_GRAD, kernelFunc: trainBackward },
  { kernelName: BATCH_NORM_ADD_TRAIN, kernelFunc: addTrainForward },
  { kernelName: BATCH_NORM_ADD_TRAIN_GRAD, kernelFunc: addTrainBackward },
  { kernelName: BATCH_NORM_BLOCK_MAX, kernelFunc: blockMaxForward },
  { kernelName: BATCH_NORM_BLOCK_MAX_GRAD, kernelFunc: blockMaxBackward },
];

/** Runs a training batch norm kernel (y, mean, variance outputs) with its attributes. */
function runTrainKernel(
  kernel: string,
  inputs: tf.NamedTensorMap,
  epsilon: number,
  relu: boolean,
): BatchNormTrainResult {
  ensureKernels(BATCH_NORM_COMPOSED);
  const attrs = { epsilon, relu: relu ? 1 : 0 };
  const [y, mean, variance] = tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor[];
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/** Batch statistics and the normalised output; differentiable w.r.t. x, gamma and beta. */
export function batchNormTrain(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon = BATCH_NORM_EPSILON,
  relu = false,
): BatchNormTrainResult {
  checkArgs(x, gamma, beta, epsilon);
  return runTrainKernel(BATCH_NORM_TRAIN, { x, gamma, beta }, epsilon, relu);
}

/**
 * The last batch norm of a residual block, its shortcut and ReLU in training: y = max(0, BN(x) + residual)
 * (`relu` false: BN(x) + residual) with the batch statistics; differentiable w.r.t. x, residual, gamma and
 * beta. Only x and y are kept for the gradient; BN(x) never outlives the op.
 */
export function batchNormAddTrain(
  x: tf.Tensor,
  residual: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon = BATCH_NORM_EPSILON,
  relu = true,
): BatchNormTrainResult {
  checkArgs(x, gamma, beta, epsilon);
  if (
    !(residual instanceof tf.Tensor) ||
    residual.dtype !== 'float32' ||
    !tf.util.arraysEqual(residual.shape, x.shape)
  ) {
    const got = residual instanceof tf.Tensor ? `${residual.dtype} ${JSON.stringify(residual.shape)}` : typeof residual;
    throw new Error(`batchNormAddTrain: residual must be float32 of x's shape ${JSON.stringify(x.shape)}, got ${got}`);
  }
  return runTrainKernel(BATCH_NORM_ADD_TRAIN, { x, residual, gamma, beta }, epsilon, relu);
}

tf.registerGradient({
  kernelName: BATCH_NORM_ADD_TRAIN,
  inputsToSave: ['x', 'gamma', 'beta'],
  outputsToSave: [true, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dMean, dVariance] = dys as tf.Tensor[];
    const [x, gamma, beta, y, mean, variance] = saved;
    const { epsilon, relu } = attrs as { epsilon: number; relu: number };
    const [dx, dgamma, dbeta, dresidual] = tf
      .engine()
      .runKernel(
        BATCH_NORM_ADD_TRAIN_GRAD,
        { dy, y, x, mean, variance, gamma, beta },
        { epsilon, relu },
      ) as tf.Tensor[];
    return {
      x: () => withStatistics(dx, x, mean, dMean, dVariance),
      residual: () => dresidual,
      gamma: () => dgamma,
      beta: () => dbeta,
    };
  },
});

/**
 * d/dx of the kernel's three outputs. dMean and dVariance are zero unless a loss uses the batch
 * statistics themselves; when they are not, dx += dMean/M + dVariance·2(x - mean)/M.
 */
tf.registerGradient({
  kernelName: BATCH_NORM_TRAIN,
  inputsToSave: ['x', 'gamma', 'beta'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dMean, dVariance] = dys as tf.Tensor[];
    const [x, gamma, beta, mean, variance] = saved;
    const { epsilon, relu } = attrs as { epsilon: number; relu?: number };
    const grads = tf
      .engine()
      .runKernel(
        BATCH_NORM_TRAIN_GRAD,
        { dy, x, mean, variance, gamma, beta },
        { epsilon, relu: relu ?? 0 },
      ) as tf.Tensor[];
    return {
      x: () => withStatistics(grads[0], x, mean, dMean, dVariance),
      gamma: () => grads[1],
      beta: () => grads[2],
    };
  },
});

/**
 * dx plus the gradient through the batch statistics, dMean/M + dVariance·2(x − mean)/M, when a
 * loss uses them (dMean, dVariance not all zero); dx itself otherwise.
 */
function withStatistics(dx: tf.Tensor, x: tf.Tensor, mean: tf.Tensor, dMean: tf.Tensor, dVariance: tf.Tensor) {
  const rows = x.size / x.shape[x.shape.length - 1];
  // Read back (as the test through tfjs ops read back its one flag): [C] values each, three kernels fewer per batch norm.
  const used = [dMean, dVariance].some((t) => (t.dataSync() as Float32Array).some((v) => v !== 0));
  if (!used) return dx;
  return tf.tidy(() => tf.add(dx, tf.div(tf.add(dMean, tf.mul(tf.mul(dVariance, 2), tf.sub(x, mean))), rows)));
}

tf.registerGradient({
  kernelName: BATCH_NORM_BLOCK_MAX,
  inputsToSave: ['x', 'gamma', 'beta'],
  outputsToSave: [false, true, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dMean, dVariance] = dys as tf.Tensor[];
    const [x, gamma, , mean, variance, argmax] = saved;
    const { epsilon } = attrs as { epsilon: number };
    const grads = tf
      .engine()
      .runKernel(BATCH_NORM_BLOCK_MAX_GRAD, { dy, x, argmax, mean, variance, gamma }, { epsilon }) as tf.Tensor[];
    return {
      x: () => withStatistics(grads[0], x, mean, dMean, dVariance),
      gamma: () => grads[1],
      beta: () => grads[2],
    };
  },
});

/**
 * Training batch norm of blocks x [N, H, W, C] followed by the max over each block's H·W pixels
 * (a max pool whose window is the block): y [N, 1, 1, C], with the batch statistics. On the native
 * backend one kernel each way, which never writes the normalised [N, H, W, C] tensor (nor, backward,
 * its gradient); elsewhere the composed kernels (the batch norm, then the max and argmax over the
 * pixels). Ties go to the first pixel, as tfjs's max pool.
 */
export function batchNormBlockMax(
  x: tf.Tensor4D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon = BATCH_NORM_EPSILON,
): BatchNormTrainResult {
  checkArgs(x, gamma, beta, epsilon);
  if (x.rank !== 4) throw new Error(`batchNormBlockMax: x ${JSON.stringify(x.shape)} must be [N, H, W, C]`);
  ensureKernels(BATCH_NORM_COMPOSED);
  const [y, mean, variance, argmax] = tf
    .engine()
    .runKernel(BATCH_NORM_BLOCK_MAX, { x, gamma, beta }, { epsilon }) as tf.Tensor[];
  argmax.dispose();
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
