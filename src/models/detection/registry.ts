/**
 * Named detectors. For every registered paper backbone B (resnet{26,38,50}, sasa_resnet{D}_convstem,
 * sasa_resnet{D}: baseline, conv stem + attention, full attention):
 *   retinanet_{B}           B with torchvision's conv FPN and subnets (retinanet_resnet50 is
 *                           torchvision's retinanet_resnet50_fpn)
 *   retinanet_{B}_attnfpn   B with the attention FPN and subnets (SASA.md §5)
 * so the paper's detection table (SASA.md §6.2) is the six retinanet_{resnet50,sasa_resnet50_convstem,
 * sasa_resnet50}[_attnfpn]. Defaults: 80 classes, 640×640.
 * The demo pair for the generated shapes dataset (4 classes, 256×256): retinanet_demo (resnet26 at
 * width ×0.25 with one block per group, 32-channel pyramid, subnets of depth 2, anchors of base sides
 * 16 … 256: the shapes are 8–153 px, and torchvision's 32 … 512 leave 29 % of their boxes without an
 * anchor of IoU ≥ 0.5, these 9 %; subnet weights from N(0, 0.028²), torchvision's per-layer gain at 32
 * channels: with its 0.01 the focal loss sat on its prior plateau for tens of steps) and
 * retinanet_demo_attnfpn (the same with attention, 4 heads, subnet σ 0.177: see ATTENTION_DEMO_SUBNET_STDDEV).
 */
import type * as tf from '../../tf.js';
import type { ModelConfig } from '../config.js';
import { PAPER_MODELS } from '../registry.js';
import { buildDetector, type DetectorBuildOptions } from './builder.js';
import type { BackboneConfig, DetectorConfig } from './config.js';

const DEMO: Omit<DetectorConfig, 'name' | 'fpn'> = {
  backbone: { name: 'resnet26', overrides: { widthMultiplier: 0.25, blocks: [1, 1, 1, 1] } },
  channels: 32,
  subnetDepth: 2,
  classes: 4,
  anchorSizes: [16, 32, 64, 128, 256],
  subnetStddev: 0.028,
  inputSize: 256,
  attention: { heads: 4 },
};

/**
 * The attention demo's subnet σ (W_V and the 1×1 predictors): 32^-0.5, the attention layer's own W_V
 * default at the demo's 32 channels. At the conv demo's 0.028 the initial class logits spread 100× less
 * than the conv demo's (the spread goes as σ⁴ through three attention layers and the 1×1 predictor) and
 * the small values make the next layer's queries small, so its attention stays a uniform 7×7 average:
 * at 0.11 a 45-epoch run's box loss stayed near 0.5 and its AP50 under 0.03 after 19 epochs; at 0.177 one
 * batch's focal loss leaves its plateau within 40 updates (1.10 at 0.11).
 */
const ATTENTION_DEMO_SUBNET_STDDEV = 0.177;

function registry(): Map<string, DetectorConfig> {
  const m = new Map<string, DetectorConfig>();
  for (const backbone of PAPER_MODELS) {
    m.set(`retinanet_${backbone}`, { name: `retinanet_${backbone}`, backbone: { name: backbone }, fpn: 'conv' });
    m.set(`retinanet_${backbone}_attnfpn`, {
      name: `retinanet_${backbone}_attnfpn`,
      backbone: { name: backbone },
      fpn: 'attention',
    });
  }
  m.set('retinanet_demo', { name: 'retinanet_demo', fpn: 'conv', ...DEMO });
  m.set('retinanet_demo_attnfpn', {
    name: 'retinanet_demo_attnfpn',
    fpn: 'attention',
    ...DEMO,
    subnetStddev: ATTENTION_DEMO_SUBNET_STDDEV,
  });
  return m;
}

const DETECTORS = registry();

/** Names of the registered detectors matching `pattern` ('*' wildcards; no pattern: all). */
export function listDetectors(pattern?: string): string[] {
  const names = [...DETECTORS.keys()];
  if (!pattern) return names;
  const escapeRegExp = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 'i');
  return names.filter((n) => re.test(n));
}

/** Two sets of backbone overrides, the second winning; stem and attention merged field by field. */
function mergeOverrides(a: Partial<ModelConfig> = {}, b: Partial<ModelConfig> = {}): Partial<ModelConfig> {
  const merged: Partial<ModelConfig> = { ...a, ...b };
  if (a.stem && b.stem) merged.stem = { ...a.stem, ...b.stem };
  if (a.attention && b.attention) merged.attention = { ...a.attention, ...b.attention };
  return merged;
}

/** Overrides of a detector: its fields, the backbone's name and overrides (merged with the registered ones). */
export type DetectorOverrides = Partial<Omit<DetectorConfig, 'backbone'>> & { backbone?: Partial<BackboneConfig> };

/** A registered detector's configuration with overrides (backbone and attention merged field by field). */
export function detectorConfig(name: string, overrides: DetectorOverrides = {}): DetectorConfig {
  const base = DETECTORS.get(name);
  if (!base) throw new Error(`unknown detector '${name}'; known detectors: ${listDetectors().join(', ')}`);
  return {
    ...base,
    ...overrides,
    backbone: {
      name: overrides.backbone?.name ?? base.backbone.name,
      overrides: mergeOverrides(base.backbone.overrides, overrides.backbone?.overrides),
    },
    attention: { ...base.attention, ...overrides.attention },
  };
}

/** Builds a registered detector, e.g. createDetector('retinanet_resnet50', { classes: 91, inputSize: 512 }). */
export function createDetector(
  name: string,
  overrides: DetectorOverrides = {},
  options: DetectorBuildOptions = {},
): tf.LayersModel {
  return buildDetector(detectorConfig(name, overrides), options);
}
