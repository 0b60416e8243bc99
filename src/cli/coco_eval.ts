/** `sasa coco-eval --gt GT.json --dt DETECTIONS.json`: COCO bounding-box AP/AR, as pycocotools computes them. */
import type { Command } from 'commander';
import type { CocoInstances } from '../data/coco/instances.js';
import { readCocoDetections, readCocoInstances } from '../data/coco/read.js';
import { writing } from '../io/files.js';
import { type CocoEvaluation, cocoEvaluate } from '../tasks/detection/coco_eval/evaluate.js';
import {
  averagePrCurves,
  type CategoryAp,
  SUMMARY_ITEMS,
  summaryLines,
} from '../tasks/detection/coco_eval/summarize.js';
import { linePlot, writePng } from '../viz/plots.js';

interface CocoEvalFlags {
  gt: string;
  dt: string;
  json?: boolean;
  perClass?: boolean;
  plot?: string;
}

/** A stage note on stderr, on a terminal only (never mixed into --json's stdout). */
function note(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`${text}\n`);
}

export function registerCocoEval(program: Command): void {
  program
    .command('coco-eval')
    .description("COCO bounding-box evaluation: the 12 AP/AR numbers of pycocotools' COCOeval, value for value")
    .requiredOption('--gt <file>', 'ground truth: a COCO instances JSON (images, annotations with area, categories)')
    .requiredOption(
      '--dt <file>',
      "detections: a results list [{image_id, category_id, bbox, score}] or a COCO-style object whose 'annotations' hold them",
    )
    .option('--json', "print one JSON object: stats (the 12 numbers in pycocotools' order) and each by name")
    .option('--per-class', 'also per-category AP and AP50 (area all, maxDets 100)')
    .option('--plot <png>', 'write precision–recall curves (area all, maxDets 100, mean over categories) per IoU')
    .action(async (flags: CocoEvalFlags) => {
      const started = performance.now();
      const gt = await readCocoInstances(flags.gt);
      const detections = await readCocoDetections(flags.dt, gt);
      note(
        `coco-eval: read ${gt.images.length} images, ${gt.annotations.length} ground truths, ${detections.length} detections`,
      );
      const result = cocoEvaluate(gt, detections);
      note(`coco-eval: done in ${((performance.now() - started) / 1000).toFixed(2)} s`);
      if (flags.plot) await writePrPlot(flags.plot, result);
      if (flags.json) console.log(JSON.stringify(jsonReport(result, gt, detections.length, flags)));
      else {
        console.log(summaryLines(result.stats, result.params).join('\n'));
        if (flags.perClass) console.log(`\n${formatPerClass(result.perCategory)}`);
      }
    });
}

function jsonReport(result: CocoEvaluation, gt: CocoInstances, numDetections: number, flags: CocoEvalFlags) {
  return {
    stats: result.stats,
    ...Object.fromEntries(SUMMARY_ITEMS.map((item, i) => [item.name, result.stats[i]])),
    images: gt.images.length,
    categories: gt.categories.length,
    groundTruths: gt.annotations.length,
    detections: numDetections,
    ...(flags.perClass ? { perClass: result.perCategory } : {}),
    ...(flags.plot ? { plot: flags.plot } : {}),
  };
}

/** Per-category table: name, id, AP, AP50; n/a for a category without counted ground truth. */
export function formatPerClass(rows: readonly CategoryAp[]): string {
  const value = (x: number) => (x > -1 ? x.toFixed(3) : 'n/a');
  const head = ['category', 'id', 'AP', 'AP50'];
  const body = rows.map((r) => [r.name, String(r.id), value(r.ap), value(r.ap50)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function writePrPlot(path: string, result: CocoEvaluation): Promise<void> {
  const curves = averagePrCurves(result, result.params);
  if (curves.every((c) => c.points.every(([, p]) => p < 0))) {
    throw new Error(`--plot ${path}: no category has ground truth, there is no precision–recall curve to draw`);
  }
  const series = curves.map(({ iou, points }) => ({
    name: `IoU ${iou.toFixed(2)}`,
    points: points.map(([r, p]): [number, number] => [r, p < 0 ? Number.NaN : p]),
  }));
  const title = 'precision vs recall, mean over categories';
  const plot = linePlot({ title, xLabel: 'recall', yLabel: 'precision', series, yRange: [0, 1] });
  await writing(path, 'the precision–recall plot', () => writePng(path, plot));
}
