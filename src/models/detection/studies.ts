/**
 * The paper's detection table (SASA.md §6.2): RetinaNet with conv or attention FPN + subnets over the
 * three ResNet-50 backbones (baseline, conv stem + attention, full attention), counted at
 * DETECTION_TABLE_SIZE × DETECTION_TABLE_SIZE (the paper's 640 training crop) with COCO's 80 classes.
 */
import type { DetectorConfig } from './config.js';
import { type DetectorOverrides, detectorConfig } from './registry.js';

export const DETECTION_STUDY = 'detection';

/** Input side of the detection table's counts. */
export const DETECTION_TABLE_SIZE = 640;

export interface DetectionStudyEntry {
  /** e.g. 'sasa_resnet50_convstem + attention FPN/heads'. */
  label: string;
  config: DetectorConfig;
}

const BACKBONES = ['resnet50', 'sasa_resnet50_convstem', 'sasa_resnet50'] as const;

/** The six detectors of the table, with `base` overrides applied to each. */
export function detectionStudyConfigs(base: DetectorOverrides = {}): DetectionStudyEntry[] {
  return BACKBONES.flatMap((backbone) =>
    (['conv', 'attention'] as const).map((fpn) => ({
      label: `${backbone} + ${fpn} FPN/heads`,
      config: detectorConfig(`retinanet_${backbone}${fpn === 'attention' ? '_attnfpn' : ''}`, {
        inputSize: DETECTION_TABLE_SIZE,
        ...base,
      }),
    })),
  );
}
