/** The tfjs-layers classes the builder uses: ReLU, Add, MaxPooling2D, GlobalAveragePooling2D, Dense. */
import type * as tf from '../../../tf.js';
import type { Emitter } from './emitter.js';
import { samePads, weightOf } from './emitter.js';

type Config = Record<string, unknown>;

function fail(layer: tf.layers.Layer, message: string): never {
  throw new Error(`ONNX export: layer '${layer.name}' (${layer.getClassName()}): ${message}`);
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v]) as [number, number];

export const emitRelu: Emitter = (ctx) => {
  const cfg = ctx.layer.getConfig() as Config;
  if (cfg.maxValue != null) fail(ctx.layer, `maxValue ${String(cfg.maxValue)} is not supported`);
  return { output: ctx.graph.op('Relu', [ctx.inputs[0]], ctx.layer.name) };
};

export const emitAdd: Emitter = (ctx) => {
  const g = ctx.graph;
  let y = ctx.inputs[0];
  for (let i = 1; i < ctx.inputs.length; i++) y = g.op('Add', [y, ctx.inputs[i]], ctx.layer.name);
  return { output: y };
};

export const emitMaxPooling2D: Emitter = (ctx) => {
  const cfg = ctx.layer.getConfig() as Config;
  const [kh, kw] = pair(cfg.poolSize);
  const [sh, sw] = pair(cfg.strides ?? cfg.poolSize);
  if (kh !== kw || sh !== sw) fail(ctx.layer, `non-square pool ${kh}x${kw} or strides ${sh}x${sw}`);
  if ((cfg.dataFormat ?? 'channelsLast') !== 'channelsLast') fail(ctx.layer, `data format ${String(cfg.dataFormat)}`);
  const [h, w] = ctx.inputShapes[0];
  const pads = cfg.padding === 'same' ? samePads(h, w, kh, sh) : [0, 0, 0, 0];
  const output = ctx.graph.op('MaxPool', [ctx.inputs[0]], ctx.layer.name, {
    kernel_shape: [kh, kw],
    strides: [sh, sw],
    pads,
  });
  return { output };
};

export const emitGlobalAveragePooling2D: Emitter = (ctx) => {
  const cfg = ctx.layer.getConfig() as Config;
  if ((cfg.dataFormat ?? 'channelsLast') !== 'channelsLast') fail(ctx.layer, `data format ${String(cfg.dataFormat)}`);
  const g = ctx.graph;
  const pooled = g.op('GlobalAveragePool', [ctx.inputs[0]], `${ctx.layer.name}.mean`);
  return { output: g.op('Flatten', [pooled], ctx.layer.name, { axis: 1 }) };
};

export const emitDense: Emitter = (ctx) => {
  const layer = ctx.layer;
  const cfg = layer.getConfig() as Config;
  if ((cfg.activation ?? 'linear') !== 'linear') fail(layer, `activation '${String(cfg.activation)}' is not supported`);
  if (ctx.inputShapes[0].length !== 1) fail(layer, `input [${ctx.inputShapes[0]}] must be a vector per example`);
  const g = ctx.graph;
  const kernel = weightOf(layer, 'kernel');
  const inputs = [ctx.inputs[0], g.floats(`${layer.name}.weight`, kernel.shape, kernel.data)];
  if (cfg.useBias !== false) {
    const bias = weightOf(layer, 'bias');
    inputs.push(g.floats(`${layer.name}.bias`, bias.shape, bias.data));
  }
  return { output: g.op('Gemm', inputs, layer.name) };
};
