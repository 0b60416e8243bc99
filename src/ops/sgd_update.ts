/**
 * One SGD-with-momentum step for one weight, as a single op (PyTorch's torch.optim.SGD formulation):
 *   g' = g + λ·w,  v' = μ·v + g',  w' = w − lr·(g' + μ·v')  (nesterov)  or  w' = w − lr·v'  (plain).
 * w, v, g: same shape, float32 → { w', v' }. With v = 0 the first step gives v' = g', as PyTorch's
 * first step does. Kernel SasaSgdUpdate: on the native backend one fused kernel (reads 3 arrays,
 * writes 2) replaces the 5–8 elementwise ops, each allocating its output, that the formula takes in
 * tfjs ops; elsewhere the kernel is those ops (composed_kernels.ts). Not differentiable (an
 * optimiser step).
 */
import * as tf from '../tf.js';
import { type ComposedKernel, ensureKernels, tensorInput } from './composed_kernels.js';
import { SGD_UPDATE } from './kernel_names.js';

/**
 * One {@link sgdUpdate} step's hyperparameters (no defaults): learning rate lr, momentum μ, weight decay λ,
 * and Nesterov or plain momentum (the formulas in ops/sgd_update.ts).
 */
export interface SgdUpdateOptions {
  lr: number;
  momentum: number;
  /** λ of the L2 term added to the gradient (0: none). */
  weightDecay: number;
  nesterov: boolean;
}

function checkArgs(w: tf.Tensor, v: tf.Tensor, g: tf.Tensor, o: SgdUpdateOptions): void {
  for (const [name, t] of [
    ['w', w],
    ['v', v],
    ['g', g],
  ] as const) {
    if (!(t instanceof tf.Tensor)) throw new Error(`sgdUpdate: ${name} must be a tf.Tensor, got ${typeof t}`);
    if (t.dtype !== 'float32') throw new Error(`sgdUpdate: ${name} must be float32, got ${t.dtype}`);
    if (!tf.util.arraysEqual(t.shape, w.shape))
      throw new Error(`sgdUpdate: ${name} ${JSON.stringify(t.shape)} must have w's shape ${JSON.stringify(w.shape)}`);
  }
  for (const field of ['lr', 'momentum', 'weightDecay'] as const)
    if (typeof o[field] !== 'number' || !Number.isFinite(o[field]))
      throw new Error(`sgdUpdate: ${field} must be a finite number, got ${String(o[field])}`);
}

/** The kernel's attributes: the options, nesterov as 0 or 1. */
interface SgdUpdateAttrs {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: number;
  [key: string]: number;
}

/** The formula in tfjs ops: inputs w, v, g → [w', v']. */
const composed: tf.KernelFunc = ({ inputs, attrs }) => {
  const [w, v, g] = ['w', 'v', 'g'].map((n) => tensorInput(inputs, n));
  const o = attrs as unknown as SgdUpdateAttrs;
  return tf.tidy(() => {
    const g1 = o.weightDecay !== 0 ? tf.add(g, tf.mul(w, o.weightDecay)) : g;
    const v1 = tf.add(tf.mul(v, o.momentum), g1);
    const step = o.nesterov ? tf.add(g1, tf.mul(v1, o.momentum)) : v1;
    return [tf.sub(w, tf.mul(step, o.lr)), v1];
  });
};

const KERNELS: readonly ComposedKernel[] = [{ kernelName: SGD_UPDATE, kernelFunc: composed }];

/** The updated weight and velocity (new tensors; w, v and g are left as they are). */
export function sgdUpdate(
  w: tf.Tensor,
  v: tf.Tensor,
  g: tf.Tensor,
  options: SgdUpdateOptions,
): { w: tf.Tensor; v: tf.Tensor } {
  checkArgs(w, v, g, options);
  ensureKernels(KERNELS);
  const { lr, momentum, weightDecay, nesterov } = options;
  const attrs: SgdUpdateAttrs = { lr, momentum, weightDecay, nesterov: nesterov ? 1 : 0 };
  const [w1, v1] = tf.engine().runKernel(SGD_UPDATE, { w, v, g }, attrs) as tf.Tensor[];
  return { w: w1, v: v1 };
}
