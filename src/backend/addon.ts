/**
 * Loads the oneDNN addon (build/Release/sasa_native.node) and types its functions.
 * Every function writes into preallocated Float32Arrays in place; the geometry of convolution,
 * pooling and attention travels as an object read by name, that of the flat kernels (matmul, batch
 * norm, elementwise) as a short Int32Array documented at each function. Callers validate shapes first: the addon only re-checks buffer lengths.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FocalLossRows } from './host_kernels.js';

/**
 * What the native addon reports about itself (`info()`): its oneDNN build, the instruction set oneDNN runs
 * on, its OpenMP threads and what its own kernels were compiled for.
 */
export interface NativeInfo {
  /** oneDNN's version, 'major.minor.patch'. */
  onednnVersion: string;
  /** oneDNN's git commit hash. */
  onednnHash: string;
  /** The CPU instruction set oneDNN dispatches to (its effective ISA, e.g. 'avx2', 'avx512_core'). */
  isa: string;
  /** OpenMP threads the kernels run on. */
  threads: number;
  /** The OpenMP version the addon was built with (`_OPENMP`, a yyyymm date). */
  openmp: number;
  /** The instruction set the addon's own kernels were compiled for: 'avx512', 'avx2+fma' or 'generic'. */
  compiledFor: string;
  /** Whether freed buffers up to 32 MB stay in the heap for reuse (SASA_MALLOC_TUNING). */
  mallocTuned: boolean;
  /** The largest local-attention kernel size the native kernels take (ops' MAX_KERNEL_SIZE, checked by a test). */
  maxKernelSize: number;
}

/**
 * The geometry of a local-attention call, read by name in C++ (native/src/attention_common.h
 * Geometry::from): q, k, v [batch, height, width, channels], a kernelSize² memory block, `heads`
 * heads; pixelStride (> channels) when q, k, v are views of one packed tensor.
 */
export interface AttentionGeometryArg {
  batch: number;
  height: number;
  width: number;
  channels: number;
  kernelSize: number;
  heads: number;
  masked: boolean;
  useQK: boolean;
  useQR: boolean;
  scale: number;
  pixelStride?: number;
}

/**
 * The geometry of an attention-stem call, read by name in C++ (native/src/attention_stem.cc
 * Stem::from): x [blocks, side, side, inputChannels], wq, wk [inputChannels, filters],
 * wv [positions, inputChannels, filters].
 */
export interface StemGeometryArg {
  blocks: number;
  side: number;
  inputChannels: number;
  filters: number;
  heads: number;
  positions: number;
  relative: boolean;
  scale: number;
}

/**
 * The geometry of a convolution, read by name in C++ (native/src/conv.cc ConvShape::from): tfjs's
 * ConvInfo fields, x [batch, inHeight, inWidth, inChannels], w [filterHeight, filterWidth, inChannels,
 * outChannels], y [batch, outHeight, outWidth, outChannels]; dilations as tfjs counts them (1: none);
 * the padding on each side.
 */
export interface ConvGeometryArg {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  outHeight: number;
  outWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
}

/**
 * The geometry of a 2-D pooling, read by name in C++ (native/src/pool.cc PoolShape::from): x [batch,
 * inHeight, inWidth, channels], y [batch, outHeight, outWidth, channels], windows filterHeight ×
 * filterWidth moved by the strides, padTop / padLeft rows and columns of padding before the first.
 */
