/**
 * The fused attention-stem kernels (native/src/attention_stem.cc): SasaStemAttention
 * (x [n,s,s,d_in], wq, wk [d_in,F], wv [P,d_in,F], relRow, relCol → y [n,s,s,F], lse [n,s,s,N])
 * and its gradient, for blocks of at most MAX_STEM_BLOCK_PIXELS; larger ones run the op's composed
 * kernels. The op (ops/attention_stem.ts) has validated the shapes; they are checked again here
 * before the addon sees them. Also SasaStemAttentionBlockMax and its gradient (the stem's attention, its
 * training batch norm and the max over each block in one kernel each way: ops/attention_stem_block_max.ts).
 */

import { STEM_ATTENTION_COMPOSED } from '../../ops/attention_stem.js';
import { STEM_ATTENTION_BLOCK_MAX_COMPOSED } from '../../ops/attention_stem_block_max.js';
import {
  STEM_ATTENTION,
  STEM_ATTENTION_BLOCK_MAX,
  STEM_ATTENTION_BLOCK_MAX_GRAD,
  STEM_ATTENTION_GRAD,
  type StemAttentionAttrs,
} from '../../ops/kernel_names.js';
import type * as tf from '../../tf.js';
import type { StemGeometryArg } from '../addon.js';
import {
  check,
  cpuBackend,
  floatsOf,
  fmt,
  type KernelArgs,
  type KernelContext,
  output,
  outputBuffer,
  sizeOf,
} from './util.js';

const OP = 'stemAttention';

/** The fused kernels take blocks of at most this many pixels (native/src/small_attention.h kSmallPixels). */
export const MAX_STEM_BLOCK_PIXELS = 100;

/** The op's composed kernel by name: what runs for blocks over MAX_STEM_BLOCK_PIXELS. */
function composed(kernelName: string): tf.KernelFunc {
  const kernel = [...STEM_ATTENTION_COMPOSED, ...STEM_ATTENTION_BLOCK_MAX_COMPOSED].find(
    (k) => k.kernelName === kernelName,
  );
  if (!kernel) throw new Error(`${OP}: no composed kernel ${kernelName}`);
  return kernel.kernelFunc;
}

/** Whether blocks x [n, s, s, d_in] exceed what the fused kernels take. */
const overTheLimit = (args: KernelArgs) => {
  const s = (args.inputs as Record<string, tf.TensorInfo>).x.shape[1];
  return s * s > MAX_STEM_BLOCK_PIXELS;
};

interface Plan {
  geometry: StemGeometryArg;
  yShape: number[];
  lseShape: number[];
}

function plan(inputs: Record<string, tf.TensorInfo>, attrs: StemAttentionAttrs): Plan {
  const { x, wq, wk, wv, relRow, relCol } = inputs;
  check(OP, x.shape.length === 4 && x.shape[1] === x.shape[2], () => `x must be [n,s,s,d_in], got ${fmt(x.shape)}`);
  const [n, s, , dIn] = x.shape;
  check(OP, s * s <= MAX_STEM_BLOCK_PIXELS, () => `blocks of ${s}x${s} exceed ${MAX_STEM_BLOCK_PIXELS} pixels`);
  check(OP, wq.shape.length === 2 && wq.shape[0] === dIn, () => `wq must be [${dIn},F], got ${fmt(wq.shape)}`);
  const F = wq.shape[1];
  check(OP, wk.shape.length === 2 && wk.shape[0] === dIn && wk.shape[1] === F, () => `wk ${fmt(wk.shape)} ≠ wq`);
  const P = wv.shape[0];
  check(
    OP,
    wv.shape.length === 3 && (P === 1 || P === s * s) && wv.shape[1] === dIn && wv.shape[2] === F,
    () => `wv must be [1 or ${s * s},${dIn},${F}], got ${fmt(wv.shape)}`,
  );
  const N = attrs.heads;
  check(OP, Number.isInteger(N) && N >= 1 && F % N === 0, () => `heads ${N} must divide channels ${F}`);
  const relative = attrs.relative === 1;
  if (relative) {
    for (const t of [relRow, relCol]) {
      check(
        OP,
        t.shape.length === 2 && t.shape[0] === 2 * s - 1 && t.shape[1] === F / 2,
        () => `tables must be [${2 * s - 1},${F / 2}], got ${fmt(t.shape)}`,
      );
    }
  }
  return {
    geometry: {
      blocks: n,
      side: s,
      inputChannels: dIn,
      filters: F,
      heads: N,
      positions: P,
      relative,
      scale: attrs.scale,
    },
    yShape: [n, s, s, F],
    lseShape: [n, s, s, N],
  };
}

