/**
 * What an emitter (one per tfjs layer class) gets and gives. Inside the graph every image tensor
 * is NCHW [B, C, H, W] (ONNX's convolution layout); the batch stays dynamic through Reshape's 0.
 */
import type * as tf from '../../../tf.js';
import type { OnnxGraphBuilder } from '../graph.js';

/**
 * Folds an inference batch norm y = scale·x + shift (per channel) into the layer that produced x,
 * returning the name of the folded output.
 */
export type Fold = (scale: Float32Array, shift: Float32Array) => string;

export interface Emitted {
  output: string;
  /** Present when the output is linear per channel in the layer's last weights (a conv, the attention's values). */
  fold?: Fold;
}

export interface EmitContext {
  graph: OnnxGraphBuilder;
  layer: tf.layers.Layer;
  /** The ONNX names of the layer's inputs. */
  inputs: string[];
  /** The tfjs shapes of the inputs without the batch: [H, W, C] for images, [C] for vectors. */
  inputShapes: number[][];
  /** How to fold into the producer of input i, when that producer can fold and the layer is its only consumer. */
  foldInto(i: number): Fold | undefined;
}

export type Emitter = (ctx: EmitContext) => Emitted;

/** A layer's weight by its name (e.g. 'kernel'), as float32 values and shape. */
export function weightOf(layer: tf.layers.Layer, name: string): { data: Float32Array; shape: number[] } {
  const v = layer.weights.find((w) => w.originalName === `${layer.name}/${name}` || w.originalName === name);
  if (!v) throw new Error(`ONNX export: layer '${layer.name}' has no weight '${name}'`);
  return { data: Float32Array.from(v.read().dataSync()), shape: v.shape as number[] };
}

/** TensorFlow's 'same' padding of one axis: [before, after] (the extra pixel after). */
export function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** ONNX pads [top, left, bottom, right] for TensorFlow's 'same' on an [H, W] image. */
export function samePads(h: number, w: number, kernel: number, stride: number): number[] {
  const [top, bottom] = samePadding(h, kernel, stride);
  const [left, right] = samePadding(w, kernel, stride);
  return [top, left, bottom, right];
}

/** [F, C, kh, kw] from a TensorFlow kernel [kh, kw, C, F]. */
export function convKernelToOnnx(data: Float32Array, shape: readonly number[]): Float32Array {
  const [kh, kw, c, f] = shape;
  const out = new Float32Array(data.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let ci = 0; ci < c; ci++)
        for (let fi = 0; fi < f; fi++) out[((fi * c + ci) * kh + i) * kw + j] = data[((i * kw + j) * c + ci) * f + fi];
  return out;
}

/** Multiplies each of `rows` consecutive groups of `data` ([rows, rest]) by scale[row]. */
export function scaleRows(data: Float32Array, scale: Float32Array): void {
  const rest = data.length / scale.length;
  for (let r = 0; r < scale.length; r++) for (let i = 0; i < rest; i++) data[r * rest + i] *= scale[r];
}

/** Multiplies the last axis of `data` ([..., C]) by scale[c]. */
export function scaleColumns(data: Float32Array, scale: Float32Array): void {
  const c = scale.length;
  for (let i = 0; i < data.length; i++) data[i] *= scale[i % c];
}

/** x + shift per channel of an NCHW tensor ([1, C, 1, 1] broadcast). */
export function addChannelShift(
  ctx: { graph: OnnxGraphBuilder },
  x: string,
  shift: Float32Array,
  hint: string,
): string {
  const g = ctx.graph;
  return g.op('Add', [x, g.floats(`${hint}.shift`, [1, shift.length, 1, 1], shift)], `${hint}.shifted`);
}
