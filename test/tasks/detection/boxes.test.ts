/** Box conversions, areas, pairwise IoU, clipping and small-box removal against torchvision 0.14. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  boxAreas,
  boxCount,
  boxIou,
  clipBoxesToImage,
  cocoBoxesToXyxy,
  removeSmallBoxes,
  xywhToXyxy,
  xyxyToXywh,
} from '../../../src/tasks/detection/boxes.js';
import { assertFloatsEqual, floats, type GoldenFloat, readGolden } from './golden.js';

interface BoxesGolden {
  a: GoldenFloat[];
  b: GoldenFloat[];
  iou: GoldenFloat[];
  areaA: GoldenFloat[];
  xywhA: GoldenFloat[];
  xyxyFromXywh: GoldenFloat[];
  clip: { boxes: GoldenFloat[]; imageSize: [number, number]; clipped: GoldenFloat[] };
  small: { boxes: GoldenFloat[]; minSize: number; keep: number[] };
}

const golden = readGolden<BoxesGolden>('boxes.json');
const a = floats(golden.a);
const b = floats(golden.b);

describe('detection boxes', () => {
  it('pairwise IoU [N, M] equals torchvision box_iou bit for bit, degenerate boxes (NaN for 0/0) included', () => {
    const iou = boxIou(a, b);
    assert.equal(iou.length, (a.length / 4) * (b.length / 4));
    assert.ok(iou.some(Number.isNaN), 'the golden holds a 0/0 pair');
    assertFloatsEqual(iou, floats(golden.iou), 'iou');
  });

  it('areas and xyxy <-> xywh equal torchvision', () => {
    assertFloatsEqual(boxAreas(a), floats(golden.areaA), 'area');
    assertFloatsEqual(xyxyToXywh(a), floats(golden.xywhA), 'xywh');
    assertFloatsEqual(xywhToXyxy(floats(golden.xywhA)), floats(golden.xyxyFromXywh), 'xyxy');
  });

  it('converts COCO boxes (xywh) to xyxy', () => {
    assert.deepEqual(Array.from(cocoBoxesToXyxy([[10, 20, 5, 7.5]])), [10, 20, 15, 27.5]);
    assert.throws(() => cocoBoxesToXyxy([[1, 2, 3] as never]), /COCO box 0 must be \[x, y, width, height\]/);
  });

  it('clips to [height, width] and keeps boxes with both sides ≥ min size, like torchvision', () => {
    const { clip, small } = golden;
    assertFloatsEqual(clipBoxesToImage(floats(clip.boxes), clip.imageSize), floats(clip.clipped), 'clipped');
    const keep = removeSmallBoxes(floats(small.boxes), small.minSize);
    assert.ok(keep.length > 0 && keep.length < small.boxes.length / 4);
    assert.deepEqual(Array.from(keep), small.keep);
  });

  it('refuses arrays that are not [N, 4], naming the argument', () => {
    assert.throws(() => boxCount(new Float32Array(10)), /boxes must be \[N, 4\] xyxy: got length 10/);
    assert.throws(() => boxIou(a, new Float32Array(6)), /boxes b must be \[N, 4\] xyxy: got length 6/);
    assert.throws(() => boxIou([1, 2, 3, 4] as never, b), /boxes a must be a Float32Array/);
    assert.throws(() => clipBoxesToImage(a, [Number.NaN, 3]), /image size must be \[height, width\]/);
    assert.equal(boxIou(new Float32Array(0), b).length, 0);
  });
});
