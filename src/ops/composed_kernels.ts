/**
 * Kernels composed of tfjs ops, for backends without a kernel of their own: every op calls
 * `tf.engine().runKernel(name, …)`, and where the active backend (tfjs's cpu, webgl, …) has no
 * kernel by that name the op's composed one is registered for it on first use. A backend that
 * registers its own (the native one) keeps it.
 *
 * A kernel that calls tfjs ops is safe under autodiff: tfjs records a tape node only at kernel
 * depth 0 (engine.isTapeOn), so the inner ops are not taped and the op's registered gradient is the
 * only one. The kernel returns tf.Tensors (tfjs takes them as they are) and disposes its
 * intermediates in a tidy.
 */
import * as tf from '../tf.js';

export interface ComposedKernel {
  kernelName: string;
  kernelFunc: tf.KernelFunc;
}

/** Registers each kernel for `backendName` (the active backend by default) unless it has one. */
export function ensureKernels(kernels: readonly ComposedKernel[], backendName = tf.getBackend()): void {
  for (const { kernelName, kernelFunc } of kernels) {
    if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc });
  }
}

/** A kernel's input by name, as the tf.Tensor the op (or the gradient) passed in. */
export function tensorInput(inputs: tf.NamedTensorInfoMap, name: string): tf.Tensor {
  const t = inputs[name];
  if (!(t instanceof tf.Tensor)) throw new Error(`composed kernel: input ${name} must be a tf.Tensor`);
  return t;
}
