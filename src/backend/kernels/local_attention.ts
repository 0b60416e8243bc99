/**
 * The fused local self-attention kernels (native/src/local_attention.cc):
 * SasaLocalAttention (q, k, v, relRow, relCol → y [B,H,W,C], lse [B,H,W,N]) and its gradient.
 * The op (ops/local_attention) has validated the options; here the shapes are checked again
 * before the addon sees them.
 */
import type * as tf from '@tensorflow/tfjs';
import { LOCAL_ATTENTION, LOCAL_ATTENTION_GRAD, type LocalAttentionAttrs } from '../kernel_names.js';
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

const OP = 'localAttention2d';

interface Plan {
  geometry: Int32Array;
  scale: number;
  shape: number[];
  lseShape: number[];
}

function plan(inputs: Record<string, tf.TensorInfo>, attrs: LocalAttentionAttrs): Plan {
  const { q, k, v, relRow, relCol } = inputs;
  check(OP, q.shape.length === 4, () => `q must be [B,H,W,C], got ${fmt(q.shape)}`);
  const [B, H, W, C] = q.shape;
  const useQK = attrs.logits !== 'qr';
  const useQR = attrs.logits !== 'qk';
  const K = attrs.kernelSize;
  const N = attrs.heads;
  check(OP, Number.isInteger(K) && K % 2 === 1, () => `kernelSize must be odd, got ${K}`);
  check(OP, Number.isInteger(N) && N >= 1 && C % N === 0, () => `heads ${N} must divide channels ${C}`);
  const same = (t: tf.TensorInfo) => t.shape.length === 4 && t.shape.every((d, i) => d === q.shape[i]);
  check(OP, same(v), () => `v ${fmt(v.shape)} must match q ${fmt(q.shape)}`);
  if (useQK) check(OP, same(k), () => `k ${fmt(k.shape)} must match q ${fmt(q.shape)}`);
  if (useQR) {
    check(OP, C % 2 === 0, () => `channels ${C} must be even for relative logits`);
    for (const t of [relRow, relCol]) {
      check(
        OP,
        t.shape.length === 2 && t.shape[0] === K && t.shape[1] === C / 2,
        () => `tables must be [${K},${C / 2}], got ${fmt(t.shape)}`,
      );
    }
  }
  const geometry = Int32Array.from([
    B,
    H,
    W,
    C,
    K,
    N,
    attrs.padding === 'masked' ? 1 : 0,
    useQK ? 1 : 0,
    useQR ? 1 : 0,
  ]);
  return { geometry, scale: attrs.scale, shape: q.shape, lseShape: [B, H, W, N] };
}

export function localAttentionKernels(ctx: KernelContext): tf.KernelConfig[] {
  const values = (args: KernelArgs, t: tf.TensorInfo, name: string) => {
    const v = f32(cpuBackend(args), t);
    check(OP, v !== null, () => `${name} must be float32, got ${t.dtype}`);
    return v;
  };
  const forward: tf.KernelFunc = (args: KernelArgs) => {
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    const p = plan(inputs, args.attrs as unknown as LocalAttentionAttrs);
    const y = outputBuffer(sizeOf(p.shape));
    const lse = outputBuffer(sizeOf(p.lseShape));
    const [q, k, v, relRow, relCol] = ['q', 'k', 'v', 'relRow', 'relCol'].map((n) => values(args, inputs[n], n));
    ctx.addon.localAttentionForward(q, k, v, relRow, relCol, y, lse, p.geometry, p.scale);
    const backend = cpuBackend(args);
    return [output(backend, p.shape, y), output(backend, p.lseShape, lse)];
  };
  const backward: tf.KernelFunc = (args: KernelArgs) => {
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    const p = plan(inputs, args.attrs as unknown as LocalAttentionAttrs);
    const names = ['dy', 'q', 'k', 'v', 'relRow', 'relCol', 'lse'];
    const [dy, q, k, v, relRow, relCol, lse] = names.map((n) => values(args, inputs[n], n));
    check(OP, dy.length === sizeOf(p.shape), () => `dy ${fmt(inputs.dy.shape)} must match q ${fmt(p.shape)}`);
    check(OP, lse.length === sizeOf(p.lseShape), () => `lse ${fmt(inputs.lse.shape)} must be ${fmt(p.lseShape)}`);
    const grads = [q, k, v, relRow, relCol].map((t) => outputBuffer(t.length));
    const [dq, dk, dv, dRelRow, dRelCol] = grads;
    ctx.addon.localAttentionBackward(
      dy,
      q,
      k,
      v,
      relRow,
      relCol,
      lse,
      dq,
      dk,
      dv,
      dRelRow,
      dRelCol,
      p.geometry,
      p.scale,
    );
    const backend = cpuBackend(args);
    return ['q', 'k', 'v', 'relRow', 'relCol'].map((n, i) => output(backend, inputs[n].shape, grads[i]));
  };
  return [
    { kernelName: LOCAL_ATTENTION, backendName: 'native', kernelFunc: forward },
    { kernelName: LOCAL_ATTENTION_GRAD, backendName: 'native', kernelFunc: backward },
  ];
}
