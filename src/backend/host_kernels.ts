/**
 * Native routines on plain typed arrays (not tfjs kernels) for the layers above the backend, set when the
 * addon loads (registerNativeBackend) and absent otherwise, or in addons built before them: callers keep
 * their own JS path.
 */

/** See NativeAddon.focalLossRows (backend/addon.ts). */
export type FocalLossRows = (
  logits: Float32Array,
  classes: Int32Array,
  weights: Float32Array,
  slopes: Float32Array,
  rows: number,
  k: number,
  alpha: number,
  gamma: number,
) => number;

export const hostKernels: { focalLossRows?: FocalLossRows } = {};
