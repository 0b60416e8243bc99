/**
 * RetinaNet's classification and box subnets (torchvision 0.14's RetinaNetHead, v1), shared across P3 … P7:
 *   conv:      depth × (3×3 conv `channels` + ReLU) → 3×3 conv to A·n
 *   attention: depth × (attention `channels` + ReLU) → attention `channels` → 1×1 conv to A·n
 * (the detector's `heads`, by default its `fpn`)
 * (SASA.md §5: the predictor's 3×3 conv becomes attention too and an extra 1×1 conv at the end
 * mixes the attention heads; **choice**: no ReLU between them. the subnets' weights and their attention's W_V ~ N(0, σ²), σ = subnetStddev, torchvision's 0.01).
 * With `levelBatchNorm` (Google's TPU RetinaNet) each hidden layer is followed by a batch norm of its
 * level, then the ReLU: layer_i → BN_{i, level} → ReLU; the layers are shared, the batch norms are not.
 * n = K classes (bias −log((1 − π)/π), so every sigmoid starts at π) or 4 box deltas (bias 0).
 * Each level's [B, H, W, A·n] is read as [B, H·W·A, n] (location-major: row, column, then anchor,
 * the anchor generator's order) and the levels are concatenated: [B, Σ H·W·A, n].
 */
import * as tf from '../../tf.js';
import type { ResolvedDetector } from './config.js';
import { apply, attention, conv, levelNorm, type Sym } from './layers.js';

export type SubnetKind = 'classification' | 'regression';

/** The model's output names, in output order. */
export const DETECTOR_OUTPUTS = { classification: 'clsLogits', regression: 'boxRegression' } as const;

const PREFIX = { classification: 'head.classification_head', regression: 'head.regression_head' } as const;
const PREDICTOR = { classification: 'cls_logits', regression: 'bbox_reg' } as const;

/** The initial bias of the classification output: −log((1 − π)/π). */
export const priorBias = (prior: number) => -Math.log((1 - prior) / prior);

/** Hidden layer i of a subnet, applied to each level in turn: (level index, x) → y. */
type Hidden = (level: number, x: Sym) => Sym;

/** Hidden layer i: the shared spatial layer, then the level's batch norm with the ReLU, or the ReLU. */
function hiddenLayer(d: ResolvedDetector, prefix: string, i: number, seed: number | undefined): Hidden {
  const name = `${prefix}.conv.${i}`;
  const norm = d.levelBatchNorm;
  const spatial =
    d.heads === 'conv'
      ? conv({ name, filters: d.channels, kernelSize: 3, init: { stddev: d.subnetStddev }, relu: !norm, seed })
      : attention(d, name, seed, 1, d.subnetStddev);
  if (norm) {
    const norms = d.levels.map((l) => levelNorm(`${prefix}.norm.${i}.${l.name}`, true));
    return (level, x) => apply(norms[level], apply(spatial, x));
  }
  if (d.heads === 'conv') return (_level, x) => apply(spatial, x);
  const relu = tf.layers.reLU({ name: `${prefix}.relu.${i}` });
  return (_level, x) => apply(relu, apply(spatial, x));
}

/** The shared layers from the last hidden layer's output to a level's predictions [B, H, W, A·n]. */
function predictorLayers(d: ResolvedDetector, kind: SubnetKind, seed: number | undefined): tf.layers.Layer[] {
  const prefix = PREFIX[kind];
  const filters = d.anchorsPerLocation * (kind === 'classification' ? d.classes : 4);
  const bias = kind === 'classification' ? priorBias(d.priorProbability) : 0;
  const name = `${prefix}.${PREDICTOR[kind]}`;
  const init = { stddev: d.subnetStddev };
  if (d.heads === 'conv') return [conv({ name, filters, kernelSize: 3, init, bias, seed })];
  return [
    attention(d, `${prefix}.attention`, seed, 1, d.subnetStddev),
    conv({ name, filters, kernelSize: 1, init, bias, seed }),
  ];
}

/** One subnet on every level: [B, Σ H·W·A, n] with n = K (classification) or 4 (regression). */
export function buildSubnet(d: ResolvedDetector, kind: SubnetKind, levels: Sym[], seed?: number): Sym {
  const prefix = PREFIX[kind];
  const hidden = Array.from({ length: d.subnetDepth }, (_, i) => hiddenLayer(d, prefix, i, seed));
  const predictor = predictorLayers(d, kind, seed);
  const perAnchor = kind === 'classification' ? d.classes : 4;
  const reshape = tf.layers.reshape({ name: `${prefix}.reshape`, targetShape: [-1, perAnchor] });
  const outputs = levels.map((level, l) => {
    const features = hidden.reduce((x, layer) => layer(l, x), level);
    return apply(
      reshape,
      predictor.reduce((x, layer) => apply(layer, x), features),
    );
  });
  return apply(tf.layers.concatenate({ name: DETECTOR_OUTPUTS[kind], axis: 1 }), outputs);
}