export function stemAttentionKernels(ctx: KernelContext): tf.KernelConfig[] {
  const values = (args: KernelArgs, t: tf.TensorInfo, name: string) => floatsOf(OP, args, t, name);
  const composedForward = composed(STEM_ATTENTION);
  const composedBackward = composed(STEM_ATTENTION_GRAD);
  const forward: tf.KernelFunc = (args: KernelArgs) => {
    if (overTheLimit(args)) return composedForward(args);
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs as unknown as StemAttentionAttrs;
    const p = plan(inputs, attrs);
    const [x, wq, wk, wv, relRow, relCol] = ['x', 'wq', 'wk', 'wv', 'relRow', 'relCol'].map((n) =>
      values(args, inputs[n], n),
    );
    const y = outputBuffer(sizeOf(p.yShape));
    const lse = outputBuffer(sizeOf(p.lseShape));
    ctx.addon.stemAttentionForward(x, wq, wk, wv, relRow, relCol, y, lse, p.geometry);
    const backend = cpuBackend(args);
    return [output(backend, p.yShape, y), output(backend, p.lseShape, lse)];
  };
  const backward: tf.KernelFunc = (args: KernelArgs) => {
    if (overTheLimit(args)) return composedBackward(args);
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs as unknown as StemAttentionAttrs;
    const p = plan(inputs, attrs);
    const names = ['dy', 'x', 'wq', 'wk', 'wv', 'relRow', 'relCol', 'lse'];
    const [dy, x, wq, wk, wv, relRow, relCol, lse] = names.map((n) => values(args, inputs[n], n));
    check(OP, dy.length === sizeOf(p.yShape), () => `dy ${fmt(inputs.dy.shape)} must be ${fmt(p.yShape)}`);
    check(OP, lse.length === sizeOf(p.lseShape), () => `lse ${fmt(inputs.lse.shape)} must be ${fmt(p.lseShape)}`);
    const wantDx = attrs.inputGradient === 1;
    const dx = wantDx ? outputBuffer(x.length) : new Float32Array(0);
    const grads = [wq, wk, wv, relRow, relCol].map((t) => outputBuffer(t.length));
    const [dwq, dwk, dwv, dRelRow, dRelCol] = grads;
    ctx.addon.stemAttentionBackward(
      dy,
      x,
      wq,
      wk,
      wv,
      relRow,
      relCol,
      lse,
      dx,
      dwq,
      dwk,
      dwv,
      dRelRow,
      dRelCol,
      p.geometry,
    );
    const backend = cpuBackend(args);
    return [
      output(backend, wantDx ? inputs.x.shape : [0], dx),
      ...['wq', 'wk', 'wv', 'relRow', 'relCol'].map((n, i) => output(backend, inputs[n].shape, grads[i])),
    ];
  };
  return [
    { kernelName: STEM_ATTENTION, backendName: 'native', kernelFunc: forward },
    { kernelName: STEM_ATTENTION_GRAD, backendName: 'native', kernelFunc: backward },
    ...blockMaxKernels(ctx),
  ];
}

/** Input `name` as int32 of `n` values, or an error naming it. */
function intsOf(args: KernelArgs, t: tf.TensorInfo, name: string, n: number): Int32Array {
  const v = cpuBackend(args).data.get(t.dataId).values;
  check(
    OP,
    v instanceof Int32Array && v.length === n,
    () => `${name} must be int32 with ${n} values, got ${t.dtype} ${fmt(t.shape)}`,
  );
  return v as Int32Array;
}

