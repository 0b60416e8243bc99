/**
 * The feature pyramid (torchvision 0.14's FeaturePyramidNetwork + LastLevelP6P7(256, 256), as in
 * `retinanet_resnet50_fpn`), C3, C4, C5 [B, H/s, W/s, C_s] → P3 … P7 [B, H/s, W/s, channels]:
 *   inner_i = 1×1 conv(C_i)                            (lateral, with bias)
 *   top-down: M5 = inner_5, M_i = inner_i + up2(M_{i+1})  (nearest-neighbour 2× upsampling)
 *   P_i = spatial(M_i)                                  (3×3 conv, or attention)
 *   P6 = spatial_stride2(P5)                            (v1 takes P5, not C5: in_channels = out_channels)
 *   P7 = spatial_stride2(ReLU(P6))
 * and, with `levelBatchNorm` (Google's TPU RetinaNet), P_i ← BN_i(P_i) on every level once all are made.
 * Input sides must be multiples of 128 so that each level is exactly half the one below it.
 */
import * as tf from '../../tf.js';
import type { ResolvedDetector } from './config.js';
import { apply, conv, fpnSpatial, levelNorm, type Sym } from './layers.js';

/** P3 … P7 from C3, C4, C5. */
export function buildPyramid(d: ResolvedDetector, backbone: [Sym, Sym, Sym], seed?: number): Sym[] {
  const inner = backbone.map((c, i) =>
    apply(conv({ name: `fpn.inner_blocks.${i}`, filters: d.channels, kernelSize: 1, init: 'fpn', seed }), c),
  );
  const merged: Sym[] = [inner[2]];
  for (let i = 1; i >= 0; i--) {
    const up = tf.layers.upSampling2d({ name: `fpn.upsample.${i}`, size: [2, 2], interpolation: 'nearest' });
    merged.unshift(apply(tf.layers.add({ name: `fpn.add.${i}` }), [inner[i], apply(up, merged[0])]));
  }
  const outputs = merged.map((m, i) => apply(fpnSpatial(d, `fpn.layer_blocks.${i}`, seed), m));
  const p6 = apply(fpnSpatial(d, 'fpn.extra_blocks.p6', seed, 2), outputs[2]);
  const p7 = apply(
    fpnSpatial(d, 'fpn.extra_blocks.p7', seed, 2),
    apply(tf.layers.reLU({ name: 'fpn.extra_blocks.relu' }), p6),
  );
  const levels = [...outputs, p6, p7];
  if (!d.levelBatchNorm) return levels;
  return levels.map((p, i) => apply(levelNorm(`fpn.norm.${d.levels[i].name}`, false), p));
}