export interface PoolGeometryArg {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

export interface NativeAddon {
  info(): NativeInfo;
  setThreads(n: number): number;
  /** Detaches `buffer` (every view of it becomes empty) and frees its memory now; absent in addons built before it. */
  releaseBuffer?(buffer: ArrayBuffer): void;
  /** malloc's account of the process (mallinfo2, all arenas), in bytes; absent in addons built before it. */
  mallocStats?(): { heapBytes: number; inUseBytes: number; freeBytes: number; mmappedBytes: number };
  /** Returns malloc's free heap pages to the OS (malloc_trim); absent in addons built before it. */
  trimMalloc?(): void;
  /**
   * Tokens (optional, 0 = none) name tensors' contents: backward reuses forward's reorders of x, and
   * a filter seen twice under one token keeps its reorder (until convForgetFilter).
   */
  convForward(
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    geometry: ConvGeometryArg,
    xToken?: number,
    filterToken?: number,
  ): void;
  /**
   * y = conv(x, w) + bias [OC] (+ residual, y's shape), then max(0, ·) when relu, in one oneDNN primitive
   * (tokens as convForward's).
   */
  convForwardFused(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array,
    y: Float32Array,
    geometry: ConvGeometryArg,
    relu: boolean,
    xToken?: number,
    filterToken?: number,
    residual?: Float32Array,
  ): void;
  /** Drops the filter cache's entry for a token whose tensor was freed; returns how many filters stay cached. */
  convForgetFilter(filterToken: number): number;
  convBackwardData(
    dy: Float32Array,
    w: Float32Array,
    dx: Float32Array,
    geometry: ConvGeometryArg,
    dyToken?: number,
  ): void;
  /** Writes the filter gradient into dw; returns whether every value of it is finite. */
  convBackwardWeights(
    x: Float32Array,
    dy: Float32Array,
    dw: Float32Array,
    geometry: ConvGeometryArg,
    xToken?: number,
    dyToken?: number,
  ): boolean;
  /** geometry: batchA, batchB, batch, m, n, k, transposeA, transposeB; tables: batch index maps */
  batchMatMul(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    geometry: Int32Array,
    batchIndexA?: Int32Array,
    batchIndexB?: Int32Array,
  ): void;
  /** geometry: N, S (pixels per sample), C */
  bnTrainForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    geometry: Int32Array,
    epsilon: number,
    /** y = max(0, ·) */
    relu?: boolean,
  ): void;
  /** geometry: N, S, C; y [N, C] = max over S of the batch norm, argmax its first position */
  bnBlockMaxForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    argmax: Int32Array,
    mean: Float32Array,
    variance: Float32Array,
    geometry: Int32Array,
    epsilon: number,
  ): void;
  /** geometry: N, S, C */
  bnBlockMaxBackward(
    x: Float32Array,
    dy: Float32Array,
    argmax: Int32Array,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    geometry: Int32Array,
    epsilon: number,
  ): void;
  /** geometry: N, S, C; relu: the forward applied max(0, ·) (dy gated where it was 0) */
  bnBackward(
    x: Float32Array,
    dy: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    geometry: Int32Array,
    epsilon: number,
    relu?: boolean,
  ): void;
  /** geometry: rows, C */
  bnInference(
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    scale: Float32Array | null,
    offset: Float32Array | null,
    y: Float32Array,
    geometry: Int32Array,
    epsilon: number,
  ): void;
  maxPoolForward(x: Float32Array, y: Float32Array, geometry: PoolGeometryArg): void;
  maxPoolBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, geometry: PoolGeometryArg): void;
  avgPoolForward(x: Float32Array, y: Float32Array, geometry: PoolGeometryArg): void;
  avgPoolBackward(dy: Float32Array, dx: Float32Array, geometry: PoolGeometryArg): void;
  /** geometry: op, rank, shape[rank], stridesA[rank], stridesB[rank] (see broadcastPlan) */
  binary(a: Float32Array, b: Float32Array, out: Float32Array, geometry: Int32Array): void;
  relu(x: Float32Array, y: Float32Array, n: number): void;
  reluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, n: number): void;
  step(x: Float32Array, y: Float32Array, n: number, alpha: number): void;
  sgdUpdate(
    w: Float32Array,
    v: Float32Array,
    g: Float32Array,
    wOut: Float32Array,
    vOut: Float32Array,
    n: number,
    lr: number,
    momentum: number,
    weightDecay: number,
    nesterov: number,
  ): void;
  /** The weighted focal loss pass (host_kernels.ts' FocalLossRows); absent in addons built before it. */
  focalLossRows?: FocalLossRows;
  /** Unused inputs may be empty. With pool (H, W even), y [B, H/2, W/2, C] is the 2×2 average of the attention's. */
  localAttentionForward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    relRow: Float32Array,
    relCol: Float32Array,
    y: Float32Array,
    lse: Float32Array,
    geometry: AttentionGeometryArg,
    pool?: boolean,
  ): void;
  /**
   * localAttentionForward's y without lse, 2×2-average-pooled with pool (y [B, H/2, W/2, C]; H, W even), then
   * y + bias (empty: none) and max(·, 0) with relu.
   */
  localAttentionInference(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    relRow: Float32Array,
    relCol: Float32Array,
    bias: Float32Array,
    y: Float32Array,
    geometry: AttentionGeometryArg,
    relu: boolean,
    pool: boolean,
  ): void;
  localAttentionBackward(
    dy: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    relRow: Float32Array,
    relCol: Float32Array,
    lse: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    dRelRow: Float32Array,
    dRelCol: Float32Array,
    geometry: AttentionGeometryArg,
    /** dy [B, H/2, W/2, C]: the gradient of localAttentionForward's pooled y. */
    pool?: boolean,
  ): void;
  /** y[i] = e^x[i] for i < n as the attention kernels' softmax computes it (x <= 0; 0 below -87): for tests */
  attentionExp(x: Float32Array, y: Float32Array, n: number): void;
  /** The tables may be empty without relative logits. */
  stemAttentionForward(
    x: Float32Array,
    wq: Float32Array,
    wk: Float32Array,
    wv: Float32Array,
    relRow: Float32Array,
    relCol: Float32Array,
    y: Float32Array,
    lse: Float32Array,
    geometry: StemGeometryArg,
  ): void;
  /** dx empty: not computed */
  stemAttentionBackward(
    dy: Float32Array,
    x: Float32Array,
    wq: Float32Array,
    wk: Float32Array,
    wv: Float32Array,
    relRow: Float32Array,
    relCol: Float32Array,
    lse: Float32Array,
    dx: Float32Array,
    dwq: Float32Array,
    dwk: Float32Array,
    dwv: Float32Array,
    dRelRow: Float32Array,
    dRelCol: Float32Array,
    geometry: StemGeometryArg,
  ): void;
  /** stemAttentionForward's y through the training batch norm and the max over each block, without y */
  stemAttentionBlockMaxForward(
    x: Float32Array,
    wq: Float32Array,
    wk: Float32Array,
    wv: Float32Array,
    relRow: Float32Array,
    relCol: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    out: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    extreme: Float32Array,
    argmax: Int32Array,
    lse: Float32Array,
    geometry: StemGeometryArg,
    epsilon: number,
  ): void;
  /** dx empty: not computed */
  stemAttentionBlockMaxBackward(
    dOut: Float32Array,
    x: Float32Array,
    wq: Float32Array,
    wk: Float32Array,
    wv: Float32Array,
    relRow: Float32Array,
    relCol: Float32Array,
    lse: Float32Array,
    extreme: Float32Array,
    argmax: Int32Array,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array,
    dMean: Float32Array,
    dVariance: Float32Array,
    dx: Float32Array,
    dwq: Float32Array,
    dwk: Float32Array,
    dwv: Float32Array,
    dRelRow: Float32Array,
    dRelCol: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    geometry: StemGeometryArg,
    epsilon: number,
  ): void;
  /** geometry: outer, reduce, inner */
  reduceSum(x: Float32Array, y: Float32Array, geometry: Int32Array, mean: boolean): void;
  /** y (contiguous) = x[offset + Σ i_d·stride_d]; geometry: rank, shape[rank], stride[rank], offset */
  stridedCopy(x: Float32Array, y: Float32Array, geometry: Int32Array): void;
  /** geometry: rank, xShape[rank], before[rank], after[rank]; borders get constantValue */
  padConstant(x: Float32Array, y: Float32Array, geometry: Int32Array, constantValue: number): void;
}

