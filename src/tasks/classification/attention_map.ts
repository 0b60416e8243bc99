/**
 * Attention maps: where one query pixel of one attention layer (the attention stem included) looks, per head.
 * For a model and one input image x [1, S, S, C]: the layer's input is computed by the model's layers
 * below it, and the layer gives the softmax weights of the pixel, [heads, k, k]
 * (LocalSelfAttention2D / AttentionStem attentionWeights → ops/local_attention/weights.ts). Pixels are
 * given in the input image's coordinates and mapped onto the layer's resolution:
 *   row = floor(y · H_layer / S), col = floor(x · W_layer / S).
 * No Node modules here: the web page imports this file as it is.
 */
import { AttentionStem } from '../../layers/attention_stem.js';
import { LocalSelfAttention2D } from '../../layers/local_self_attention.js';
import * as tf from '../../tf.js';

/** An attention layer of a model, as `sasa layers` lists it. */
export interface AttentionLayerInfo {
  name: string;
  kind: 'stem' | 'attention';
  /** Height and width of the layer's attention (its input's, before any pooling). */
  resolution: [number, number];
  kernelSize: number;
  heads: number;
}

/** The weights of one query pixel: `heads[n][da][db]`, each head's k×k weights summing to 1. */
export interface AttentionMap {
  layer: string;
  /** The query pixel [x, y] in the input image. */
  pixel: [number, number];
  /** The same pixel [x, y] at the layer's resolution: the centre of each head's window. */
  layerPixel: [number, number];
  resolution: [number, number];
  kernelSize: number;
  heads: number[][][];
}

type AttentionLayer = LocalSelfAttention2D | AttentionStem;

function infoOf(layer: AttentionLayer): AttentionLayerInfo {
  const shape = layer.inputSpec?.[0]?.shape ?? (layer.input as tf.SymbolicTensor).shape;
  const resolution: [number, number] = [shape[1] as number, shape[2] as number];
  if (layer instanceof AttentionStem) {
    const { block, heads } = layer.options;
    return { name: layer.name, kind: 'stem', resolution, kernelSize: 2 * block - 1, heads };
  }
  return { name: layer.name, kind: 'attention', resolution, kernelSize: layer.kernelSize, heads: layer.heads };
}

const isAttention = (l: tf.layers.Layer): l is AttentionLayer =>
  l instanceof LocalSelfAttention2D || l instanceof AttentionStem;

/** The model's attention layers, input to output (the stem first). */
export function attentionLayers(model: tf.LayersModel): AttentionLayerInfo[] {
  return model.layers.filter(isAttention).map(infoOf);
}

function findLayer(model: tf.LayersModel, name: string): AttentionLayer {
  const layers = model.layers.filter(isAttention);
  const layer = layers.find((l) => l.name === name);
  if (!layer) {
    const known = layers.map((l) => l.name).join(', ') || 'none';
    throw new Error(`unknown layer '${name}': the model's attention layers are ${known}`);
  }
  return layer;
}

const inputModels = new WeakMap<tf.LayersModel, Map<string, tf.LayersModel>>();

/** The layer's input for x, computed by the layers below it (sub-models cached per model and layer). */
function layerInput(model: tf.LayersModel, layer: AttentionLayer, x: tf.Tensor4D): tf.Tensor4D {
  const symbolic = layer.input as tf.SymbolicTensor;
  if (model.inputs.includes(symbolic)) return x;
  let byLayer = inputModels.get(model);
  if (!byLayer) {
    byLayer = new Map();
    inputModels.set(model, byLayer);
  }
  let sub = byLayer.get(layer.name);
  if (!sub) {
    sub = tf.model({ inputs: model.inputs, outputs: symbolic });
    byLayer.set(layer.name, sub);
  }
  return sub.predict(x) as tf.Tensor4D;
}

/** Checks a pixel [x, y] of a size × size image; the error names `what`. */
export function checkPixel(pixel: readonly number[], size: number, what = 'pixel'): void {
  const ok = pixel.length === 2 && pixel.every((v) => Number.isInteger(v) && v >= 0 && v < size);
  if (!ok) {
    throw new Error(
      `${what} ${pixel.join(',')} is outside the image: x and y must be integers from 0 to ${size - 1} (the model's input is ${size}×${size})`,
    );
  }
}

/**
 * The attention map of `pixel` ([x, y] in x's image; default its centre) at the layer named `layerName`
 * (default: the first attention layer). x: the model's input [1, S, S, C], normalised.
 */
export function attentionMap(
  model: tf.LayersModel,
  x: tf.Tensor4D,
  layerName?: string,
  pixel?: readonly [number, number],
): AttentionMap {
  const [, size] = x.shape;
  const name = layerName ?? attentionLayers(model)[0]?.name;
  if (name === undefined) throw new Error('the model has no attention layers');
  const layer = findLayer(model, name);
  const info = infoOf(layer);
  const [px, py] = pixel ?? [Math.floor(size / 2), Math.floor(size / 2)];
  checkPixel([px, py], size);
  const [h, w] = info.resolution;
  const row = Math.floor((py * h) / size);
  const col = Math.floor((px * w) / size);
  const weights = tf.tidy(() => layer.attentionWeights(layerInput(model, layer, x), [[0, row, col]]).arraySync());
  return {
    layer: name,
    pixel: [px, py],
    layerPixel: [col, row],
    resolution: info.resolution,
    kernelSize: info.kernelSize,
    heads: weights[0],
  };
}
