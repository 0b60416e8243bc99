/**
 * registerWebglKernels: sasa's WebGL kernels (local attention, packed or not, and the attention
 * stem's attention; inference only) registered for tfjs-backend-webgl's 'webgl' backend. A page calls
 * it once, after importing '@tensorflow/tfjs-backend-webgl'; importing this file changes nothing.
 * Without it, ops run their TypeScript / composed kernels on WebGL too (ops/composed_kernels.ts),
 * which read the tensors back to the CPU. The gradients keep those kernels either way.
 */
import * as tf from '../../tf.js';
import { LOCAL_ATTENTION, LOCAL_ATTENTION_PACKED, STEM_ATTENTION } from '../kernel_names.js';
import { stemAttentionWebgl } from './attention_stem.js';
import { localAttentionPackedWebgl, localAttentionWebgl } from './local_attention.js';

/** The backend the kernels are for (tfjs-backend-webgl's name). */
export const WEBGL_BACKEND = 'webgl';

const KERNELS: readonly { kernelName: string; kernelFunc: tf.KernelFunc }[] = [
  { kernelName: LOCAL_ATTENTION, kernelFunc: localAttentionWebgl },
  { kernelName: LOCAL_ATTENTION_PACKED, kernelFunc: localAttentionPackedWebgl },
  { kernelName: STEM_ATTENTION, kernelFunc: stemAttentionWebgl },
];

/** Removes whatever is registered for `backendName` under the kernels' names. */
export function unregisterWebglKernels(backendName = WEBGL_BACKEND): void {
  for (const { kernelName } of KERNELS) {
    if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
  }
}

/**
 * Registers the WebGL kernels for `backendName`, in place of the TypeScript / composed ones an op
 * may already have registered there on first use.
 */
export function registerWebglKernels(backendName = WEBGL_BACKEND): void {
  unregisterWebglKernels(backendName);
  for (const { kernelName, kernelFunc } of KERNELS) tf.registerKernel({ kernelName, backendName, kernelFunc });
}
