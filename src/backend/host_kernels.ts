/**
 * Native routines on plain typed arrays (not tfjs kernels) for the layers above the backend, set when the
 * addon loads (registerNativeBackend) and absent otherwise, or in addons built before them: callers keep
 * their own JS path.
 */

/**
 * Σ_r w_r Σ_j FL(x_rj, [j = c_r]) of logits [rows, k] (tasks/detection/focal_loss.ts), its gradient times w_r
 * into slopes (rows of weight 0 left as they are): the addon's focalLossRows and its JS path.
 */
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
