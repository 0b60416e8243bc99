/**
 * RetinaNet's classification and box subnets (torchvision 0.14's RetinaNetHead, v1), shared across P3 … P7:
 *   conv:      depth × (3×3 conv `channels` + ReLU) → 3×3 conv to A·n
 *   attention: depth × (attention `channels` + ReLU) → attention `channels` → 1×1 conv to A·n
 * (SASA.md §5: the predictor's 3×3 conv becomes attention too and an extra 1×1 conv at the end
 * mixes the attention heads; **choice**: no ReLU between them. the subnets' weights and their attention's W_V ~ N(0, σ²), σ = subnetStddev, torchvision's 0.01).
 * n = K classes (bias −log((1 − π)/π), so every sigmoid starts at π) or 4 box deltas (bias 0).
 * Each level's [B, H, W, A·n] is read as [B, H·W·A, n] (location-major: row, column, then anchor,
 * the anchor generator's order) and the levels are concatenated: [B, Σ H·W·A, n].
 */
import * as tf from '../../tf.js';
import type { ResolvedDetector } from './config.js';
import { apply, attention, conv, type Sym } from './layers.js';

export type SubnetKind = 'classification' | 'regression';

/** The model's output names, in output order. */
export const DETECTOR_OUTPUTS = { classification: 'clsLogits', regression: 'boxRegression' } as const;

const PREFIX = { classification: 'head.classification_head', regression: 'head.regression_head' } as const;
const PREDICTOR = { classification: 'cls_logits', regression: 'bbox_reg' } as const;

/** The initial bias of the classification output: −log((1 − π)/π). */
export const priorBias = (prior: number) => -Math.log((1 - prior) / prior);

/** The layers from a level's features [B, H, W, channels] to its predictions [B, H, W, A·n], in order. */
function subnetLayers(d: ResolvedDetector, kind: SubnetKind, seed: number | undefined): tf.layers.Layer[] {
  const prefix = PREFIX[kind];
  const filters = d.anchorsPerLocation * (kind === 'classification' ? d.classes : 4);
  const bias = kind === 'classification' ? priorBias(d.priorProbability) : 0;
  const name = `${prefix}.${PREDICTOR[kind]}`;
  const init = { stddev: d.subnetStddev };
  const layers: tf.layers.Layer[] = [];
  for (let i = 0; i < d.subnetDepth; i++) {
    if (d.fpn === 'conv') {
      layers.push(conv({ name: `${prefix}.conv.${i}`, filters: d.channels, kernelSize: 3, init, relu: true, seed }));
    } else {
      layers.push(
        attention(d, `${prefix}.conv.${i}`, seed, 1, d.subnetStddev),
        tf.layers.reLU({ name: `${prefix}.relu.${i}` }),
      );
    }
  }
  if (d.fpn === 'conv') layers.push(conv({ name, filters, kernelSize: 3, init, bias, seed }));
  else
    layers.push(
      attention(d, `${prefix}.attention`, seed, 1, d.subnetStddev),
      conv({ name, filters, kernelSize: 1, init, bias, seed }),
    );
  return layers;
}

/** One subnet on every level: [B, Σ H·W·A, n] with n = K (classification) or 4 (regression). */
export function buildSubnet(d: ResolvedDetector, kind: SubnetKind, levels: Sym[], seed?: number): Sym {
  const layers = subnetLayers(d, kind, seed);
  const perAnchor = kind === 'classification' ? d.classes : 4;
  const reshape = tf.layers.reshape({ name: `${PREFIX[kind]}.reshape`, targetShape: [-1, perAnchor] });
  const outputs = levels.map((level) =>
    apply(
      reshape,
      layers.reduce((x, layer) => apply(layer, x), level),
    ),
  );
  return apply(tf.layers.concatenate({ name: DETECTOR_OUTPUTS[kind], axis: 1 }), outputs);
}
