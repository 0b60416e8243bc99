/**
 * BatchMatMul and _FusedMatMul (bias + relu/linear) on oneDNN's matmul primitive (not dnnl_sgemm, whose
 * JIT kernels corrupt the heap when a signal arrives: see native/src/matmul.cc).
 * a: [...batchA, M, K] (or [..., K, M] transposed), b: [...batchB, K, N] (or [..., N, K]);
 * batch dimensions broadcast like TensorFlow.js: c[i] = a[i % batchA] · b[i % batchB], except where a and b
 * broadcast in different dimensions (e.g. [2,3,7] · [3,1,7,6]): there each pairs by its broadcast index.
 * int32 and bool products run on tfjs's cpu kernel, their operands broadcast first (same pairing).
 */
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '../../tf.js';
import { broadcastBinary } from './eltwise.js';
import { check, cpuBackend, fmt, type KernelArgs, type KernelContext, output, outputBuffer, sizeOf } from './util.js';

interface MatMulPlan {
  outShape: number[];
  geometry: Int32Array;
  n: number;
  /** Which a and b matrix each output matrix uses, when i % batchA / i % batchB would be wrong. */
  tables?: [Int32Array, Int32Array];
}

/** For output batch index i (over `outer`), the index into an operand with batch dims `dims`. */
function batchTable(dims: number[], outer: number[]): Int32Array {
  const padded = [...new Array(outer.length - dims.length).fill(1), ...dims];
  const total = sizeOf(outer);
  const table = new Int32Array(total);
  for (let i = 0; i < total; i++) {
    let rest = i;
    let index = 0;
    let stride = 1;
    for (let d = outer.length - 1; d >= 0; d--) {
      const coord = rest % outer[d];
      rest = Math.floor(rest / outer[d]);
      if (padded[d] !== 1) index += coord * stride;
      stride *= padded[d];
    }
    table[i] = index;
  }
  return table;
}

function plan(op: string, aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): MatMulPlan {
  check(
    op,
    aShape.length >= 2 && bShape.length >= 2,
    () => `inputs must be at least rank 2, got ${fmt(aShape)} and ${fmt(bShape)}`,
  );
  const ra = aShape.length;
  const rb = bShape.length;
  const innerA = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const innerB = transposeB ? bShape[rb - 1] : bShape[rb - 2];
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  check(
    op,
    innerA === innerB,
    () =>
      `inner dimensions ${innerA} and ${innerB} of ${fmt(aShape)} and ${fmt(bShape)} (transposeA=${transposeA}, transposeB=${transposeB}) must match`,
  );
  const batchA = sizeOf(aShape.slice(0, -2));
  const batchB = sizeOf(bShape.slice(0, -2));
  let outer: number[];
  try {
    outer = tf.backend_util.assertAndGetBroadcastShape(aShape.slice(0, -2), bShape.slice(0, -2));
  } catch {
    throw new Error(`${op}: batch dimensions of ${fmt(aShape)} and ${fmt(bShape)} do not broadcast`);
  }
  const batch = sizeOf(outer);
  const geometry = Int32Array.from([batchA, batchB, batch, m, n, innerA, transposeA ? 1 : 0, transposeB ? 1 : 0]);
  const modulo = (b: number) => b === 1 || b === batch;
  const tables: [Int32Array, Int32Array] | undefined =
    modulo(batchA) && modulo(batchB)
      ? undefined
      : [batchTable(aShape.slice(0, -2), outer), batchTable(bShape.slice(0, -2), outer)];
  return { outShape: [...outer, m, n], geometry, n, tables };
}

/**
 * The values of a float32 `t`: in place, or a Float32Array copy where the array is another type (tfjs's
 * cpu Cast from bool or int32 to float32 keeps the Uint8Array or Int32Array); null for other dtypes.
 */
function floatValues(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const values = backend.data.get(t.dataId).values;
  if (values instanceof Float32Array) return values;
  return values instanceof Uint8Array || values instanceof Int32Array ? Float32Array.from(values) : null;
}

