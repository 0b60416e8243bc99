/** Helpers shared by the native kernel wrappers. */
import type * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../addon.js';

export type KernelArgs = Parameters<tf.KernelFunc>[0];

/** What a kernel family needs to build its kernels. */
export interface KernelContext {
  addon: NativeAddon;
  /** The CPU backend's own kernel, for inputs the native kernel does not handle. */
  fallback(kernelName: string): tf.KernelFunc;
}

export function cpuBackend(args: KernelArgs): MathBackendCPU {
  return args.backend as MathBackendCPU;
}

/** The float32 values of `t`, in place; null if `t` is not float32 or not stored as one array. */
export function f32(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : null;
}

/** Throws `op: message` unless `cond`: the native path's guard against bad input. */
export function check(op: string, cond: boolean, message: () => string): asserts cond {
  if (!cond) throw new Error(`${op}: ${message()}`);
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * A Float32Array for a kernel to fill completely. Large ones skip zero-filling (the kernels
 * write every element, and clearing megabytes the kernel overwrites costs as much as a small
 * kernel): Buffer.allocUnsafeSlow gives fresh, uninitialised, unpooled memory.
 */
export function outputBuffer(n: number): Float32Array {
  if (n < 16384) return new Float32Array(n);
  const bytes = Buffer.allocUnsafeSlow(n * 4);
  return new Float32Array(bytes.buffer, bytes.byteOffset, n);
}

export function output(backend: MathBackendCPU, shape: number[], values: Float32Array): tf.TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', values);
}
