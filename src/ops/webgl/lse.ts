/**
 * The attention kernels' second output, lse [B, H, W, N], is read only by the backward kernels, so
 * the WebGL kernels compute it only while a gradient is being recorded (inside tf.grad and the like);
 * at inference they return it filled with NaN (one trivial fill instead of a second run of the
 * attention program, which costs as much as y's).
 */
import type { GPGPUProgram, MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import * as tf from '../../tf.js';
import type { AttentionOutput } from './glsl.js';

/** Whether the engine is inside a gradient scope (the tape may record the running kernel). */
export function lseRecorded(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

/** lse of `shape` filled with NaN, by the backend's Fill kernel: what inference gets instead of the log-sum-exp. */
export function unrecordedLse(backend: MathBackendWebGL, shape: number[]): tf.TensorInfo {
  const fill = tf.getKernel(tf.Fill, tf.getBackend());
  if (!fill) throw new Error(`no Fill kernel for backend '${tf.getBackend()}'`);
  return fill.kernelFunc({
    inputs: {},
    backend,
    attrs: { shape, value: Number.NaN, dtype: 'float32' },
  }) as tf.TensorInfo;
}

/**
 * [y, lse] of an attention kernel: `programFor(output)` run on `inputs` (by the program's variable names) for
 * y, and for lse [lseShape] only while a gradient is recorded (else unrecordedLse).
 */
export function attentionOutputs(
  backend: MathBackendWebGL,
  lseShape: number[],
  programFor: (output: AttentionOutput) => GPGPUProgram,
  inputs: Record<string, tf.TensorInfo>,
): [y: tf.TensorInfo, lse: tf.TensorInfo] {
  const run = (output: AttentionOutput) => {
    if (output === 'lse' && !lseRecorded()) return unrecordedLse(backend, lseShape);
    const program = programFor(output);
    return backend.runWebGLProgram(
      program,
      program.variableNames.map((name) => inputs[name]),
      'float32',
    );
  };
  return [run('y'), run('lse')];
}
