/**
 * COCO bounding-box evaluation, value for value as pycocotools' COCOeval(iouType='bbox'):
 * evaluate → accumulate → summarize, on validated inputs (src/data/coco/read.ts).
 */
import type { CocoDetection, CocoInstances } from '../../../data/coco/instances.js';
import { type Accumulated, accumulate } from './accumulate.js';
import { groupByCell } from './group.js';
import { matchAllCells } from './match.js';
import { COCO_EVAL_DEFAULTS, type CocoEvalParams, checkParams } from './params.js';
import { type CategoryAp, perCategoryAp, summaryStats } from './summarize.js';

/**
 * {@link cocoEvaluate}'s result: precision and recall (pycocotools' `eval`), the parameters, the ids that
 * order the image and category axes, the 12 summary numbers and the AP per category.
 */
export interface CocoEvaluation extends Accumulated {
  params: CocoEvalParams;
  /** Image and category ids, ascending: the order of the arrays' image and K axes. */
  imageIds: number[];
  categoryIds: number[];
  /** The 12 summary numbers in pycocotools' order (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl). */
  stats: number[];
  /** AP per category, in categoryIds order. */
  perCategory: CategoryAp[];
}

/**
 * Evaluates `detections` against `gt`. Ground-truth `ignore` fields are not read (pycocotools replaces
 * them by `iscrowd`); a detection's area is its box's width × height.
 */
export function cocoEvaluate(
  gt: CocoInstances,
  detections: readonly CocoDetection[],
  params: CocoEvalParams = COCO_EVAL_DEFAULTS,
): CocoEvaluation {
  checkParams(params);
  const grouped = groupByCell(gt, detections, params.maxDetections[params.maxDetections.length - 1]);
  const matches = matchAllCells(grouped, params);
  const acc = accumulate(grouped, matches, params);
  const nameOf = new Map(gt.categories.map((c) => [c.id, c.name]));
  const categories = grouped.categoryIds.map((id) => ({ id, name: nameOf.get(id) as string }));
  return {
    ...acc,
    params,
    imageIds: grouped.imageIds,
    categoryIds: grouped.categoryIds,
    stats: summaryStats(acc, params),
    perCategory: perCategoryAp(acc, params, categories),
  };
}