/** `t` [...batch, R, C] widened to [...outer, R, C]: matrix i is `t`'s matrix table[i] (same dtype). */
function widened(backend: MathBackendCPU, t: tf.TensorInfo, table: Int32Array, outer: number[]): tf.TensorInfo {
  const matrix = t.shape.slice(-2);
  const size = matrix[0] * matrix[1];
  const values = backend.data.get(t.dataId).values as Float32Array | Int32Array | Uint8Array;
  const wide = new (values.constructor as Float32ArrayConstructor)(table.length * size);
  for (let i = 0; i < table.length; i++) wide.set(values.subarray(table[i] * size, (table[i] + 1) * size), i * size);
  return backend.makeTensorInfo([...outer, ...matrix], t.dtype, wide);
}

/**
 * tfjs's cpu kernel `kernelName`, with a and b broadcast to the full batch first where they broadcast in
 * different dimensions: the cpu kernel pairs a[i % batchA] with b[i % batchB], wrong there.
 */
function fallbackBroadcast(ctx: KernelContext, kernelName: string, args: KernelArgs): tf.TensorInfo {
  const backend = cpuBackend(args);
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  let p: MatMulPlan;
  try {
    p = plan(kernelName, a.shape, b.shape, Boolean(args.attrs?.transposeA), Boolean(args.attrs?.transposeB));
  } catch {
    return ctx.fallback(kernelName)(args) as tf.TensorInfo;
  }
  if (!p.tables) return ctx.fallback(kernelName)(args) as tf.TensorInfo;
  const outer = p.outShape.slice(0, -2);
  const wide = { a: widened(backend, a, p.tables[0], outer), b: widened(backend, b, p.tables[1], outer) };
  try {
    return ctx.fallback(kernelName)({ ...args, inputs: { ...args.inputs, ...wide } }) as tf.TensorInfo;
  } finally {
    backend.disposeIntermediateTensorInfo(wide.a);
    backend.disposeIntermediateTensorInfo(wide.b);
  }
}

export function matmulKernels(ctx: KernelContext): tf.KernelConfig[] {
  const run = (op: string, args: KernelArgs): { y: Float32Array; p: MatMulPlan } | null => {
    const backend = cpuBackend(args);
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const av = floatValues(backend, a);
    const bv = floatValues(backend, b);
    if (!av || !bv) return null;
    const p = plan(op, a.shape, b.shape, Boolean(args.attrs?.transposeA), Boolean(args.attrs?.transposeB));
    const y = outputBuffer(sizeOf(p.outShape));
    if (y.length > 0) {
      if (p.geometry[5] === 0) y.fill(0);
      else ctx.addon.batchMatMul(av, bv, y, p.geometry, ...(p.tables ?? []));
    }
    return { y, p };
  };

  const batchMatMul: tf.KernelFunc = (args: KernelArgs) => {
    const r = run('BatchMatMul', args);
    if (!r) return fallbackBroadcast(ctx, 'BatchMatMul', args);
    return output(cpuBackend(args), r.p.outShape, r.y);
  };

  const fusedMatMul: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const activation = args.attrs?.activation as string;
    const bv = bias ? floatValues(backend, bias) : null;
    if ((bias && !bv) || preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) {
      return fallbackBroadcast(ctx, '_FusedMatMul', args);
    }
    const r = run('_FusedMatMul', args);
    if (!r) return fallbackBroadcast(ctx, '_FusedMatMul', args);
    const { y, p } = r;
    if (bias && bv) {
      let shape: number[];
      try {
        shape = tf.backend_util.assertAndGetBroadcastShape(p.outShape, bias.shape);
      } catch {
        throw new Error(`_FusedMatMul: bias ${fmt(bias.shape)} does not broadcast to the product ${fmt(p.outShape)}`);
      }
      const sameShape = tf.util.arraysEqual(shape, p.outShape);
      if (!sameShape || !broadcastBinary(ctx.addon, 'add', y, p.outShape, bv, bias.shape, y, p.outShape)) {
        return fallbackBroadcast(ctx, '_FusedMatMul', args);
      }
    }
    if (activation === 'relu') ctx.addon.relu(y, y, y.length);
    return output(backend, p.outShape, y);
  };

  return [
    { kernelName: 'BatchMatMul', backendName: 'native', kernelFunc: batchMatMul },
    { kernelName: '_FusedMatMul', backendName: 'native', kernelFunc: fusedMatMul },
  ];
}