/** The fused stem + batch norm + block max kernels (SasaStemAttentionBlockMax and its gradient). */
function blockMaxKernels(ctx: KernelContext): tf.KernelConfig[] {
  const values = (args: KernelArgs, t: tf.TensorInfo, name: string, n?: number) => {
    const v = floatsOf(OP, args, t, name);
    check(OP, n === undefined || v.length === n, () => `${name} must have ${n} values, got ${fmt(t.shape)}`);
    return v;
  };
  const composedForward = composed(STEM_ATTENTION_BLOCK_MAX);
  const composedBackward = composed(STEM_ATTENTION_BLOCK_MAX_GRAD);
  const forward: tf.KernelFunc = (args: KernelArgs) => {
    if (overTheLimit(args)) return composedForward(args);
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs as unknown as StemAttentionAttrs & { epsilon: number };
    const p = plan(inputs, attrs);
    const { blocks: n, filters: F } = p.geometry;
    const [x, wq, wk, wv, relRow, relCol] = ['x', 'wq', 'wk', 'wv', 'relRow', 'relCol'].map((name) =>
      values(args, inputs[name], name),
    );
    const [gamma, beta] = ['gamma', 'beta'].map((name) => values(args, inputs[name], name, F));
    const [out, extreme] = [outputBuffer(n * F), outputBuffer(n * F)];
    const [mean, variance] = [outputBuffer(F), outputBuffer(F)];
    const argmax = new Int32Array(n * F);
    const lse = outputBuffer(sizeOf(p.lseShape));
    ctx.addon.stemAttentionBlockMaxForward(
      x,
      wq,
      wk,
      wv,
      relRow,
      relCol,
      gamma,
      beta,
      out,
      mean,
      variance,
      extreme,
      argmax,
      lse,
      p.geometry,
      attrs.epsilon,
    );
    const backend = cpuBackend(args);
    return [
      output(backend, [n, 1, 1, F], out),
      output(backend, [F], mean),
      output(backend, [F], variance),
      output(backend, [n, F], extreme),
      backend.makeTensorInfo([n, F], 'int32', argmax),
      output(backend, p.lseShape, lse),
    ];
  };
  const backward: tf.KernelFunc = (args: KernelArgs) => {
    if (overTheLimit(args)) return composedBackward(args);
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs as unknown as StemAttentionAttrs & { epsilon: number };
    const p = plan(inputs, attrs);
    const { blocks: n, filters: F } = p.geometry;
    const [x, wq, wk, wv, relRow, relCol] = ['x', 'wq', 'wk', 'wv', 'relRow', 'relCol'].map((name) =>
      values(args, inputs[name], name),
    );
    const dy = values(args, inputs.dy, 'dy', n * F);
    const lse = values(args, inputs.lse, 'lse', sizeOf(p.lseShape));
    const extreme = values(args, inputs.extreme, 'extreme', n * F);
    const argmax = intsOf(args, inputs.argmax, 'argmax', n * F);
    const [mean, variance, gamma, dMean, dVariance] = ['mean', 'variance', 'gamma', 'dMean', 'dVariance'].map((name) =>
      values(args, inputs[name], name, F),
    );
    const wantDx = attrs.inputGradient === 1;
    const dx = wantDx ? outputBuffer(x.length) : new Float32Array(0);
    const grads = [wq, wk, wv, relRow, relCol].map((t) => outputBuffer(t.length));
    const [dgamma, dbeta] = [outputBuffer(F), outputBuffer(F)];
    ctx.addon.stemAttentionBlockMaxBackward(
      dy,
      x,
      wq,
      wk,
      wv,
      relRow,
      relCol,
      lse,
      extreme,
      argmax,
      mean,
      variance,
      gamma,
      dMean,
      dVariance,
      dx,
      ...(grads as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array]),
      dgamma,
      dbeta,
      p.geometry,
      attrs.epsilon,
    );
    const backend = cpuBackend(args);
    return [
      output(backend, wantDx ? inputs.x.shape : [0], dx),
      ...['wq', 'wk', 'wv', 'relRow', 'relCol'].map((name, i) => output(backend, inputs[name].shape, grads[i])),
      output(backend, [F], dgamma),
      output(backend, [F], dbeta),
    ];
  };
  return [
    { kernelName: STEM_ATTENTION_BLOCK_MAX, backendName: 'native', kernelFunc: forward },
    { kernelName: STEM_ATTENTION_BLOCK_MAX_GRAD, backendName: 'native', kernelFunc: backward },
  ];
}
