/**
 * The COCO bbox evaluation against pycocotools (test/golden/coco_eval, from tools/gen_coco_eval_cases.py):
 * the 12 stats, per-category AP, the precision array's sums per (category, area, maxDets) and the full
 * recall array, to 1e-9 (stricter than the 6 decimals pycocotools prints).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CocoInstances } from '../../../src/data/coco/instances.js';
import { parseCocoInstances, readCocoDetections, readCocoInstances } from '../../../src/data/coco/read.js';
import { cocoEvaluate } from '../../../src/tasks/detection/coco_eval/evaluate.js';
import { COCO_EVAL_DEFAULTS, linspace } from '../../../src/tasks/detection/coco_eval/params.js';
import { fixed3, summaryLines } from '../../../src/tasks/detection/coco_eval/summarize.js';

const ROOT = 'test/golden/coco_eval';
const TOLERANCE = 1e-9;

interface Expected {
  stats: number[];
  per_category: { id: number; ap: number; ap50: number }[];
  precision_sums: number[];
  recall: number[];
}

function assertClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= TOLERANCE,
      `${what}[${i}]: ${actual[i]} vs pycocotools ${expected[i]}`,
    );
  }
}

/** Sum over (T, R) of precision [T, R, K, A, M], flat [K, A, M]. */
function precisionSums(precision: Float64Array, [T, R, K, A, M]: number[]): number[] {
  const sums = new Array<number>(K * A * M).fill(0);
  for (let tr = 0; tr < T * R; tr++) for (let j = 0; j < K * A * M; j++) sums[j] += precision[tr * K * A * M + j];
  return sums;
}

const cases = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe('cocoEvaluate equals pycocotools', () => {
  it('has the golden cases', () => {
    assert.deepEqual(cases, ['area_edges', 'crowd_only', 'fixture', 'many_detections', 'random_crowds']);
  });
  for (const name of cases) {
    it(name, async () => {
      const dir = join(ROOT, name);
      const gt = await readCocoInstances(join(dir, 'gt.json'));
      const detections = await readCocoDetections(join(dir, 'dt.json'), gt);
      const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
      const result = cocoEvaluate(gt, detections);
      assertClose(result.stats, expected.stats, 'stats');
      assert.deepEqual(
        result.perCategory.map((c) => c.id),
        expected.per_category.map((c) => c.id),
      );
      assertClose(
        result.perCategory.map((c) => c.ap),
        expected.per_category.map((c) => c.ap),
        'per-category AP',
      );
      assertClose(
        result.perCategory.map((c) => c.ap50),
        expected.per_category.map((c) => c.ap50),
        'per-category AP50',
      );
      assertClose(precisionSums(result.precision, result.shape), expected.precision_sums, 'precision sums');
      assertClose(result.recall, expected.recall, 'recall');
    });
  }
});

describe('a ground truth read with bad annotations collected', () => {
  it('evaluates as pycocotools on the file without them', async () => {
    const dir = join(ROOT, 'fixture');
    const gt = JSON.parse(readFileSync(join(dir, 'gt.json'), 'utf8')) as CocoInstances;
    const clean = gt.annotations.length;
    const copy = (k: number, edit: Record<string, unknown>) => ({ ...gt.annotations[k], id: 9e9 + k, ...edit });
    gt.annotations.push(
      copy(0, { image_id: 1 }),
      copy(1, { category_id: 9999 }),
      copy(2, { bbox: [1, 1, 0, 1] }),
      copy(3, { area: undefined }),
      copy(4, { iscrowd: 2 }),
      copy(5, { bbox: [-5, 0, 10, 10] }),
    );
    const { instances, badAnnotations } = parseCocoInstances(JSON.stringify(gt), 'gt.json', {
      badAnnotations: 'collect',
    });
    assert.deepEqual(
      badAnnotations.map((b) => [b.index, b.field]),
      [
        [clean, 'image_id'],
        [clean + 1, 'category_id'],
        [clean + 2, 'bbox'],
        [clean + 3, 'area'],
        [clean + 4, 'iscrowd'],
        [clean + 5, 'bbox'],
      ],
    );
    assert.equal(instances.annotations.length, clean);
    const detections = await readCocoDetections(join(dir, 'dt.json'), instances);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    assertClose(cocoEvaluate(instances, detections).stats, expected.stats, 'stats');
  });
});

