/**
 * The `native` TensorFlow.js backend: tfjs's CPU backend with the kernels that dominate
 * training replaced by oneDNN/OpenMP ones from our addon. `initBackend()` selects it, or
 * falls back to tfjs's pure-JS `cpu` backend and says so once.
 */

import { MathBackendCPU, version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { registerResizeNearestGrad } from '../ops/resize_nearest.js';
import * as tf from '../tf.js';
import { checkTfjsVersions } from '../tfjs_version.js';
import { type AddonLoad, loadAddon, type NativeInfo } from './addon.js';
import { bufferPool } from './buffer_pool.js';
import { registerFusedGradients } from './gradients.js';
import { hostKernels } from './host_kernels.js';
import { stemAttentionKernels } from './kernels/attention_stem.js';
import { batchNormKernels } from './kernels/batch_norm.js';
import { convKernels, forgetFilter } from './kernels/conv.js';
import { eltwiseKernels } from './kernels/eltwise.js';
import { layoutKernels } from './kernels/layout.js';
import { localAttentionKernels } from './kernels/local_attention.js';
import { matmulKernels } from './kernels/matmul.js';
import { movingStatsKernels } from './kernels/moving_stats.js';
import { poolKernels } from './kernels/pool.js';
import { reduceKernels } from './kernels/reduce.js';
import { resizeKernels } from './kernels/resize.js';
import { sgdUpdateKernels } from './kernels/sgd_update.js';
import type { KernelContext } from './kernels/util.js';

checkTfjsVersions({ '@tensorflow/tfjs-backend-cpu': version_cpu });

/** The name sasa's native (oneDNN) tfjs backend is registered under. */
export const NATIVE_BACKEND = 'native';
export const NATIVE_FIX =
  'apt-get install -y libdnnl-dev g++ make python3, then `npm rebuild sasa` (or `npm run build:native` in a checkout)';

/**
 * What {@link initBackend} selected: the backend in use, whether it is the native one, and the addon's
 * report, or why the addon did not load.
 */
export interface BackendStatus {
  /** The tfjs backend in use. */
  backend: string;
  /** True when the backend in use is the native one. */
  native: boolean;
  /** Why the addon did not load (absent when it loaded). */
  reason?: string;
  /** The addon's report, when it loaded (whichever backend was selected). */
  info?: NativeInfo;
  /** The addon file loaded, when it loaded. */
  addonPath?: string;
  /** Kernels the native backend replaces. */
  nativeKernels: string[];
}

let registration: { load: AddonLoad; kernels: string[] } | undefined;

type DataId = object;

/**
 * tfjs's CPU backend telling the buffer pool (buffer_pool.ts) what happens to tensor values:
 * stored (write, move), handed out (readSync; the CPU backend's read calls it) and freed (disposeData).
 */
class NativeBackend extends MathBackendCPU {
  /** `freed` hears of every tensor whose data this backend frees (the kernels' caches keyed by tensor). */
  constructor(private readonly freed: (dataId: DataId) => void) {
    super();
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): DataId {
    bufferPool.written(values);
    return super.write(values, shape, dtype);
  }

  override move(
    dataId: DataId,
    values: tf.backend_util.BackendValues,
    shape: number[],
    dtype: tf.DataType,
    refCount: number,
  ): void {
    bufferPool.written(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: DataId): tf.backend_util.BackendValues {
    bufferPool.escaped(this.data.get(dataId)?.values);
    return super.readSync(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const freed = super.disposeData(dataId, force);
    if (freed && !this.data.has(dataId)) {
      if (values !== undefined) bufferPool.released(values);
      this.freed(dataId);
    }
    return freed;
  }
}

function quiet<T extends MathBackendCPU>(backend: T): T {
  // The CPU backend prints a "use tfjs-node" banner on first use in Node; we have our own advice.
  (backend as unknown as { firstUse: boolean }).firstUse = false;
  return backend;
}

const quietCpuBackend = () => quiet(new MathBackendCPU());

/** Registers the `native` backend if the addon loads (idempotent). */
export function registerNativeBackend(): { load: AddonLoad; kernels: string[] } {
  if (registration) return registration;
  const load = loadAddon();
  registration = { load, kernels: [] };
  if (!load.addon) return registration;
  const addon = load.addon;
  if (addon.releaseBuffer) bufferPool.discard = (buffer) => addon.releaseBuffer?.(buffer);
  if (addon.trimMalloc) bufferPool.trimHeap = () => addon.trimMalloc?.();
  if (addon.focalLossRows) hostKernels.focalLossRows = addon.focalLossRows.bind(addon);
  const cpuKernels = new Map(tf.getKernelsForBackend('cpu').map((k) => [k.kernelName, k]));
  const ctx: KernelContext = {
    addon,
    fallback(kernelName: string) {
      const k = cpuKernels.get(kernelName);
      if (!k) throw new Error(`${kernelName}: no CPU kernel to fall back to`);
      return k.kernelFunc;
    },
  };
  tf.registerBackend(NATIVE_BACKEND, () => quiet(new NativeBackend((dataId) => forgetFilter(ctx, dataId))), 3);
  for (const k of cpuKernels.values()) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
  const ours = [
    ...convKernels(ctx),
    ...matmulKernels(ctx),
    ...batchNormKernels(ctx),
    ...poolKernels(ctx),
    ...eltwiseKernels(ctx),
    ...reduceKernels(ctx),
    ...sgdUpdateKernels(ctx),
    ...movingStatsKernels(),
    ...layoutKernels(ctx),
    ...resizeKernels(ctx),
    ...localAttentionKernels(ctx),
    ...stemAttentionKernels(ctx),
  ];
  for (const k of ours) {
    if (tf.getKernel(k.kernelName, NATIVE_BACKEND)) tf.unregisterKernel(k.kernelName, NATIVE_BACKEND);
    tf.registerKernel(k);
  }
  registerFusedGradients();
  registration.kernels = ours.map((k) => k.kernelName);
  return registration;
}

let warned = false;

/**
 * Options of {@link initBackend}. Without them: the native backend when the addon loads, else tfjs's `cpu`
 * backend (with a warning on stderr); the environment variables SASA_BACKEND and SASA_REQUIRE_NATIVE stand
 * in for an option not given.
 */
export interface InitOptions {
  /** Fail instead of falling back to the JS backend (also: SASA_REQUIRE_NATIVE=1). */
  require?: boolean;
  /** Select this backend instead (`cpu` for tfjs's pure-JS kernels). */
  backend?: string;
}

/**
 * Selects the native backend (or the fallback) and reports what is in use. It first puts sasa's kernels in
 * place of tfjs's broken ones on the `cpu` backend (ResizeNearestNeighborGrad: ops/resize_nearest.ts).
 */
export async function initBackend(options: InitOptions = {}): Promise<BackendStatus> {
  registerResizeNearestGrad('cpu');
  const { load, kernels } = registerNativeBackend();
  const requireNative = options.require ?? process.env.SASA_REQUIRE_NATIVE === '1';
  const wanted = options.backend ?? process.env.SASA_BACKEND ?? (load.addon ? NATIVE_BACKEND : 'cpu');
  if (requireNative && (!load.addon || wanted !== NATIVE_BACKEND)) {
    const why = load.addon ? `backend '${wanted}' was requested` : load.reason;
    throw new Error(`the native backend is required but unavailable: ${why}. Fix: ${NATIVE_FIX}`);
  }
  if (wanted === 'cpu') {
    tf.removeBackend('cpu');
    tf.registerBackend('cpu', quietCpuBackend, 1);
  }
  if (!(await tf.setBackend(wanted))) throw new Error(`could not initialise the '${wanted}' backend`);
  const status: BackendStatus = { backend: wanted, native: wanted === NATIVE_BACKEND, nativeKernels: kernels };
  if (load.addon) {
    status.info = load.addon.info();
    status.addonPath = load.path;
  } else {
    status.reason = load.reason;
    if (!warned && !process.env.SASA_BACKEND) {
      warned = true;
      process.stderr.write(
        `sasa: native backend unavailable (${load.reason}); running on TensorFlow.js's pure-JS backend, about 100x slower.\nsasa: fix: ${NATIVE_FIX}\n`,
      );
    }
  }
  return status;
}
