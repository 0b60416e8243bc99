/**
 * The configurations compared by the paper (SASA.md §6):
 * - paper: the nine models of the main table (baseline, conv stem + attention, full attention × 26/38/50);
 * - groups: attention in the last groups (conv in groups 1..j) and the reverse, on ResNet-50;
 * - k: spatial extent 3, 5, 7, 9, 11; encoding: none, absolute, relative; logits: q·k + q·r or q·r;
 *   all on ResNet-50 with the conv stem and attention in every group;
 * - stem: the full-attention ResNet-50 with the stand-alone (plain values), spatial-convolution
 *   and spatially-aware value stems.
 * `base` overrides (e.g. a width multiplier, classes or input size for a small dataset) apply to
 * every configuration of a study.
 */
import type { ModelConfig, SpatialOp } from './config.js';
import { DETECTION_STUDY } from './detection/studies.js';
import { mergeConfig, modelConfig, PAPER_MODELS } from './registry.js';

/** The studies' names (the file's comment says what each compares). */
export const STUDIES = ['paper', 'groups', 'k', 'encoding', 'logits', 'stem'] as const;
/** The name of one of the paper's studies: one of {@link STUDIES}. */
export type Study = (typeof STUDIES)[number];

/** What `sasa table` shows: these studies and the detection table (models/detection/studies.ts). */
export const TABLE_STUDIES = [...STUDIES, DETECTION_STUDY] as const;
export type TableStudy = (typeof TABLE_STUDIES)[number];

/** One configuration of a study ({@link studyConfigs}): its label and its model configuration. */
export interface StudyEntry {
  /** Short label of the configuration inside its study, e.g. 'k=7' or 'conv 1,2 / attention 3,4'. */
  label: string;
  config: ModelConfig;
}

function groupsLabel(spatial: SpatialOp[]): string {
  const list = (op: SpatialOp) =>
    spatial
      .map((s, i) => (s === op ? i + 1 : 0))
      .filter((g) => g > 0)
      .join(',') || '-';
  return `conv ${list('conv')} / attention ${list('attention')}`;
}

function groupsStudy(): SpatialOp[][] {
  const out: SpatialOp[][] = [];
  for (let j = 0; j <= 4; j++) out.push([0, 1, 2, 3].map((g) => (g < j ? 'conv' : 'attention')));
  for (let j = 3; j >= 1; j--) out.push([0, 1, 2, 3].map((g) => (g < j ? 'attention' : 'conv')));
  return out;
}

/** Every configuration of a study, with `base` overrides applied (unknown studies list the known ones). */
export function studyConfigs(study: string, base: Partial<ModelConfig> = {}): StudyEntry[] {
  const r50 = (label: string, overrides: Partial<ModelConfig>, name = 'sasa_resnet50_convstem'): StudyEntry => {
    const config = mergeConfig(modelConfig(name, overrides), base);
    return { label, config: { ...config, name: `${name} (${label})` } };
  };
  switch (study) {
    case 'paper':
      return PAPER_MODELS.map((name) => ({ label: name, config: mergeConfig(modelConfig(name), base) }));
    case 'groups':
      return groupsStudy().map((spatial) => r50(groupsLabel(spatial), { spatial }));
    case 'k':
      return [3, 5, 7, 9, 11].map((k) => r50(`k=${k}`, { attention: { kernelSize: k } }));
    case 'encoding':
      return (['none', 'absolute', 'relative'] as const).map((p) =>
        r50(`positional=${p}`, { attention: { positional: p } }),
      );
    case 'logits':
      return (['qk+qr', 'qr'] as const).map((l) => r50(`logits=${l}`, { attention: { logits: l } }));
    case 'stem':
      return (['plain', 'conv', 'mixture'] as const).map((v) =>
        r50(`stem values=${v}`, { stem: { type: 'attention', values: v } }, 'sasa_resnet50'),
      );
    default:
      throw new Error(`unknown study '${study}'; known studies: ${STUDIES.join(', ')}`);
  }
}
