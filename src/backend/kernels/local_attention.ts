/**
 * The fused local self-attention kernels (native/src/local_attention.cc):
 * SasaLocalAttention (q, k, v, relRow, relCol → y [B,H,W,C], lse [B,H,W,N]) and its gradient,
 * and SasaLocalAttentionPacked, the same on q|k|v packed in one [B,H,W,P·C] tensor (the kernels
 * read and write views of it with pixel stride P·C); SasaLocalAttentionPackedInference, its y alone with the
 * 2×2 average pooling, a bias and a ReLU applied as it is written; SasaLocalAttentionPackedPooled (and its
 * gradient), the packed training kernels with the 2×2 average pooling written as y is (read as dy is, backward).
 * Shapes and attributes are checked by the op's own function (ops/local_attention/options.ts)
 * before the addon sees them; the addon checks the geometry once more (native/src/attention_common.h).
 */

import {
  LOCAL_ATTENTION,
  LOCAL_ATTENTION_GRAD,
  LOCAL_ATTENTION_PACKED,
  LOCAL_ATTENTION_PACKED_GRAD,
  LOCAL_ATTENTION_PACKED_INFERENCE,
  LOCAL_ATTENTION_PACKED_POOLED,
  LOCAL_ATTENTION_PACKED_POOLED_GRAD,
  type LocalAttentionAttrs,
} from '../../ops/kernel_names.js';
import {
  type AttentionGeometry,
  type KernelShapes,
  kernelGeometry,
  kernelShapes,
} from '../../ops/local_attention/options.js';
import type * as tf from '../../tf.js';
import type { AttentionGeometryArg } from '../addon.js';
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

const OP = 'localAttention2d';

interface Plan {
  geometry: AttentionGeometryArg;
  shape: number[];
  lseShape: number[];
}

/** The addon's geometry argument: the resolved geometry's fields by name (and the packed pixel stride). */
function geometryArg(g: AttentionGeometry, pixelStride?: number): AttentionGeometryArg {
  const { batch, height, width, channels, kernelSize, heads, masked, useQK, useQR, scale } = g;
  const arg = { batch, height, width, channels, kernelSize, heads, masked, useQK, useQR, scale };
  return pixelStride === undefined ? arg : { ...arg, pixelStride };
}

/** Checks the shapes and attributes (ops/local_attention/options.ts, as the op does) and plans the call. */
function plan(shapes: KernelShapes, attrs: LocalAttentionAttrs, pixelStride?: number): Plan {
  const g = kernelGeometry(shapes, attrs);
  const { batch: B, height: H, width: W, channels: C, heads: N } = g;
  return { geometry: geometryArg(g, pixelStride), shape: [B, H, W, C], lseShape: [B, H, W, N] };
}

/** The plan of a packed call: q|k|v (or q|v) in qkv [B,H,W,P·C]; the views' offsets. */
function packedPlan(inputs: Record<string, tf.TensorInfo>, attrs: LocalAttentionAttrs) {
  const { qkv } = inputs;
  check(OP, qkv.shape.length === 4, () => `qkv must be [B,H,W,P·C], got ${fmt(qkv.shape)}`);
  const parts = attrs.logits === 'qr' ? 2 : 3;
  const packed = qkv.shape[3];
  check(OP, packed % parts === 0, () => `qkv channels ${packed} must be ${parts}·C`);
  const C = packed / parts;
  const [B, H, W] = qkv.shape;
  const shape = [B, H, W, C];
  const p = plan(
    { q: shape, k: parts === 3 ? shape : [0], v: shape, relRow: inputs.relRow.shape, relCol: inputs.relCol.shape },
    attrs,
    packed,
  );
  return { ...p, C, parts };
}

/** y's shape [B, H, W, C], or [B, H/2, W/2, C] when pooled (H, W even: checked). */
function pooledShape(shape: number[], pool: boolean): number[] {
  const [B, H, W, C] = shape;
  if (!pool) return shape;
  check(OP, H % 2 === 0 && W % 2 === 0, () => `pool needs an even height and width, got ${fmt(shape)}`);
  return [B, H / 2, W / 2, C];
}

/** Views q, k (null for 'qr') and v of packed values (pixel stride P·C). */
function views(values: Float32Array, C: number, parts: number) {
  return {
    q: values.subarray(0),
    k: parts === 3 ? values.subarray(C) : new Float32Array(0),
    v: values.subarray((parts - 1) * C),
  };
}

