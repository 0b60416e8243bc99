/**
 * The fused attention-stem kernels (native/src/attention_stem.cc): SasaStemAttention
 * (x [n,s,s,d_in], wq, wk [d_in,F], wv [P,d_in,F], relRow, relCol → y [n,s,s,F], lse [n,s,s,N])
 * and its gradient, for blocks of at most MAX_STEM_BLOCK_PIXELS; larger ones run the op's composed
 * kernels. The op (ops/attention_stem.ts) has validated the shapes; they are checked again here
 * before the addon sees them.
 */

import { STEM_ATTENTION_COMPOSED } from '../../ops/attention_stem.js';
import { STEM_ATTENTION, STEM_ATTENTION_GRAD, type StemAttentionAttrs } from '../../ops/kernel_names.js';
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
  const kernel = STEM_ATTENTION_COMPOSED.find((k) => k.kernelName === kernelName);
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
  ];
}
