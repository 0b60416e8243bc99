/**
 * The page of test/ops/webgl/kernels.test.ts: window.sasaKernelCheck(cases) runs each case on the
 * 'webgl' backend (sasa's WebGL kernels) and on the 'cpu' backend (the TypeScript / composed
 * kernels) from the same seeded inputs, and returns the largest differences of y (through the
 * public op), lse (the kernel's second output, inside a gradient scope) and a gradient (the TypeScript / composed backward
 * kernels on both backends, fed each forward kernel's lse).
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { stemAttention } from '../../../../src/ops/attention_stem.js';
import { LOCAL_ATTENTION, LOCAL_ATTENTION_PACKED, STEM_ATTENTION } from '../../../../src/ops/kernel_names.js';
import { attentionAttrs, localAttention2d } from '../../../../src/ops/local_attention/op.js';
import {
  effectiveScale,
  type LocalAttentionOptions,
  resolveGeometry,
} from '../../../../src/ops/local_attention/options.js';
import { localAttention2dPacked } from '../../../../src/ops/local_attention/packed.js';
import { type StemGeometry, stemAttentionWebgl } from '../../../../src/ops/webgl/attention_stem.js';
import { localAttentionPackedWebgl, localAttentionWebgl } from '../../../../src/ops/webgl/local_attention.js';
import { registerWebglKernels } from '../../../../src/ops/webgl/register.js';
import * as tf from '../../../../src/tf.js';

export type AttentionCase = {
  op: 'localAttention2d' | 'localAttention2dPacked';
  shape: [number, number, number, number];
  options: LocalAttentionOptions;
};
/** A stem attention case: the kernel's geometry, its scale the default one of filters and heads. */
export type StemCase = { op: 'stemAttention' } & Omit<StemGeometry, 'scale'>;
export type KernelCase = AttentionCase | StemCase;

export interface CaseResult {
  yError: number;
  lseError: number;
  /** The gradient of Σ y·r with respect to q (qkv; the stem: wq), through the forward kernel's lse. */
  gradError: number;
  yLargest: number;
  gradLargest: number;
  /** The kernel registered for 'webgl' under the case's name is sasa's WebGL one. */
  webglKernel: boolean;
  /** Tensors left behind by the case on either backend. */
  leaked: number;
}

/** mulberry32: uniform numbers in [lo, hi) from a seed. */
function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const tensor = (shape: number[], seed: number, spread: number) =>
  tf.tensor(uniform(size(shape), seed, -spread, spread), shape);

/** d/dx Σ f(x)·r for fixed random r: the backward kernels, fed the forward kernel's lse. */
function gradient(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, outputShape: number[]): tf.Tensor {
  const r = tensor(outputShape, 9, 1);
  return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), r)))(x);
}

/**
 * The lse output of `run` (a kernel's [y, lse]) run inside a gradient scope: the WebGL kernels compute
 * lse only while a gradient is recorded (src/ops/webgl/lse.ts).
 */
function recordedLse(run: () => tf.Tensor[]): tf.Tensor {
  let lse: tf.Tensor = tf.scalar(Number.NaN);
  tf.grad((t: tf.Tensor) => {
    lse = tf.keep(run()[1]);
    return tf.mul(t, 2);
  })(tf.scalar(1));
  return lse;
}

/** [y, lse] of a local attention case, y through the public op, lse through the kernel. */
function attentionOutputs(c: AttentionCase): tf.Tensor[] {
  const [b, h, w, channels] = c.shape;
  const logits = c.options.logits ?? 'qk+qr';
  const useQK = logits !== 'qr';
  const useQR = logits !== 'qk';
  const shape = [b, h, w, channels];
  const table = [c.options.kernelSize, channels / 2];
  const relRow = useQR ? (tensor(table, 4, 1) as tf.Tensor2D) : null;
  const relCol = useQR ? (tensor(table, 5, 1) as tf.Tensor2D) : null;
  const empty = tf.zeros([0]);
  const g = resolveGeometry(
    { q: shape, k: useQK ? shape : null, v: shape, relRow: relRow?.shape ?? null, relCol: relCol?.shape ?? null },
    c.options,
  );
  const attrs = attentionAttrs(g);
  const tables = { relRow: relRow ?? empty, relCol: relCol ?? empty };
  if (c.op === 'localAttention2dPacked') {
    const qkv = tensor([b, h, w, (useQK ? 3 : 2) * channels], 1, 2) as tf.Tensor4D;
    const y = localAttention2dPacked(qkv, relRow, relCol, c.options);
    const lse = recordedLse(
      () => tf.engine().runKernel(LOCAL_ATTENTION_PACKED, { qkv, ...tables }, attrs) as tf.Tensor[],
    );
    const dqkv = gradient((t) => localAttention2dPacked(t as tf.Tensor4D, relRow, relCol, c.options), qkv, shape);
    return [y, lse, dqkv];
  }
  const q = tensor(shape, 1, 2) as tf.Tensor4D;
  const k = useQK ? (tensor(shape, 2, 2) as tf.Tensor4D) : null;
  const v = tensor(shape, 3, 1) as tf.Tensor4D;
  const y = localAttention2d(q, k, v, relRow, relCol, c.options);
  const lse = recordedLse(
    () => tf.engine().runKernel(LOCAL_ATTENTION, { q, k: k ?? empty, v, ...tables }, attrs) as tf.Tensor[],
  );
  const dq = gradient((t) => localAttention2d(t as tf.Tensor4D, k, v, relRow, relCol, c.options), q, shape);
  return [y, lse, dq];
}