export function localAttentionKernels(ctx: KernelContext): tf.KernelConfig[] {
  const values = (args: KernelArgs, t: tf.TensorInfo, name: string) => floatsOf(OP, args, t, name);
  const forward: tf.KernelFunc = (args: KernelArgs) => {
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    const p = plan(kernelShapes(inputs), args.attrs as unknown as LocalAttentionAttrs);
    const y = outputBuffer(sizeOf(p.shape));
    const lse = outputBuffer(sizeOf(p.lseShape));
    const [q, k, v, relRow, relCol] = ['q', 'k', 'v', 'relRow', 'relCol'].map((n) => values(args, inputs[n], n));
    ctx.addon.localAttentionForward(q, k, v, relRow, relCol, y, lse, p.geometry);
    const backend = cpuBackend(args);
    return [output(backend, p.shape, y), output(backend, p.lseShape, lse)];
  };
  const backward: tf.KernelFunc = (args: KernelArgs) => {
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    const p = plan(kernelShapes(inputs), args.attrs as unknown as LocalAttentionAttrs);
    const names = ['dy', 'q', 'k', 'v', 'relRow', 'relCol', 'lse'];
    const [dy, q, k, v, relRow, relCol, lse] = names.map((n) => values(args, inputs[n], n));
    check(OP, dy.length === sizeOf(p.shape), () => `dy ${fmt(inputs.dy.shape)} must match q ${fmt(p.shape)}`);
    check(OP, lse.length === sizeOf(p.lseShape), () => `lse ${fmt(inputs.lse.shape)} must be ${fmt(p.lseShape)}`);
    const grads = [q, k, v, relRow, relCol].map((t) => outputBuffer(t.length));
    const [dq, dk, dv, dRelRow, dRelCol] = grads;
    ctx.addon.localAttentionBackward(dy, q, k, v, relRow, relCol, lse, dq, dk, dv, dRelRow, dRelCol, p.geometry);
    const backend = cpuBackend(args);
    return ['q', 'k', 'v', 'relRow', 'relCol'].map((n, i) => output(backend, inputs[n].shape, grads[i]));
  };
  /** The packed forward; with pool, y 2×2-average-pooled as the kernel writes it. */
  const packedForward =
    (pool: boolean): tf.KernelFunc =>
    (args: KernelArgs) => {
      const inputs = args.inputs as Record<string, tf.TensorInfo>;
      const p = packedPlan(inputs, args.attrs as unknown as LocalAttentionAttrs);
      const { q, k, v } = views(values(args, inputs.qkv, 'qkv'), p.C, p.parts);
      const [relRow, relCol] = ['relRow', 'relCol'].map((n) => values(args, inputs[n], n));
      const shape = pooledShape(p.shape, pool);
      const y = outputBuffer(sizeOf(shape));
      const lse = outputBuffer(sizeOf(p.lseShape));
      ctx.addon.localAttentionForward(q, k, v, relRow, relCol, y, lse, p.geometry, pool);
      const backend = cpuBackend(args);
      return [output(backend, shape, y), output(backend, p.lseShape, lse)];
    };
  const packedInference: tf.KernelFunc = (args: KernelArgs) => {
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs as unknown as LocalAttentionAttrs & { relu: boolean; pool: boolean };
    const p = packedPlan(inputs, attrs);
    const { q, k, v } = views(values(args, inputs.qkv, 'qkv'), p.C, p.parts);
    const [relRow, relCol, bias] = ['relRow', 'relCol', 'bias'].map((n) => values(args, inputs[n], n));
    check(
      OP,
      bias.length === 0 || bias.length === p.C,
      () => `bias ${fmt(inputs.bias.shape)} must be [${p.C}] or empty`,
    );
    const [B, H, W, C] = p.shape;
    const pool = Boolean(attrs.pool);
    check(OP, !pool || (H % 2 === 0 && W % 2 === 0), () => `pool needs an even height and width, got ${fmt(p.shape)}`);
    const shape = pool ? [B, H / 2, W / 2, C] : p.shape;
    const y = outputBuffer(sizeOf(shape));
    ctx.addon.localAttentionInference(q, k, v, relRow, relCol, bias, y, p.geometry, Boolean(attrs.relu), pool);
    return output(cpuBackend(args), shape, y);
  };
  /** The packed gradient; with pool, of the pooled y (dy [B, H/2, W/2, C]). */
  const packedBackward =
    (pool: boolean): tf.KernelFunc =>
    (args: KernelArgs) => {
      const inputs = args.inputs as Record<string, tf.TensorInfo>;
      const p = packedPlan(inputs, args.attrs as unknown as LocalAttentionAttrs);
      const [dy, qkv, relRow, relCol, lse] = ['dy', 'qkv', 'relRow', 'relCol', 'lse'].map((n) =>
        values(args, inputs[n], n),
      );
      const shape = pooledShape(p.shape, pool);
      check(OP, dy.length === sizeOf(shape), () => `dy ${fmt(inputs.dy.shape)} must be ${fmt(shape)}`);
      check(OP, lse.length === sizeOf(p.lseShape), () => `lse ${fmt(inputs.lse.shape)} must be ${fmt(p.lseShape)}`);
      const { q, k, v } = views(qkv, p.C, p.parts);
      const dqkv = outputBuffer(qkv.length);
      const d = views(dqkv, p.C, p.parts);
      const dRelRow = outputBuffer(relRow.length);
      const dRelCol = outputBuffer(relCol.length);
      const rel = [dRelRow, dRelCol] as const;
      ctx.addon.localAttentionBackward(dy, q, k, v, relRow, relCol, lse, d.q, d.k, d.v, ...rel, p.geometry, pool);
      const backend = cpuBackend(args);
      return [
        output(backend, inputs.qkv.shape, dqkv),
        output(backend, inputs.relRow.shape, dRelRow),
        output(backend, inputs.relCol.shape, dRelCol),
      ];
    };
  return [
    { kernelName: LOCAL_ATTENTION, backendName: 'native', kernelFunc: forward },
    { kernelName: LOCAL_ATTENTION_GRAD, backendName: 'native', kernelFunc: backward },
    { kernelName: LOCAL_ATTENTION_PACKED, backendName: 'native', kernelFunc: packedForward(false) },
    { kernelName: LOCAL_ATTENTION_PACKED_GRAD, backendName: 'native', kernelFunc: packedBackward(false) },
    { kernelName: LOCAL_ATTENTION_PACKED_POOLED, backendName: 'native', kernelFunc: packedForward(true) },
    { kernelName: LOCAL_ATTENTION_PACKED_POOLED_GRAD, backendName: 'native', kernelFunc: packedBackward(true) },
    { kernelName: LOCAL_ATTENTION_PACKED_INFERENCE, backendName: 'native', kernelFunc: packedInference },
  ];
}
