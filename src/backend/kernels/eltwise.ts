/**
 * Elementwise kernels: Add, Sub, Multiply, RealDiv, Maximum, Minimum (float32, with tfjs's
 * broadcasting),
 * Relu, Step and SasaReluGrad (dx = dy · [x > 0]).
 */

import { RELU_GRAD } from '../../ops/kernel_names.js';
import * as tf from '../../tf.js';
import type { NativeAddon } from '../addon.js';
import {
  check,
  cpuBackend,
  f32,
  fmt,
  type KernelArgs,
  type KernelContext,
  output,
  outputBuffer,
  sizeOf,
} from './util.js';

const OPS = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 } as const;
export type BinaryOp = keyof typeof OPS;

const MAX_RANK = 6;

/**
 * The output shape with runs of dimensions merged where both operands broadcast alike, and each
 * operand's strides over it (0 where it is broadcast). Null past the addon's rank limit.
 */
export function broadcastPlan(aShape: number[], bShape: number[], outShape: number[]): Int32Array | null {
  const r = outShape.length;
  const pad = (s: number[]) => [...new Array(r - s.length).fill(1), ...s];
  const a = pad(aShape);
  const b = pad(bShape);
  const dims: { size: number; aB: boolean; bB: boolean }[] = [];
  for (let d = 0; d < r; d++) {
    if (outShape[d] === 1) continue;
    const aB = a[d] === 1;
    const bB = b[d] === 1;
    const last = dims[dims.length - 1];
    if (last && last.aB === aB && last.bB === bB) last.size *= outShape[d];
    else dims.push({ size: outShape[d], aB, bB });
  }
  if (dims.length === 0) dims.push({ size: 1, aB: false, bB: false });
  if (dims.length > MAX_RANK) return null;
  const n = dims.length;
  const geometry = new Int32Array(2 + 3 * n);
  geometry[1] = n;
  let runA = 1;
  let runB = 1;
  for (let d = n - 1; d >= 0; d--) {
    geometry[2 + d] = dims[d].size;
    geometry[2 + n + d] = dims[d].aB ? 0 : runA;
    geometry[2 + 2 * n + d] = dims[d].bB ? 0 : runB;
    if (!dims[d].aB) runA *= dims[d].size;
    if (!dims[d].bB) runB *= dims[d].size;
  }
  return geometry;
}

/** out = a ∘ b with tfjs broadcasting; false when the shapes are beyond the addon (caller falls back). */
export function broadcastBinary(
  addon: NativeAddon,
  op: BinaryOp,
  a: Float32Array,
  aShape: number[],
  b: Float32Array,
  bShape: number[],
  out: Float32Array,
  outShape: number[],
): boolean {
  const geometry = broadcastPlan(aShape, bShape, outShape);
  if (!geometry) return false;
  geometry[0] = OPS[op];
  if (out.length > 0) addon.binary(a, b, out, geometry);
  return true;
}

function binaryKernel(ctx: KernelContext, kernelName: string, op: BinaryOp): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const av = f32(backend, a);
    const bv = f32(backend, b);
    if (!av || !bv) return ctx.fallback(kernelName)(args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = outputBuffer(sizeOf(outShape));
    if (!broadcastBinary(ctx.addon, op, av, a.shape, bv, b.shape, out, outShape)) return ctx.fallback(kernelName)(args);
    return output(backend, outShape, out);
  };
  return { kernelName, backendName: 'native', kernelFunc };
}

export function eltwiseKernels(ctx: KernelContext): tf.KernelConfig[] {
  const relu: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { x } = args.inputs as { x: tf.TensorInfo };
    const xv = f32(backend, x);
    if (!xv) return ctx.fallback('Relu')(args);
    const y = outputBuffer(xv.length);
    ctx.addon.relu(xv, y, xv.length);
    return output(backend, x.shape, y);
  };
  const step: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { x } = args.inputs as { x: tf.TensorInfo };
    const xv = f32(backend, x);
    if (!xv) return ctx.fallback('Step')(args);
    const y = outputBuffer(xv.length);
    ctx.addon.step(xv, y, xv.length, (args.attrs?.alpha as number) ?? 0);
    return output(backend, x.shape, y);
  };
  const reluGrad: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
    check('ReluGrad', tf.util.arraysEqual(dy.shape, x.shape), () => `dy ${fmt(dy.shape)} must match x ${fmt(x.shape)}`);
    const dyv = f32(backend, dy);
    const xv = f32(backend, x);
    check('ReluGrad', dyv !== null && xv !== null, () => `dy and x must be float32, got ${dy.dtype} and ${x.dtype}`);
    const dx = outputBuffer(xv.length);
    ctx.addon.reluGrad(dyv, xv, dx, xv.length);
    return output(backend, x.shape, dx);
  };
  return [
    binaryKernel(ctx, 'Add', 'add'),
    binaryKernel(ctx, 'Sub', 'sub'),
    binaryKernel(ctx, 'Multiply', 'mul'),
    binaryKernel(ctx, 'RealDiv', 'div'),
    binaryKernel(ctx, 'Maximum', 'max'),
    binaryKernel(ctx, 'Minimum', 'min'),
    { kernelName: 'Relu', backendName: 'native', kernelFunc: relu },
    { kernelName: 'Step', backendName: 'native', kernelFunc: step },
    { kernelName: RELU_GRAD, backendName: 'native', kernelFunc: reluGrad },
  ];
}