export type AddonLoad = { addon: NativeAddon; path: string } | { addon: null; reason: string };

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let cached: AddonLoad | undefined;

/**
 * Why the addon at `path` (build/Release/sasa_native.node) is missing: the reason the install script
 * (scripts/build-native.mjs) recorded in build/NOT_BUILT when it skipped the build, or no build/ at all
 * when the script never ran (npm --ignore-scripts, or an npm that blocks install scripts not approved).
 */
function missingReason(path: string): string {
  const build = join(dirname(path), '..');
  const note = join(build, 'NOT_BUILT');
  if (existsSync(note)) return `the addon was not built at install: ${readFileSync(note, 'utf8').trim()}`;
  if (!existsSync(build)) {
    return `the install script did not run (no ${build}; npm 12 runs it once allowed: npm install-scripts approve sasa)`;
  }
  return `the addon was not built (${path} is missing)`;
}

/**
 * OpenMP's wait policy when the environment sets none: 'passive', so a thread that reaches the end of
 * a parallel region sleeps instead of spinning. libgomp reads OMP_WAIT_POLICY once, when the addon
 * loads it, so it goes into the environment just before. Spinning costs each of the hundreds of
 * parallel regions of a forward pass a scheduler time slice whenever the cores are shared: resnet26 at
 * batch 1 took 19.6 s instead of 3.3 s on 2 busy cores (BENCHMARKS.md, "Batch-1 inference").
 */
export const OMP_WAIT_POLICY_DEFAULT = 'passive';

/** Loads the addon once; never throws: on failure, says why. */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  const path = process.env.SASA_NATIVE_ADDON ?? join(packageRoot, 'build', 'Release', 'sasa_native.node');
  if (process.env.SASA_BACKEND === 'cpu') {
    cached = { addon: null, reason: 'disabled by SASA_BACKEND=cpu' };
  } else if (!existsSync(path)) {
    cached = { addon: null, reason: missingReason(path) };
  } else {
    try {
      const require = createRequire(import.meta.url);
      process.env.OMP_WAIT_POLICY ??= OMP_WAIT_POLICY_DEFAULT;
      cached = { addon: require(path) as NativeAddon, path };
    } catch (err) {
      cached = { addon: null, reason: `the addon at ${path} failed to load: ${(err as Error).message}` };
    }
  }
  return cached;
}
