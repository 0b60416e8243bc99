/**
 * `sasa table [--study NAME] [--json]`: parameters and FLOPs of the paper's models, ablation studies
 * and detectors (`--study detection`: RetinaNet at 640×640, models/detection/studies.ts).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { countModel } from '../models/count.js';
import { countDetector } from '../models/detection/count.js';
import { DETECTION_STUDY, DETECTION_TABLE_SIZE, detectionStudyConfigs } from '../models/detection/studies.js';
import { STUDIES, studyConfigs, TABLE_STUDIES, type TableStudy } from '../models/studies.js';

/** The paper's Table 1 (params in millions, FLOPs in billions), shown beside our counts. */
const PAPER: Record<string, [number, number]> = {
  resnet26: [13.7, 4.7],
  sasa_resnet26_convstem: [10.3, 4.5],
  sasa_resnet26: [10.3, 4.7],
  resnet38: [19.6, 6.5],
  sasa_resnet38_convstem: [14.1, 5.7],
  sasa_resnet38: [14.1, 6.1],
  resnet50: [25.6, 8.2],
  sasa_resnet50_convstem: [18.0, 7.0],
  sasa_resnet50: [18.0, 7.2],
};

export interface TableRow {
  name: string;
  label: string;
  params: number;
  flops: number;
  paper: { params_m: number; flops_b: number } | null;
  config: unknown;
}

function detectionRows(): TableRow[] {
  return detectionStudyConfigs().map(({ label, config }) => {
    const c = countDetector(config);
    return { name: c.name, label, params: c.params, flops: c.flops, paper: null, config };
  });
}

export function tableRows(study: TableStudy): TableRow[] {
  if (study === DETECTION_STUDY) return detectionRows();
  return studyConfigs(study).map(({ label, config }) => {
    const c = countModel(config);
    const paper = study === 'paper' ? PAPER[label] : undefined;
    return {
      name: c.name,
      label,
      params: c.params,
      flops: c.flops,
      paper: paper ? { params_m: paper[0], flops_b: paper[1] } : null,
      config,
    };
  });
}

export function formatTable(rows: TableRow[]): string {
  const head = ['model', 'params', 'FLOPs', ...(rows.some((r) => r.paper) ? ['paper params', 'paper FLOPs'] : [])];
  const body = rows.map((r) => [
    r.label,
    `${(r.params / 1e6).toFixed(1)} M`,
    `${(r.flops / 1e9).toFixed(1)} B`,
    ...(r.paper ? [`${r.paper.params_m.toFixed(1)} M`, `${r.paper.flops_b.toFixed(1)} B`] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export function registerTable(program: Command): void {
  program
    .command('table')
    .description(
      `parameters and FLOPs (224×224, detection ${DETECTION_TABLE_SIZE}×${DETECTION_TABLE_SIZE}; multiply-add = 2 FLOPs) of the paper table, an ablation study or the detectors`,
    )
    .option(
      '--study <name>',
      `paper (the nine models of the main table), an ablation: ${STUDIES.slice(1).join(', ')}, or ${DETECTION_STUDY} (RetinaNet)`,
      (v: string) => {
        if (!(TABLE_STUDIES as readonly string[]).includes(v)) {
          throw new InvalidArgumentError(`--study must be one of ${TABLE_STUDIES.join(', ')}, got '${v}'`);
        }
        return v;
      },
      'paper',
    )
    .option('--json', 'print one JSON array of {name, label, params, flops, paper, config}')
    .action((flags: { study: TableStudy; json?: boolean }) => {
      const rows = tableRows(flags.study);
      if (flags.json) console.log(JSON.stringify(rows));
      else {
        console.log(formatTable(rows));
        console.log(
          flags.study === DETECTION_STUDY
            ? `\nAt ${DETECTION_TABLE_SIZE}×${DETECTION_TABLE_SIZE}, 80 classes. FLOPs: convolutions and attention of backbone, FPN and subnets (SASA.md §4); biases, BN, activations, softmax, pooling, upsampling and additions not counted.`
            : '\nFLOPs: convolutions, the classifier and attention (SASA.md §4); BN, activations, softmax and pooling not counted.',
        );
      }
    });
}
