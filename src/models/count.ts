/**
 * Analytic parameter and FLOP counts of a configuration (SASA.md §4): a multiply-add is 2 FLOPs;
 * convolutions 2·k²·c_in·c_out per output pixel; the classifier 2·features·classes; attention per
 * pixel of the layer's input (before pooling)
 *   2·(projections)·d_in·d_out + 2·k²·d_out for each of q·k, q·r and the weighted sum it computes.
 * Batch norm, activations, softmax, pooling and additions are not counted. Parameters are the
 * trainable weights (BN gamma and beta; not the moving statistics).
 */
import { type ModelConfig, type ResolvedBlock, type ResolvedConfig, resolveConfig, sameOut } from './config.js';

/**
 * Trainable parameters and forward FLOPs of one image (2 per multiply-add) of a layer, or of a part of a
 * network.
 */
export interface LayerCount {
  name: string;
  params: number;
  flops: number;
}

/**
 * {@link countModel}'s result: a configuration's trainable parameters and forward FLOPs of one image at
 * its input size, and the per-layer counts they sum.
 */
export interface ModelCount {
  name: string;
  params: number;
  flops: number;
  layers: LayerCount[];
}

function conv(name: string, k: number, cin: number, cout: number, outH: number, outW: number): LayerCount {
  return { name, params: k * k * cin * cout, flops: 2 * k * k * cin * cout * outH * outW };
}

const bn = (name: string, c: number): LayerCount => ({ name, params: 2 * c, flops: 0 });

/** A LocalSelfAttention2D layer d_in → d_out on an h×w input. */
export function attentionCount(
  name: string,
  dIn: number,
  dOut: number,
  h: number,
  w: number,
  a: ResolvedConfig['attention'],
): LayerCount {
  const qk = a.logits !== 'qr';
  const qr = a.positional === 'relative' && a.logits !== 'qk';
  const projections = qk ? 3 : 2;
  const k2 = a.kernelSize * a.kernelSize;
  const params = projections * dIn * dOut + (a.positional === 'relative' ? a.kernelSize * dOut : 0);
  const perPixel = 2 * projections * dIn * dOut + 2 * k2 * dOut * ((qk ? 1 : 0) + (qr ? 1 : 0) + 1);
  return { name, params, flops: perPixel * h * w };
}

function stemCounts(c: ResolvedConfig): LayerCount[] {
  const s = c.stem;
  const size = c.inputSize;
  const cin = c.inputChannels;
  if (s.type === 'conv')
    return [conv('stem.conv', 7, cin, s.width, sameOut(size, 2), sameOut(size, 2)), bn('stem.bn', s.width)];
  if (s.type === 'small_conv') return [conv('stem.conv', 3, cin, s.width, size, size), bn('stem.bn', s.width)];
  // attention stem: 4×4 blocks, q and k projections, values, attention over the block's 16 pixels
  const block = 4;
  const d = s.width;
  const e = Math.max(1, Math.floor(d / s.heads));
  let valueParams: number;
  let valueFlopsPerPixel: number;
  if (s.values === 'mixture') {
    valueParams = s.mixtures * cin * d + 2 * block * e + s.mixtures * e;
    valueFlopsPerPixel = 2 * s.mixtures * cin * d;
  } else if (s.values === 'conv') {
    valueParams = 9 * cin * d;
    valueFlopsPerPixel = 2 * 9 * cin * d;
  } else {
    valueParams = cin * d;
    valueFlopsPerPixel = 2 * cin * d;
  }
  const positions = block * block;
  const params = 2 * cin * d + valueParams + (s.relative ? (2 * block - 1) * d : 0);
  const perPixel = 2 * 2 * cin * d + valueFlopsPerPixel + 2 * positions * d * (s.relative ? 3 : 2);
  return [{ name: 'stem', params, flops: perPixel * size * size }, bn('stem.bn', d)];
}

function blockCounts(b: ResolvedBlock, c: ResolvedConfig): LayerCount[] {
  const [h, w] = b.inputSize;
  const [oh, ow] = [sameOut(h, b.stride), sameOut(w, b.stride)];
  const n = b.name;
  const spatial =
    b.spatial === 'conv'
      ? conv(`${n}.conv2`, 3, b.width, b.width, oh, ow)
      : attentionCount(`${n}.conv2`, b.width, b.width, h, w, c.attention);
  const out = [
    conv(`${n}.conv1`, 1, b.inChannels, b.width, h, w),
    bn(`${n}.bn1`, b.width),
    spatial,
    bn(`${n}.bn2`, b.width),
    conv(`${n}.conv3`, 1, b.width, b.outChannels, oh, ow),
    bn(`${n}.bn3`, b.outChannels),
  ];
  if (b.projection) {
    out.push(conv(`${n}.downsample.0`, 1, b.inChannels, b.outChannels, oh, ow), bn(`${n}.downsample.1`, b.outChannels));
  }
  return out;
}

/** Parameters and FLOPs of a configuration, layer by layer and in total. */
export function countModel(config: ModelConfig | ResolvedConfig): ModelCount {
  const c = 'source' in config ? config : resolveConfig(config);
  const layers = [
    ...stemCounts(c),
    ...c.blocks.flatMap((b) => blockCounts(b, c)),
    { name: 'fc', params: (c.features + 1) * c.classes, flops: 2 * c.features * c.classes },
  ];
  return {
    name: c.name,
    params: layers.reduce((s, l) => s + l.params, 0),
    flops: layers.reduce((s, l) => s + l.flops, 0),
    layers,
  };
}
