/**
 * The convolutions a built model runs, grouped by geometry: the list `bench/model_convs.ts` prints
 * and `bench/compare.mjs --cases <model>-convs` times one by one against PyTorch, so that a model's
 * gap can be split by convolution shape.
 *
 * Read off the built network (every call of every convolution layer — ours, layers/conv2d.ts, or
 * tfjs-layers' Conv2D in a model loaded from an older save — with the shape of the tensor it was
 * called on), not re-derived from the configuration, so it lists what the builder really made.
 * Convolutions inside other layers (attention projections, the attention stem) are not listed.
 */
import type * as tf from '../tf.js';

/**
 * One distinct convolution geometry of a built model ({@link modelConvs}): input [B, H, W, C] and output
 * [B, OH, OW, filters], kernel, stride, padding, forward FLOPs, and how often and in which layers one step
 * runs it.
 */
export interface ModelConv {
  /** Input [B, H, W, C] (NHWC). */
  shape: [number, number, number, number];
  filters: number;
  /** k of the k×k kernel. */
  kernel: number;
  stride: number;
  padding: 'same' | 'valid';
  /**
   * The input is the model's input: a training step needs no gradient w.r.t. it, and neither side
   * computes one (PyTorch: the input does not require grad; ours: layers/conv2d.ts's gradient is
   * per input).
   */
  modelInput: boolean;
  /** Output [B, OH, OW, filters]. */
  outShape: [number, number, number, number];
  /** Forward FLOPs of one call (2 per multiply-add). */
  flops: number;
  /** How many times one step runs this convolution, and the layers that do. */
  count: number;
  layers: string[];
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v]) as [number, number];

/** Output size of a convolution along one axis (tfjs's 'same' / 'valid'). */
function outSize(size: number, k: number, stride: number, padding: string): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - k) / stride) + 1;
}

/**
 * Every distinct 2-D convolution of `model` at batch size `batch`, in the order the network first
 * runs it. Throws on what `sasa bench conv` cannot express (non-square kernels or strides,
 * dilation, channels-first data, grouped convolutions).
 */
export function modelConvs(model: tf.LayersModel, batch: number): ModelConv[] {
  const inputIds = new Set(model.inputs.map((t) => t.id));
  const byKey = new Map<string, ModelConv>();
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className !== 'SasaConv2D' && className !== 'Conv2D') continue;
    const cfg = { padding: 'same', ...layer.getConfig() } as Record<string, unknown>;
    const [kh, kw] = pair(cfg.kernelSize);
    const [sh, sw] = pair(cfg.strides);
    const [dh, dw] = pair(cfg.dilationRate ?? 1);
    const padding = cfg.padding as string;
    const why =
      kh !== kw
        ? `kernel ${kh}x${kw} is not square`
        : sh !== sw
          ? `strides ${sh}x${sw} differ`
          : dh !== 1 || dw !== 1
            ? `dilation ${dh}x${dw}`
            : (cfg.dataFormat ?? 'channelsLast') !== 'channelsLast'
              ? `data format ${String(cfg.dataFormat)}`
              : padding !== 'same' && padding !== 'valid'
                ? `padding ${padding}`
                : (cfg.groups ?? 1) !== 1
                  ? `groups ${String(cfg.groups)}`
                  : '';
    if (why) throw new Error(`modelConvs: layer ${layer.name}: ${why} (sasa bench conv cannot express it)`);
    const filters = cfg.filters as number;
    // One entry per call of the layer (a shared layer is called more than once).
    for (const node of layer.inboundNodes) {
      const input = node.inputTensors[0];
      const [, h, w, c] = input.shape as number[];
      const shape: ModelConv['shape'] = [batch, h, w, c];
      const outShape: ModelConv['outShape'] = [
        batch,
        outSize(h, kh, sh, padding),
        outSize(w, kw, sw, padding),
        filters,
      ];
      const modelInput = inputIds.has(input.id);
      const key = `${shape}|${filters}|${kh}|${sh}|${padding}|${modelInput}`;
      const e = byKey.get(key);
      if (e) {
        e.count++;
        e.layers.push(layer.name);
        continue;
      }
      byKey.set(key, {
        shape,
        filters,
        kernel: kh,
        stride: sh,
        padding: padding as ModelConv['padding'],
        modelInput,
        outShape,
        flops: 2 * kh * kw * c * filters * outShape[0] * outShape[1] * outShape[2],
        count: 1,
        layers: [layer.name],
      });
    }
  }
  return [...byKey.values()];
}
