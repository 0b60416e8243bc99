/**
 * Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter, FusedConv2D (bias + relu/linear) and
 * SasaConvResidualRelu (ops/conv_residual.ts) on oneDNN. x: [B, H, W, Cin] (NHWC), filter: [kh, kw, Cin, Cout] (HWIO), y: [B, OH, OW, Cout].
 */

import { convResidualReluComposed } from '../../ops/conv_residual.js';
import { CONV_RESIDUAL_RELU } from '../../ops/kernel_names.js';
import * as tf from '../../tf.js';
import type { ConvGeometryArg } from '../addon.js';
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

type ConvInfo = tf.backend_util.Conv2DInfo;

/** Whether oneDNN's rule out = ⌊(in - filter + padBefore + padAfter) / stride⌋ + 1 holds. */
function consistent(size: number, filter: number, before: number, after: number, stride: number, out: number): boolean {
  return Math.floor((size - filter + before + after) / stride) + 1 === out;
}

/**
 * Bottom/right padding raised to what the output size implies: with dimRoundingMode 'ceil' or
 * 'round' tfjs's padInfo can be smaller than that, and oneDNN checks.
 */
function paddingAfter(c: ConvInfo): [number, number] {
  const p = c.padInfo;
  const bottom = Math.max(p.bottom, (c.outHeight - 1) * c.strideHeight + c.effectiveFilterHeight - c.inHeight - p.top);
  const right = Math.max(p.right, (c.outWidth - 1) * c.strideWidth + c.effectiveFilterWidth - c.inWidth - p.left);
  return [bottom, right];
}

/**
 * Whether oneDNN can express tfjs's geometry (else the caller falls back): a numeric pad with
 * unequal strides gives an output width computed with the height's stride (tfjs's
 * computeOutputShape2D), which no padding reproduces.
 */
function expressible(c: ConvInfo): boolean {
  const [bottom, right] = paddingAfter(c);
  return (
    consistent(c.inHeight, c.effectiveFilterHeight, c.padInfo.top, bottom, c.strideHeight, c.outHeight) &&
    consistent(c.inWidth, c.effectiveFilterWidth, c.padInfo.left, right, c.strideWidth, c.outWidth)
  );
}

/** The addon's geometry (see ConvGeometryArg). */
function geometry(c: ConvInfo): ConvGeometryArg {
  const [padBottom, padRight] = paddingAfter(c);
  return {
    batch: c.batchSize,
    inHeight: c.inHeight,
    inWidth: c.inWidth,
    inChannels: c.inChannels,
    outChannels: c.outChannels,
    filterHeight: c.filterHeight,
    filterWidth: c.filterWidth,
    outHeight: c.outHeight,
    outWidth: c.outWidth,
    strideHeight: c.strideHeight,
    strideWidth: c.strideWidth,
    dilationHeight: c.dilationHeight,
    dilationWidth: c.dilationWidth,
    padTop: c.padInfo.top,
    padLeft: c.padInfo.left,
    padBottom,
    padRight,
  };
}

function broadcasts(a: number[], b: number[]): boolean {
  try {
    tf.backend_util.assertAndGetBroadcastShape(a, b);
    return true;
  } catch {
    return false;
  }
}

let nextToken = 1;

/** The number `tokens` holds for t's (immutable) contents, given on first sight. */
function tokenIn(tokens: WeakMap<object, number>, t: tf.TensorInfo): number {
  let token = tokens.get(t.dataId);
  if (token === undefined) {
    token = nextToken++;
    tokens.set(t.dataId, token);
  }
  return token;
}

const tokens = new WeakMap<object, number>();

/**
 * A number naming a tensor's (immutable) contents, by which the addon recognises the x and dy a
 * backward pass shares with the forward pass and reuses their layout conversions.
 */
const tokenOf = (t: tf.TensorInfo) => tokenIn(tokens, t);

const filterTokens = new WeakMap<object, number>();

/**
 * A token naming a filter tensor's contents, under which the addon keeps the filter's reorder when
 * the same tensor comes back (inference); {@link forgetFilter} drops it when the tensor is freed.
 */
const filterTokenOf = (t: tf.TensorInfo) => tokenIn(filterTokens, t);

/** Frees what the addon keeps for the filter tensor `dataId` (the backend calls it as it frees the tensor's data). */
export function forgetFilter(ctx: KernelContext, dataId: object): void {
  const token = filterTokens.get(dataId);
  if (token === undefined) return;
  filterTokens.delete(dataId);
  ctx.addon.convForgetFilter(token);
}

