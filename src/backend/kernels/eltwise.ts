/**
 * Elementwise kernels: Add, Sub, Multiply, RealDiv, Maximum, Minimum (float32; operands equal in
 * shape, a scalar, or broadcast along trailing dimensions such as [C] against [B, H, W, C]),
 * Relu, Step, and SasaReluGrad (dx = dy · [x > 0]).
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon.js';
import { check, cpuBackend, f32, fmt, type KernelArgs, type KernelContext, output, sizeOf } from './util.js';

const OPS = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 } as const;
export type BinaryOp = keyof typeof OPS;

const FULL = 0;
const ROW = 1;
const SCALAR = 2;

/** How `shape` maps onto `outShape`: same size, one trailing row repeated, or one value. */
function operandMode(shape: number[], outShape: number[]): number | null {
  const size = sizeOf(shape);
  if (size === 1) return SCALAR;
  if (size === sizeOf(outShape)) return FULL;
  let first = 0;
  while (first < shape.length && shape[first] === 1) first++;
  const trailing = shape.slice(first);
  const tail = outShape.slice(outShape.length - trailing.length);
  return tf.util.arraysEqual(trailing, tail) ? ROW : null;
}

/** out = a ∘ b where a is [rows, inner] and b is [inner] (or the modes given). */
export function binaryInPlace(
  addon: NativeAddon,
  op: BinaryOp,
  a: Float32Array,
  b: Float32Array,
  rows: number,
  inner: number,
  out: Float32Array = a,
  modeA = FULL,
  modeB = ROW,
): void {
  addon.binary(a, b, out, Int32Array.from([OPS[op], modeA, modeB, rows, inner]));
}

function binaryKernel(ctx: KernelContext, kernelName: string, op: BinaryOp): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const av = f32(backend, a);
    const bv = f32(backend, b);
    if (!av || !bv) return ctx.fallback(kernelName)(args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const ma = operandMode(a.shape, outShape);
    const mb = operandMode(b.shape, outShape);
    if (ma === null || mb === null || (ma === ROW && mb === ROW)) return ctx.fallback(kernelName)(args);
    const total = sizeOf(outShape);
    const inner = ma === ROW ? av.length : mb === ROW ? bv.length : Math.max(total, 1);
    const out = new Float32Array(total);
    if (total > 0) binaryInPlace(ctx.addon, op, av, bv, total / inner, inner, out, ma, mb);
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
    const y = new Float32Array(xv.length);
    ctx.addon.relu(xv, y, xv.length);
    return output(backend, x.shape, y);
  };
  const step: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { x } = args.inputs as { x: tf.TensorInfo };
    const xv = f32(backend, x);
    if (!xv) return ctx.fallback('Step')(args);
    const y = new Float32Array(xv.length);
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
    const dx = new Float32Array(xv.length);
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
    { kernelName: 'SasaReluGrad', backendName: 'native', kernelFunc: reluGrad },
  ];
}
