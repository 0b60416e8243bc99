/**
 * Our side of the COCO evaluation bench, in one process: reading + validating both files, then
 * cocoEvaluate (grouping, matching, accumulate, summary) --runs times (median and best: the steadier
 * figure on a shared machine). Prints one JSON object with the times (s), the 12 stats and the peak RSS (MB).
 *
 *   node --import tsx bench/coco_eval/time_sasa.ts DIR [--runs 5]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCocoDetections, readCocoInstances } from '../../src/data/coco/read.js';
import { cocoEvaluate } from '../../src/tasks/detection/coco_eval/evaluate.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '5' } },
});
const dir = positionals[0];
const seconds = (from: number) => (performance.now() - from) / 1000;
let t = performance.now();
const gt = await readCocoInstances(join(dir, 'gt.json'));
const detections = await readCocoDetections(join(dir, 'dt.json'), gt);
const loadSeconds = seconds(t);
const times: number[] = [];
let stats: number[] = [];
for (let r = 0; r < Number(values.runs); r++) {
  t = performance.now();
  stats = cocoEvaluate(gt, detections).stats;
  times.push(seconds(t));
}
times.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    loadSeconds,
    evaluateSeconds: times[Math.floor(times.length / 2)],
    evaluateBestSeconds: times[0],
    evaluateRuns: times,
    stats,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