function checkShapes(op: string, xShape: number[], filterShape: number[]): void {
  check(op, xShape.length === 4, () => `input must be rank 4 [B,H,W,C], got ${fmt(xShape)}`);
  check(op, filterShape.length === 4, () => `filter must be rank 4 [kh,kw,Cin,Cout], got ${fmt(filterShape)}`);
  check(
    op,
    xShape[3] === filterShape[2],
    () =>
      `input channels ${xShape[3]} of input ${fmt(xShape)} must equal filter's in-channels ${filterShape[2]} of ${fmt(filterShape)}`,
  );
}

/** Strides and dilations must be positive integers, a numeric or explicit pad non-negative ones. */
function checkAttrs(op: string, attrs: tf.NamedAttrMap, dilations: unknown): void {
  checkPositiveInts(op, 'strides', attrs.strides);
  checkPositiveInts(op, 'dilations', dilations);
  checkPad(op, attrs.pad);
}

/**
 * The convolution's geometry, or null when the input, filter or output is empty (tfjs's kernel
 * then returns the empty or zero result) or oneDNN cannot express it (see expressible).
 */
function convInfo(
  op: string,
  xShape: number[],
  filterShape: number[],
  attrs: tf.NamedAttrMap,
  dilations: number | [number, number] = 1,
): ConvInfo | null {
  checkShapes(op, xShape, filterShape);
  checkAttrs(op, attrs, dilations);
  if (sizeOf(xShape) === 0 || sizeOf(filterShape) === 0) return null;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number],
    dilations,
    attrs.pad as 'same' | 'valid',
    attrs.dimRoundingMode as 'floor' | undefined,
    false,
    'channelsLast',
  );
  return info.outHeight > 0 && info.outWidth > 0 && expressible(info) ? info : null;
}

function isNHWC(attrs: tf.NamedAttrMap | undefined): boolean {
  const f = attrs?.dataFormat;
  return f === undefined || f === 'NHWC' || f === 'channelsLast';
}

function conv2dForward(
  ctx: KernelContext,
  x: Float32Array,
  w: Float32Array,
  info: ConvInfo,
  xToken: number,
  filterToken: number,
): Float32Array {
  const y = outputFor('Conv2D', info.outShape);
  ctx.addon.convForward(x, w, y, geometry(info), xToken, filterToken);
  return y;
}

