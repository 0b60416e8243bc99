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

/** The stem's operands, in the addon's order. */
const OPERANDS = ['x', 'wq', 'wk', 'wv', 'relRow', 'relCol'] as const;
type Operands = [
  x: Float32Array,
  wq: Float32Array,
  wk: Float32Array,
  wv: Float32Array,
  relRow: Float32Array,
  relCol: Float32Array,
];

/** A kernel call read: its inputs and attributes, the plan, and `values(name, n?)`: input `name` as floats (n of them). */
function prepare(args: KernelArgs) {
  const inputs = args.inputs as Record<string, tf.TensorInfo>;
  const attrs = args.attrs as unknown as StemAttentionAttrs & { epsilon: number };
  const p = plan(inputs, attrs);
  const values = (name: string, n?: number) => {
    const v = floatsOf(OP, args, inputs[name], name);
    check(OP, n === undefined || v.length === n, () => `${name} ${fmt(inputs[name].shape)} must have ${n} values`);
    return v;
  };
  const operands = OPERANDS.map((name) => values(name)) as Operands;
  return { inputs, attrs, p, values, operands, backend: cpuBackend(args) };
}

/** The gradient kernels' buffers: dx (empty unless inputGradient) and one per weight of the operands. */
function gradientBuffers(attrs: StemAttentionAttrs, [x, ...weights]: Operands) {
  const dx = attrs.inputGradient === 1 ? outputBuffer(x.length) : new Float32Array(0);
  return {
    dx,
    grads: weights.map((t) => outputBuffer(t.length)) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ],
  };
}

/** dx (or [0]) and the weights' gradients as the gradient kernels' first outputs. */
function gradientOutputs(r: ReturnType<typeof prepare>, dx: Float32Array, grads: Float32Array[]): tf.TensorInfo[] {
  return [
    output(r.backend, dx.length > 0 ? r.inputs.x.shape : [0], dx),
    ...OPERANDS.slice(1).map((name, i) => output(r.backend, r.inputs[name].shape, grads[i])),
  ];
}

export function stemAttentionKernels(ctx: KernelContext): tf.KernelConfig[] {
  const composedForward = composed(STEM_ATTENTION);
  const composedBackward = composed(STEM_ATTENTION_GRAD);
  const forward: tf.KernelFunc = (args: KernelArgs) => {
    if (overTheLimit(args)) return composedForward(args);
    const r = prepare(args);
    const y = outputBuffer(sizeOf(r.p.yShape));
    const lse = outputBuffer(sizeOf(r.p.lseShape));
    ctx.addon.stemAttentionForward(...r.operands, y, lse, r.p.geometry);
    return [output(r.backend, r.p.yShape, y), output(r.backend, r.p.lseShape, lse)];
  };
  const backward: tf.KernelFunc = (args: KernelArgs) => {
    if (overTheLimit(args)) return composedBackward(args);
    const r = prepare(args);
    const dy = r.values('dy', sizeOf(r.p.yShape));
    const lse = r.values('lse', sizeOf(r.p.lseShape));
    const { dx, grads } = gradientBuffers(r.attrs, r.operands);
    ctx.addon.stemAttentionBackward(dy, ...r.operands, lse, dx, ...grads, r.p.geometry);
    return gradientOutputs(r, dx, grads);
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
  const composedForward = composed(STEM_ATTENTION_BLOCK_MAX);
  const composedBackward = composed(STEM_ATTENTION_BLOCK_MAX_GRAD);
  const forward: tf.KernelFunc = (args: KernelArgs) => {
    if (overTheLimit(args)) return composedForward(args);
    const r = prepare(args);
    const { blocks: n, filters: F } = r.p.geometry;
    const [out, extreme] = [outputBuffer(n * F), outputBuffer(n * F)];
    const [mean, variance] = [outputBuffer(F), outputBuffer(F)];
    const argmax = new Int32Array(n * F);
    const lse = outputBuffer(sizeOf(r.p.lseShape));
    const [gamma, beta] = [r.values('gamma', F), r.values('beta', F)];
    ctx.addon.stemAttentionBlockMaxForward(
      ...r.operands,
      gamma,
      beta,
      out,
      mean,
      variance,
      extreme,
      argmax,
      lse,
      r.p.geometry,
      r.attrs.epsilon,
    );
    return [
      output(r.backend, [n, 1, 1, F], out),
      output(r.backend, [F], mean),
      output(r.backend, [F], variance),
      output(r.backend, [n, F], extreme),
      r.backend.makeTensorInfo([n, F], 'int32', argmax),
      output(r.backend, r.p.lseShape, lse),
    ];
  };
  const backward: tf.KernelFunc = (args: KernelArgs) => {
    if (overTheLimit(args)) return composedBackward(args);
    const r = prepare(args);
    const { blocks: n, filters: F } = r.p.geometry;
    const dy = r.values('dy', n * F);
    const lse = r.values('lse', sizeOf(r.p.lseShape));
    const extreme = r.values('extreme', n * F);
    const argmax = intsOf(args, r.inputs.argmax, 'argmax', n * F);
    const stats = (['mean', 'variance', 'gamma', 'dMean', 'dVariance'] as const).map((name) => r.values(name, F));
    const { dx, grads } = gradientBuffers(r.attrs, r.operands);
    const [dgamma, dbeta] = [outputBuffer(F), outputBuffer(F)];
    ctx.addon.stemAttentionBlockMaxBackward(
      dy,
      ...r.operands,
      lse,
      extreme,
      argmax,
      ...(stats as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array]),
      dx,
      ...grads,
      dgamma,
      dbeta,
      r.p.geometry,
      r.attrs.epsilon,
    );
    return [...gradientOutputs(r, dx, grads), output(r.backend, [F], dgamma), output(r.backend, [F], dbeta)];
  };
  return [
    { kernelName: STEM_ATTENTION_BLOCK_MAX, backendName: 'native', kernelFunc: forward },
    { kernelName: STEM_ATTENTION_BLOCK_MAX_GRAD, backendName: 'native', kernelFunc: backward },
  ];
}