/** [y, lse] of a stem case, y through the public op, lse through the kernel. */
function stemOutputs(c: StemCase): tf.Tensor[] {
  const { blocks, block, inChannels, filters, positions, heads, relative } = c;
  const x = tensor([blocks, block, block, inChannels], 1, 2) as tf.Tensor4D;
  const wq = tensor([inChannels, filters], 2, 1) as tf.Tensor2D;
  const wk = tensor([inChannels, filters], 3, 1) as tf.Tensor2D;
  const wv = tensor([positions, inChannels, filters], 4, 1) as tf.Tensor3D;
  const table = [2 * block - 1, filters / 2];
  const relRow = relative ? (tensor(table, 5, 1) as tf.Tensor2D) : null;
  const relCol = relative ? (tensor(table, 6, 1) as tf.Tensor2D) : null;
  const y = stemAttention(x, wq, wk, wv, relRow, relCol, { heads });
  const empty = tf.zeros([0]);
  const attrs = {
    heads,
    scale: effectiveScale(filters, heads, undefined),
    relative: relative ? 1 : 0,
    inputGradient: 0,
  };
  const inputs = { x, wq, wk, wv, relRow: relRow ?? empty, relCol: relCol ?? empty };
  const lse = recordedLse(() => tf.engine().runKernel(STEM_ATTENTION, inputs, attrs) as tf.Tensor[]);
  const dwq = gradient((t) => stemAttention(x, t as tf.Tensor2D, wk, wv, relRow, relCol, { heads }), wq, y.shape);
  return [y, lse, dwq];
}

async function outputsOn(
  backend: string,
  c: KernelCase,
): Promise<{ y: Float32Array; lse: Float32Array; grad: Float32Array; leaked: number }> {
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend)
    throw new Error(`backend ${backend} did not start`);
  const before = tf.memory().numTensors;
  const outputs = tf.tidy(() => (c.op === 'stemAttention' ? stemOutputs(c) : attentionOutputs(c)));
  const [y, lse, grad] = (await Promise.all(outputs.map((t) => t.data()))) as Float32Array[];
  tf.dispose(outputs);
  return { y, lse, grad, leaked: tf.memory().numTensors - before };
}

const maxDifference = (a: Float32Array, b: Float32Array) =>
  a.length === b.length ? a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0) : Number.POSITIVE_INFINITY;

const WEBGL_KERNELS: Record<KernelCase['op'], [string, tf.KernelFunc]> = {
  localAttention2d: [LOCAL_ATTENTION, localAttentionWebgl],
  localAttention2dPacked: [LOCAL_ATTENTION_PACKED, localAttentionPackedWebgl],
  stemAttention: [STEM_ATTENTION, stemAttentionWebgl],
};

async function check(c: KernelCase): Promise<CaseResult> {
  registerWebglKernels();
  const webgl = await outputsOn('webgl', c);
  const [name, func] = WEBGL_KERNELS[c.op];
  const webglKernel = tf.getKernel(name, 'webgl')?.kernelFunc === func;
  const cpu = await outputsOn('cpu', c);
  return {
    yError: maxDifference(webgl.y, cpu.y),
    lseError: maxDifference(webgl.lse, cpu.lse),
    gradError: maxDifference(webgl.grad, cpu.grad),
    yLargest: cpu.y.reduce((m, x) => Math.max(m, Math.abs(x)), 0),
    gradLargest: cpu.grad.reduce((m, x) => Math.max(m, Math.abs(x)), 0),
    webglKernel,
    leaked: webgl.leaked + cpu.leaked,
  };
}

(window as unknown as { sasaKernelCheck: unknown }).sasaKernelCheck = async (cases: KernelCase[]) => {
  const results: CaseResult[] = [];
  for (const c of cases) results.push(await check(c));
  return results;
};