export function convKernels(ctx: KernelContext): tf.KernelConfig[] {
  /**
   * tfjs's cpu kernel `name`, after the attribute checks: with strides 0 its output has Infinity rows
   * and its loops never end (the fuzzer's fused.conv2d case 1401: relu6 falls back).
   */
  const fallback = (name: string, args: KernelArgs) => {
    checkAttrs(name, args.attrs ?? {}, args.attrs?.dilations ?? 1);
    return ctx.fallback(name)(args);
  };
  const conv2D: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const xv = f32(backend, x);
    const wv = f32(backend, filter);
    if (!xv || !wv || !isNHWC(args.attrs)) return fallback('Conv2D', args);
    const info = convInfo('Conv2D', x.shape, filter.shape, args.attrs ?? {}, args.attrs?.dilations as number);
    if (!info) return fallback('Conv2D', args);
    return output(backend, info.outShape, conv2dForward(ctx, xv, wv, info, tokenOf(x), filterTokenOf(filter)));
  };

  const conv2DBackpropInput: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs ?? {};
    const dyv = f32(backend, dy);
    const wv = f32(backend, filter);
    if (!dyv || !wv || !isNHWC(attrs)) return fallback('Conv2DBackpropInput', args);
    const inputShape = attrs.inputShape as number[];
    const info = convInfo('Conv2DBackpropInput', inputShape, filter.shape, attrs);
    if (!info) return fallback('Conv2DBackpropInput', args);
    check(
      'Conv2DBackpropInput',
      tf.util.arraysEqual(dy.shape, info.outShape),
      () => `dy ${fmt(dy.shape)} does not match the output shape ${fmt(info.outShape)} of input ${fmt(inputShape)}`,
    );
    const dx = outputFor('Conv2DBackpropInput', inputShape);
    ctx.addon.convBackwardData(dyv, wv, dx, geometry(info), tokenOf(dy));
    return output(backend, inputShape, dx);
  };

  const conv2DBackpropFilter: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = args.attrs ?? {};
    const xv = f32(backend, x);
    const dyv = f32(backend, dy);
    if (!xv || !dyv || !isNHWC(attrs)) return fallback('Conv2DBackpropFilter', args);
    const filterShape = attrs.filterShape as number[];
    const info = convInfo('Conv2DBackpropFilter', x.shape, filterShape, attrs);
    if (!info) return fallback('Conv2DBackpropFilter', args);
    check(
      'Conv2DBackpropFilter',
      tf.util.arraysEqual(dy.shape, info.outShape),
      () => `dy ${fmt(dy.shape)} does not match the output shape ${fmt(info.outShape)} of input ${fmt(x.shape)}`,
    );
    const dw = outputFor('Conv2DBackpropFilter', filterShape);
    // A NaN or ±∞ in x or dy: oneDNN's strided backward pass may multiply the zero padding by it (0·NaN)
    // where tfjs's loops skip the padded taps (fuzz cases fused.conv2d 1814, 8514). The addon scans the
    // result (in parallel, where it is still in cache); where it is not finite, tfjs's kernel recomputes it.
    const finite = ctx.addon.convBackwardWeights(xv, dyv, dw, geometry(info), tokenOf(x), tokenOf(dy));
    if (!finite) return fallback('Conv2DBackpropFilter', args);
    return output(backend, filterShape, dw);
  };

  const fusedConv2D: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const attrs = args.attrs ?? {};
    const activation = attrs.activation as string;
    const xv = x && f32(backend, x);
    const wv = filter && f32(backend, filter);
    const bv = bias ? f32(backend, bias) : null;
    const simpleBias = !bias || bv !== null;
    const simpleAct = activation === 'linear' || activation === 'relu';
    if (!x || !filter || !xv || !wv || !simpleBias || !simpleAct || preluActivationWeights || !isNHWC(attrs)) {
      return fallback('FusedConv2D', args);
    }
    const info = convInfo('FusedConv2D', x.shape, filter.shape, attrs, attrs.dilations as number);
    if (!info) return fallback('FusedConv2D', args);
    // A bias that is not per channel (or one value) but broadcasts with the output widens it: tfjs's kernel.
    const c = info.outChannels;
    const perChannel = (shape: number[]) =>
      shape.length <= 4 && shape.every((d, i) => d === 1 || (i === shape.length - 1 && d === c));
    if (bias && !perChannel(bias.shape)) {
      check(
        'FusedConv2D',
        broadcasts(info.outShape, bias.shape),
        () => `bias ${fmt(bias.shape)} does not broadcast with the output ${fmt(info.outShape)} ([${c}] or [1])`,
      );
      return fallback('FusedConv2D', args);
    }
    // A bias of C values or one (or none) and the ReLU run inside the convolution's primitive.
    const perChannelBias = bv?.length === c ? bv : new Float32Array(c).fill(bv?.[0] ?? 0);
    const y = outputFor('FusedConv2D', info.outShape);
    const relu = activation === 'relu';
    ctx.addon.convForwardFused(xv, wv, perChannelBias, y, geometry(info), relu, tokenOf(x), filterTokenOf(filter));
    return output(backend, info.outShape, y);
  };

  /** SasaConvResidualRelu (ops/conv_residual.ts, which checked the shapes): one fused primitive, or the composed ops. */
  const convResidualRelu: tf.KernelFunc = (args: KernelArgs) => {
    const backend = cpuBackend(args);
    const { x, filter, bias, residual } = args.inputs as Record<string, tf.TensorInfo>;
    const strides = (args.attrs as { strides: number }).strides;
    const [xv, wv, bv, rv] = [x, filter, bias, residual].map((t) => f32(backend, t));
    const info = convInfo(CONV_RESIDUAL_RELU, x.shape, filter.shape, { strides, pad: 'same' });
    if (!xv || !wv || !bv || !rv || !info) return convResidualReluComposed(args);
    const y = outputFor(CONV_RESIDUAL_RELU, info.outShape);
    ctx.addon.convForwardFused(xv, wv, bv, y, geometry(info), true, tokenOf(x), filterTokenOf(filter), rv);
    return output(backend, info.outShape, y);
  };

  return [
    { kernelName: CONV_RESIDUAL_RELU, backendName: 'native', kernelFunc: convResidualRelu },
    { kernelName: 'Conv2D', backendName: 'native', kernelFunc: conv2D },
    { kernelName: 'Conv2DBackpropInput', backendName: 'native', kernelFunc: conv2DBackpropInput },
    { kernelName: 'Conv2DBackpropFilter', backendName: 'native', kernelFunc: conv2DBackpropFilter },
    { kernelName: 'FusedConv2D', backendName: 'native', kernelFunc: fusedConv2D },
  ];
}
