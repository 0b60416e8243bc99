/**
 * pycocotools' `summarize()`: the 12 numbers, their printed lines, per-category AP and the averaged
 * precision–recall curves. Every mean is over the entries > −1; −1 when there are none.
 */
import type { Accumulated } from './accumulate.js';
import type { CocoEvalParams } from './params.js';

/** One summary number: AP (precision) or AR (recall), at one IoU threshold or all, one area range, one maxDets. */
export interface SummaryItem {
  kind: 'AP' | 'AR';
  /** A single IoU threshold, or null for the mean over all. */
  iou: number | null;
  area: string;
  /** Index into params.maxDetections. */
  maxDetIndex: number;
  /** The JSON name of the number. */
  name: string;
}

/** The 12 numbers in pycocotools' order (`_summarizeDets`). */
export const SUMMARY_ITEMS: readonly SummaryItem[] = [
  { kind: 'AP', iou: null, area: 'all', maxDetIndex: 2, name: 'AP' },
  { kind: 'AP', iou: 0.5, area: 'all', maxDetIndex: 2, name: 'AP50' },
  { kind: 'AP', iou: 0.75, area: 'all', maxDetIndex: 2, name: 'AP75' },
  { kind: 'AP', iou: null, area: 'small', maxDetIndex: 2, name: 'APs' },
  { kind: 'AP', iou: null, area: 'medium', maxDetIndex: 2, name: 'APm' },
  { kind: 'AP', iou: null, area: 'large', maxDetIndex: 2, name: 'APl' },
  { kind: 'AR', iou: null, area: 'all', maxDetIndex: 0, name: 'AR1' },
  { kind: 'AR', iou: null, area: 'all', maxDetIndex: 1, name: 'AR10' },
  { kind: 'AR', iou: null, area: 'all', maxDetIndex: 2, name: 'AR100' },
  { kind: 'AR', iou: null, area: 'small', maxDetIndex: 2, name: 'ARs' },
  { kind: 'AR', iou: null, area: 'medium', maxDetIndex: 2, name: 'ARm' },
  { kind: 'AR', iou: null, area: 'large', maxDetIndex: 2, name: 'ARl' },
];

/** Mean of the selected entries that are > −1; −1 if none. */
function meanDefined(values: Float64Array, indices: Iterable<number>): number {
  let sum = 0;
  let n = 0;
  for (const i of indices) {
    const v = values[i];
    if (v > -1) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? -1 : sum / n;
}

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/**
 * One summary number (pycocotools' `_summarize`): the mean over entries > −1 of precision[t, :, :, a, m]
 * (AP) or recall[t, :, a, m] (AR), t over the chosen thresholds; an IoU or area label the params lack gives −1.
 */
export function summaryValue(acc: Accumulated, params: CocoEvalParams, item: SummaryItem): number {
  const [T, R, K, A, M] = acc.shape;
  const a = params.areaRanges.findIndex((r) => r.label === item.area);
  const m = item.maxDetIndex < M ? item.maxDetIndex : -1;
  const ts = item.iou === null ? [...range(T)] : params.iouThresholds.flatMap((x, t) => (x === item.iou ? [t] : []));
  if (a < 0 || m < 0) return -1;
  const ap = item.kind === 'AP';
  const values = ap ? acc.precision : acc.recall;
  const points = ap ? R : 1;
  let sum = 0;
  let n = 0;
  for (const t of ts) {
    for (let r = 0; r < points; r++) {
      for (let k = 0; k < K; k++) {
        const v = values[(((ap ? t * R + r : t) * K + k) * A + a) * M + m];
        if (v > -1) {
          sum += v;
          n++;
        }
      }
    }
  }
  return n === 0 ? -1 : sum / n;
}

/** The 12 numbers in pycocotools' order. */
export function summaryStats(acc: Accumulated, params: CocoEvalParams): number[] {
  return SUMMARY_ITEMS.map((item) => summaryValue(acc, params, item));
}

/** The summary lines, worded and formatted as pycocotools prints them. */
export function summaryLines(stats: readonly number[], params: CocoEvalParams): string[] {
  const ious = params.iouThresholds;
  return SUMMARY_ITEMS.map((item, i) => {
    const title = item.kind === 'AP' ? 'Average Precision' : 'Average Recall';
    const iou = item.iou === null ? `${ious[0].toFixed(2)}:${ious[ious.length - 1].toFixed(2)}` : item.iou.toFixed(2);
    const maxDets = String(params.maxDetections[item.maxDetIndex]).padStart(3);
    return ` ${title.padEnd(18)} (${item.kind}) @[ IoU=${iou.padEnd(9)} | area=${item.area.padStart(6)} | maxDets=${maxDets} ] = ${fixed3(stats[i])}`;
  });
}

/** Python's `'{:0.3f}'`: like toFixed(3), but an exact tie rounds to even. */
export function fixed3(x: number): string {
  const twice = x * 2000;
  if (Number.isInteger(twice) && Math.abs(twice) % 2 === 1) {
    const lower = Math.floor(x * 1000);
    const even = lower % 2 === 0 ? lower : lower + 1;
    return (even / 1000).toFixed(3);
  }
  return x.toFixed(3);
}

/**
 * One category's AP from a COCO evaluation (`perCategoryAp`): its id and name, AP over IoU 0.50:0.95 and
 * AP at IoU 0.5.
 */
export interface CategoryAp {
  id: number;
  name: string;
  /** Mean precision over IoU 0.50:0.95 (area all, the largest maxDets); −1 without counted ground truth. */
  ap: number;
  /** The same at IoU 0.5 alone. */
  ap50: number;
}

/** Per-category AP, as pycocotools' `precision[:, :, k, 0, -1]` mean over entries > −1. */
export function perCategoryAp(
  acc: Accumulated,
  params: CocoEvalParams,
  categories: readonly { id: number; name: string }[],
): CategoryAp[] {
  const [T, R, K, A, M] = acc.shape;
  const t50 = params.iouThresholds.indexOf(0.5);
  const at = (t: number, r: number, k: number) => (((t * R + r) * K + k) * A + 0) * M + (M - 1);
  return categories.map(({ id, name }, k) => {
    function* over(ts: number[]): Generator<number> {
      for (const t of ts) for (let r = 0; r < R; r++) yield at(t, r, k);
    }
    return {
      id,
      name,
      ap: meanDefined(acc.precision, over([...range(T)])),
      ap50: t50 < 0 ? -1 : meanDefined(acc.precision, over([t50])),
    };
  });
}

/**
 * Precision–recall curves for a PR plot: area all, the largest maxDets, precision averaged over the
 * categories with counted ground truth; one curve per IoU threshold, points [recall threshold, precision].
 */
export function averagePrCurves(
  acc: Accumulated,
  params: CocoEvalParams,
): { iou: number; points: [number, number][] }[] {
  const [, R, K, A, M] = acc.shape;
  return params.iouThresholds.map((iou, t) => ({
    iou,
    points: params.recallThresholds.map((recall, r): [number, number] => {
      function* over(): Generator<number> {
        for (let k = 0; k < K; k++) yield (((t * R + r) * K + k) * A + 0) * M + (M - 1);
      }
      return [recall, meanDefined(acc.precision, over())];
    }),
  }));
}
