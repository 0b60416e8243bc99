/** The COCO bounding-box evaluation's parameters, as data, with pycocotools' defaults (`Params.setDetParams`). */

export interface AreaRange {
  label: string;
  /** Inclusive bounds on an object's area, pixels². */
  min: number;
  max: number;
}

/**
 * The COCO bounding-box evaluation's parameters (pycocotools' `Params`); {@link COCO_EVAL_DEFAULTS} holds
 * pycocotools' defaults.
 */
export interface CocoEvalParams {
  /** IoU thresholds T, ascending. */
  iouThresholds: readonly number[];
  /** Recall points R at which precision is sampled, ascending from 0 to 1. */
  recallThresholds: readonly number[];
  /** Detections kept per image and category M, ascending; the summary reads exactly three. */
  maxDetections: readonly number[];
  /** Area ranges A; the summary reads the labels all, small, medium, large. */
  areaRanges: readonly AreaRange[];
}

/** `numpy.linspace(start, stop, num)`, value for value: `i·((stop − start)/(num − 1)) + start`, the last `stop`. */
export function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

/** pycocotools' bbox defaults: IoU thresholds 0.5:0.05:0.95, 101 recall points, max detections 1/10/100, the area ranges. */
export const COCO_EVAL_DEFAULTS: CocoEvalParams = {
  iouThresholds: linspace(0.5, 0.95, 10),
  recallThresholds: linspace(0, 1, 101),
  maxDetections: [1, 10, 100],
  areaRanges: [
    { label: 'all', min: 0, max: 1e5 ** 2 },
    { label: 'small', min: 0, max: 32 ** 2 },
    { label: 'medium', min: 32 ** 2, max: 96 ** 2 },
    { label: 'large', min: 96 ** 2, max: 1e5 ** 2 },
  ],
};

/** Checks a parameter set; errors name the parameter. */
export function checkParams(p: CocoEvalParams): void {
  const ascending = (xs: readonly number[]) => xs.every((x, i) => Number.isFinite(x) && (i === 0 || x > xs[i - 1]));
  if (p.iouThresholds.length === 0 || !ascending(p.iouThresholds) || p.iouThresholds.some((t) => t <= 0 || t > 1)) {
    throw new Error(`iouThresholds must be ascending values in (0, 1], got ${p.iouThresholds.join(', ')}`);
  }
  if (p.recallThresholds.length === 0 || !ascending(p.recallThresholds)) {
    throw new Error(`recallThresholds must be ascending values, got ${p.recallThresholds.join(', ')}`);
  }
  if (p.maxDetections.length === 0 || !ascending(p.maxDetections) || !p.maxDetections.every(Number.isSafeInteger)) {
    throw new Error(`maxDetections must be ascending integers, got ${p.maxDetections.join(', ')}`);
  }
  if (p.areaRanges.length === 0 || p.areaRanges.some((r) => !(r.min <= r.max))) {
    throw new Error('areaRanges must be non-empty, each with min ≤ max');
  }
}