describe('COCO evaluation parameters and summary text', () => {
  it("linspace gives numpy's thresholds (0.8999999999999999 for the ninth IoU)", () => {
    assert.equal(COCO_EVAL_DEFAULTS.iouThresholds[8], 0.8999999999999999);
    assert.equal(COCO_EVAL_DEFAULTS.iouThresholds[5], 0.75);
    assert.equal(COCO_EVAL_DEFAULTS.recallThresholds.length, 101);
    assert.equal(COCO_EVAL_DEFAULTS.recallThresholds[100], 1);
    assert.deepEqual(linspace(0, 1, 3), [0, 0.5, 1]);
  });

  it("prints pycocotools' lines; {:0.3f} rounds exact ties to even", () => {
    const lines = summaryLines([0.5, 0.0625, -1, 0, 0, 0, 0, 0, 0, 0, 0, 1], COCO_EVAL_DEFAULTS);
    assert.equal(lines[0], ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.500');
    assert.equal(lines[1], ' Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.062');
    assert.equal(lines[2], ' Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = -1.000');
    assert.equal(lines[6], ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.000');
    assert.equal(lines[11], ' Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 1.000');
    assert.equal(fixed3(0.1875), '0.188');
    assert.equal(fixed3(0.12345), '0.123');
  });

  it('a category without ground truth has AP −1, one without detections 0', () => {
    const gt = {
      images: [{ id: 1, width: 100, height: 100, file_name: 'a.jpg' }],
      categories: [
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ],
      annotations: [
        {
          id: 1,
          image_id: 1,
          category_id: 1,
          bbox: [0, 0, 10, 10] as [number, number, number, number],
          area: 100,
          iscrowd: 0 as const,
        },
      ],
    };
    const result = cocoEvaluate(gt, [{ image_id: 1, category_id: 2, bbox: [0, 0, 10, 10], score: 1 }]);
    assert.deepEqual(
      result.perCategory.map((c) => c.ap),
      [0, -1],
    );
    assert.equal(result.stats[0], 0);
  });

  it('refuses detections naming an image or category the ground truth lacks (unvalidated input)', () => {
    const gt = {
      images: [{ id: 1, width: 100, height: 100, file_name: 'a.jpg' }],
      categories: [{ id: 1, name: 'a' }],
      annotations: [],
    };
    const det = { image_id: 1, category_id: 1, bbox: [0, 0, 5, 5] as [number, number, number, number], score: 1 };
    assert.throws(() => cocoEvaluate(gt, [det, { ...det, image_id: 2 }]), /detections\[1\]: image_id 2 names no image/);
    assert.throws(
      () => cocoEvaluate(gt, [{ ...det, category_id: 5 }]),
      /detections\[0\]: category_id 5 names no category/,
    );
  });

  it('no detections: AP and AR 0 where ground truth counts; no ground truth: every number −1', () => {
    const gt = {
      images: [{ id: 1, width: 100, height: 100, file_name: 'a.jpg' }],
      categories: [{ id: 1, name: 'a' }],
      annotations: [
        {
          id: 1,
          image_id: 1,
          category_id: 1,
          bbox: [0, 0, 10, 10] as [number, number, number, number],
          area: 100,
          iscrowd: 0 as const,
        },
      ],
    };
    assert.deepEqual(cocoEvaluate(gt, []).stats, [0, 0, 0, 0, -1, -1, 0, 0, 0, 0, -1, -1]);
    const empty = cocoEvaluate({ ...gt, annotations: [] }, [
      { image_id: 1, category_id: 1, bbox: [0, 0, 5, 5], score: 1 },
    ]);
    assert.deepEqual(empty.stats, new Array(12).fill(-1));
  });
});
