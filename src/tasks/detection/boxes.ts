/**
 * Axis-aligned boxes as flat `Float32Array`s of `[N, 4]` (row-major): xyxy `(x1, y1, x2, y2)` unless the
 * name says xywh `(x, y, width, height)`. Arithmetic is float32 step by step (Math.fround), as torchvision
 * 0.14 computes on float32 tensors, so IoU values equal torchvision's bit for bit.
 */
import type { CocoBox } from '../../data/coco/instances.js';

const f32 = Math.fround;

/** `[height, width]` in pixels (images) or cells (feature maps). */
export type Size2 = readonly [number, number];

/** The number of boxes N in `boxes` ([N, 4]); throws naming `name` unless the length is a multiple of 4. */
export function boxCount(boxes: Float32Array, name = 'boxes'): number {
  if (!(boxes instanceof Float32Array)) throw new Error(`${name} must be a Float32Array [N, 4] xyxy`);
  if (boxes.length % 4 !== 0) throw new Error(`${name} must be [N, 4] xyxy: got length ${boxes.length}`);
  return boxes.length / 4;
}

/** xywh [N, 4] → xyxy [N, 4]: (x, y, x + w, y + h). */
export function xywhToXyxy(boxes: Float32Array): Float32Array {
  const n = boxCount(boxes);
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n * 4; i += 4) {
    out[i] = boxes[i];
    out[i + 1] = boxes[i + 1];
    out[i + 2] = boxes[i] + boxes[i + 2];
    out[i + 3] = boxes[i + 1] + boxes[i + 3];
  }
  return out;
}

/** xyxy [N, 4] → xywh [N, 4]: (x1, y1, x2 - x1, y2 - y1). */
export function xyxyToXywh(boxes: Float32Array): Float32Array {
  const n = boxCount(boxes);
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n * 4; i += 4) {
    out[i] = boxes[i];
    out[i + 1] = boxes[i + 1];
    out[i + 2] = boxes[i + 2] - boxes[i];
    out[i + 3] = boxes[i + 3] - boxes[i + 1];
  }
  return out;
}

/** COCO boxes (xywh, pixels) → xyxy [N, 4]. */
export function cocoBoxesToXyxy(boxes: readonly CocoBox[]): Float32Array {
  const xywh = new Float32Array(boxes.length * 4);
  boxes.forEach((box, i) => {
    if (box.length !== 4) throw new Error(`COCO box ${i} must be [x, y, width, height]: got ${box.length} numbers`);
    xywh.set(box, i * 4);
  });
  return xywhToXyxy(xywh);
}

/** Areas [N] of xyxy boxes: (x2 - x1) · (y2 - y1), float32. */
export function boxAreas(boxes: Float32Array, name = 'boxes'): Float32Array {
  const n = boxCount(boxes, name);
  const areas = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const b = i * 4;
    areas[i] = f32(boxes[b + 2] - boxes[b]) * f32(boxes[b + 3] - boxes[b + 1]);
  }
  return areas;
}

/**
 * The overlap of intervals [lo1, hi1] and [lo2, hi2], min(hi) - max(lo) in float32 (negative when apart).
 * Comparisons rather than Math.min/max, which cost twice as much here; they differ only for NaN, which
 * the IoU gets anyway through the NaN box's area.
 */
export function overlap(lo1: number, hi1: number, lo2: number, hi2: number): number {
  // biome-ignore lint/complexity/useMathMinMax: see above
  return f32((hi1 < hi2 ? hi1 : hi2) - (lo1 > lo2 ? lo1 : lo2));
}

/**
 * IoU of box `i` of `a` [N, 4] (area `areaA`) with every box of `b` [M, 4] (areas `areaB` [M]) into `out` [M]:
 *   inter = max(0, min(x2) - max(x1)) · max(0, min(y2) - max(y1)),  iou = inter / (area_a + area_b - inter).
 */
export function iouRow(
  a: Float32Array,
  i: number,
  areaA: number,
  b: Float32Array,
  areaB: Float32Array,
  out: Float32Array,
): void {
  const ax1 = a[i * 4];
  const ay1 = a[i * 4 + 1];
  const ax2 = a[i * 4 + 2];
  const ay2 = a[i * 4 + 3];
  for (let j = 0, o = 0; j < areaB.length; j++, o += 4) {
    const w = overlap(ax1, ax2, b[o], b[o + 2]);
    const h = overlap(ay1, ay2, b[o + 1], b[o + 3]);
    const union = f32(areaA + areaB[j]);
    // No overlap: 0 / union (NaN for two zero-area boxes). A NaN coordinate makes its area, so the union, NaN.
    out[j] = w > 0 && h > 0 ? f32(w * h) / f32(union - f32(w * h)) : 0 / union;
  }
}

/**
 * Pairwise IoU of xyxy boxes, a [N, 4] × b [M, 4] → [N, M] (row-major), as `iouRow`. Two zero-area boxes
 * that do not overlap give 0 / 0 = NaN, as in torchvision.
 */
export function boxIou(a: Float32Array, b: Float32Array): Float32Array {
  const n = boxCount(a, 'boxes a');
  const m = boxCount(b, 'boxes b');
  const areaA = boxAreas(a, 'boxes a');
  const areaB = boxAreas(b, 'boxes b');
  const iou = new Float32Array(n * m);
  for (let i = 0; i < n; i++) iouRow(a, i, areaA[i], b, areaB, iou.subarray(i * m, (i + 1) * m));
  return iou;
}

/** Boxes clamped to an image of `[height, width]`: x to [0, width], y to [0, height] (a new array). */
export function clipBoxesToImage(boxes: Float32Array, imageSize: Size2): Float32Array {
  const n = boxCount(boxes);
  const [height, width] = imageSize;
  if (!(height >= 0 && width >= 0)) throw new Error(`image size must be [height, width] ≥ 0: got [${imageSize}]`);
  const out = new Float32Array(n * 4);
  const clamp = (v: number, limit: number) => Math.min(Math.max(v, 0), limit);
  for (let b = 0; b < n * 4; b += 4) {
    out[b] = clamp(boxes[b], width);
    out[b + 1] = clamp(boxes[b + 1], height);
    out[b + 2] = clamp(boxes[b + 2], width);
    out[b + 3] = clamp(boxes[b + 3], height);
  }
  return out;
}

/** Indices (ascending) of the boxes whose width and height are both ≥ `minSize`. */
export function removeSmallBoxes(boxes: Float32Array, minSize: number): Int32Array {
  const n = boxCount(boxes);
  const min = f32(minSize);
  const keep: number[] = [];
  for (let i = 0; i < n; i++) {
    const b = i * 4;
    if (f32(boxes[b + 2] - boxes[b]) >= min && f32(boxes[b + 3] - boxes[b + 1]) >= min) keep.push(i);
  }
  return Int32Array.from(keep);
}
