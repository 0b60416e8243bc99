/** Helpers shared by the native kernel wrappers. */

import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type * as tf from '../../tf.js';
import type { NativeAddon } from '../addon.js';
import { bufferPool } from '../buffer_pool.js';

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

/** The float32 values of input `name` in place, or an error naming the op and the input. */
export function floatsOf(op: string, args: KernelArgs, t: tf.TensorInfo, name: string): Float32Array {
  const v = f32(cpuBackend(args), t);
  check(op, v !== null, () => `${name} must be float32, got ${t.dtype}`);
  return v;
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

/** Sizes, strides and offsets travel to the addon as Int32: the most elements a native tensor has. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** Throws `op: name must be a positive integer or a pair of them` unless `value` is one. */
export function checkPositiveInts(op: string, name: string, value: unknown): void {
  const ok = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_ELEMENTS;
  const pair = Array.isArray(value) && value.length === 2 && value.every(ok);
  check(
    op,
    ok(value) || pair,
    () => `${name} must be a positive integer or a pair of them, got ${JSON.stringify(value)}`,
  );
}

/**
 * Throws unless `pad` is 'same', 'valid', a non-negative integer or explicit NHWC padding
 * [[0,0],[top,bottom],[left,right],[0,0]] of non-negative integers.
 */
export function checkPad(op: string, pad: unknown): void {
  const count = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_ELEMENTS;
  const explicit =
    Array.isArray(pad) && pad.length === 4 && pad.every((p) => Array.isArray(p) && p.length === 2 && p.every(count));
  check(
    op,
    pad === 'same' || pad === 'valid' || count(pad) || explicit,
    () => `pad must be 'same', 'valid', a non-negative integer or explicit padding, got ${JSON.stringify(pad)}`,
  );
}

/** A Float32Array for the output `shape` of `op` (outputBuffer), refused before allocating past MAX_ELEMENTS. */
export function outputFor(op: string, shape: readonly number[]): Float32Array {
  const n = sizeOf(shape);
  check(op, n <= MAX_ELEMENTS, () => `output ${fmt(shape)} has ${n} elements, more than the ${MAX_ELEMENTS} allowed`);
  return outputBuffer(n);
}

/**
 * A Float32Array for a kernel to fill completely: large ones uninitialised, from the buffers of
 * disposed outputs when one of that size is free (buffer_pool.ts).
 */
export function outputBuffer(n: number): Float32Array {
  return bufferPool.take(n);
}

export function output(backend: MathBackendCPU, shape: number[], values: Float32Array): tf.TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', values);
}
