/**
 * SasaSgdUpdate (ops/sgd_update.ts): inputs w, v, g; attrs lr, momentum, weightDecay, nesterov →
 * [w', v'], one pass of native/src/sgd_update.cc.
 */

import { SGD_UPDATE } from '../../ops/kernel_names.js';
import type * as tf from '../../tf.js';
import { check, cpuBackend, f32, type KernelArgs, type KernelContext, output, outputBuffer } from './util.js';

export function sgdUpdateKernels(ctx: KernelContext): tf.KernelConfig[] {
  const sgdUpdate: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { w, v, g } = args.inputs as { w: tf.TensorInfo; v: tf.TensorInfo; g: tf.TensorInfo };
    const a = args.attrs as { lr: number; momentum: number; weightDecay: number; nesterov: number };
    const [wv, vv, gv] = [f32(backend, w), f32(backend, v), f32(backend, g)];
    check(SGD_UPDATE, wv !== null && vv !== null && gv !== null, () => 'w, v and g must be float32');
    check(SGD_UPDATE, wv.length === vv.length && wv.length === gv.length, () => 'w, v and g must have one size');
    const wOut = outputBuffer(wv.length);
    const vOut = outputBuffer(wv.length);
    ctx.addon.sgdUpdate(wv, vv, gv, wOut, vOut, wv.length, a.lr, a.momentum, a.weightDecay, a.nesterov);
    return [output(backend, w.shape, wOut), output(backend, w.shape, vOut)];
  };
  return [{ kernelName: SGD_UPDATE, backendName: 'native', kernelFunc: sgdUpdate }];
}
