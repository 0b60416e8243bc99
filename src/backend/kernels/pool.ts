/**
 * MaxPool, MaxPoolGrad, AvgPool, AvgPoolGrad on NHWC [B, H, W, C].
 * AvgPool divides by the in-image pixels of each window (like TensorFlow.js's forward);
 * AvgPoolGrad is the exact gradient of that (tfjs's own divides by the full window area,
 * which differs from its forward at padded borders).
 */

import { AVG_POOL_GRAD } from '../../ops/kernel_names.js';
import * as tf from '../../tf.js';
import type { PoolGeometryArg } from '../addon.js';
import {
  check,
  checkPad,
  checkPositiveInts,
  cpuBackend,
  f32,
  fmt,
  type KernelArgs,
  type KernelContext,
  output,
  outputFor,
  sizeOf,
} from './util.js';

type PoolInfo = tf.backend_util.Conv2DInfo;

/**
 * The pooling geometry, or null when the input or the output is empty (tfjs's kernel then
 * returns the empty result) or tfjs's geometry is its own (below).
 */
function poolInfo(op: string, xShape: number[], attrs: tf.NamedAttrMap, tfjsGeometry = true): PoolInfo | null {
  check(op, xShape.length === 4, () => `input must be rank 4 [B,H,W,C], got ${fmt(xShape)}`);
  checkPositiveInts(op, 'filterSize', attrs.filterSize);
  checkPositiveInts(op, 'strides', attrs.strides);
  checkPad(op, attrs.pad);
  if (sizeOf(xShape) === 0) return null;
  const info = tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize as [number, number],
    attrs.strides as [number, number],
    1,
    attrs.pad as 'same' | 'valid',
    attrs.dimRoundingMode as 'floor' | undefined,
  );
  // A numeric pad with unequal window sides or strides: tfjs computes the output width with the
  // height's (computeOutputShape2D), a geometry only its own kernel follows (sasa's exact
  // gradient, `tfjsGeometry` false, takes it as given, like its cpu kernel).
  const square = info.filterHeight === info.filterWidth && info.strideHeight === info.strideWidth;
  if (tfjsGeometry && typeof attrs.pad === 'number' && !square) return null;
  return info.outHeight > 0 && info.outWidth > 0 ? info : null;
}

/** The addon's geometry (see PoolGeometryArg). */
function geometry(c: PoolInfo): PoolGeometryArg {
  return {
    batch: c.batchSize,
    inHeight: c.inHeight,
    inWidth: c.inWidth,
    channels: c.inChannels,
    outHeight: c.outHeight,
    outWidth: c.outWidth,
    filterHeight: c.filterHeight,
    filterWidth: c.filterWidth,
    strideHeight: c.strideHeight,
    strideWidth: c.strideWidth,
    padTop: c.padInfo.top,
    padLeft: c.padInfo.left,
  };
}

export function poolKernels(ctx: KernelContext): tf.KernelConfig[] {
  const forward = (name: string, fn: 'maxPoolForward' | 'avgPoolForward'): tf.KernelFunc => {
    return (args: KernelArgs) => {
      const backend = cpuBackend(args);
      const { x } = args.inputs as { x: tf.TensorInfo };
      const xv = f32(backend, x);
      if (!xv) return ctx.fallback(name)(args);
      const info = poolInfo(name, x.shape, args.attrs ?? {});
      if (!info) return ctx.fallback(name)(args);
      const y = outputFor(name, info.outShape);
      ctx.addon[fn](xv, y, geometry(info));
      return output(backend, info.outShape, y);
    };
  };
  const backward = (name: string, tfjsGeometry = true): tf.KernelFunc => {
    return (args: KernelArgs) => {
      const backend = cpuBackend(args);
      const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
      const xv = f32(backend, input);
      const dyv = f32(backend, dy);
      if (!xv || !dyv) return ctx.fallback(name)(args);
      const info = poolInfo(name, input.shape, args.attrs ?? {}, tfjsGeometry);
      if (!info) return ctx.fallback(name)(args);
      check(
        name,
        tf.util.arraysEqual(dy.shape, info.outShape),
        () => `dy ${fmt(dy.shape)} must be ${fmt(info.outShape)}`,
      );
      const dx = outputFor(name, input.shape);
      if (name === 'MaxPoolGrad') ctx.addon.maxPoolBackward(xv, dyv, dx, geometry(info));
      else ctx.addon.avgPoolBackward(dyv, dx, geometry(info));
      return output(backend, input.shape, dx);
    };
  };
  const avgPoolGrad = backward('AvgPoolGrad');
  return [
    { kernelName: 'MaxPool', backendName: 'native', kernelFunc: forward('MaxPool', 'maxPoolForward') },
    { kernelName: 'AvgPool', backendName: 'native', kernelFunc: forward('AvgPool', 'avgPoolForward') },
    { kernelName: 'MaxPoolGrad', backendName: 'native', kernelFunc: backward('MaxPoolGrad') },
    { kernelName: 'AvgPoolGrad', backendName: 'native', kernelFunc: avgPoolGrad },
    // already exact: the gradient of sasa's avgPool op (ops/avg_pool.ts) as it is
    { kernelName: AVG_POOL_GRAD, backendName: 'native', kernelFunc: backward('AvgPoolGrad', false) },
  ];
}
