/** NMS and class-wise batched NMS against torchvision 0.14. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchedNms, nms } from '../../../src/tasks/detection/nms.js';
import { floats, type GoldenFloat, readGolden } from './golden.js';

interface NmsGolden {
  nms: {
    name?: string;
    boxes: GoldenFloat[];
    scores: GoldenFloat[];
    keeps: { iouThreshold: number; keep: number[] }[];
  }[];
  batched: { boxes: GoldenFloat[]; scores: GoldenFloat[]; classes: number[]; iouThreshold: number; keep: number[] }[];
}

const golden = readGolden<NmsGolden>('nms.json');

describe('non-maximum suppression', () => {
  for (const c of golden.nms) {
    const boxes = floats(c.boxes);
    const scores = floats(c.scores);
    for (const { iouThreshold, keep } of c.keeps) {
      it(`keeps what torchvision keeps: ${c.name ?? `${boxes.length / 4} boxes`}, IoU > ${iouThreshold}`, () => {
        const kept = nms(boxes, scores, iouThreshold);
        assert.ok(kept.length < boxes.length / 4, 'something is suppressed');
        assert.deepEqual(Array.from(kept), keep);
      });
    }
  }

  for (const c of golden.batched) {
    it(`batched NMS keeps what torchvision keeps (${c.boxes.length / 4} boxes)`, () => {
      const boxes = floats(c.boxes);
      const kept = batchedNms(boxes, floats(c.scores), c.classes, c.iouThreshold);
      assert.deepEqual(Array.from(kept), c.keep);
      const plain = nms(boxes, floats(c.scores), c.iouThreshold);
      assert.ok(kept.length > plain.length, 'classes protect overlapping boxes of other classes');
    });
  }

  it('orders equal scores by index, as torchvision’s stable sort', () => {
    const boxes = new Float32Array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 0, 0, 1, 1]);
    assert.deepEqual(Array.from(nms(boxes, [0.5, 0.5, 0.9, 0.5], 0.5)), [2, 0, 1]);
    assert.deepEqual(Array.from(batchedNms(boxes, [0.5, 0.5, 0.9, 0.5], [0, 0, 0, 1], 0.5)), [2, 0, 1, 3]);
  });

  it('refuses mismatched scores or classes, NaN scores and non-integer classes, naming them', () => {
    const boxes = new Float32Array([0, 0, 1, 1, 2, 2, 3, 3]);
    assert.throws(() => nms(boxes, [0.5], 0.5), /scores must be \[N\] for boxes \[2, 4\]: got length 1/);
    assert.throws(() => nms(boxes, [0.5, Number.NaN], 0.5), /score 1 is NaN/);
    assert.throws(() => nms(new Float32Array(7), [], 0.5), /boxes must be \[N, 4\] xyxy: got length 7/);
    assert.throws(() => batchedNms(boxes, [0.5, 0.4], [1], 0.5), /classes must be \[N\] for boxes \[2, 4\]/);
    assert.throws(() => batchedNms(boxes, [0.5, 0.4], [1, 0.5], 0.5), /class 1 must be an integer: got 0.5/);
    assert.throws(() => nms(boxes, [0.5, 0.4], -0.1), /NMS iouThreshold must be ≥ 0: got -0.1/);
    assert.deepEqual(Array.from(nms(new Float32Array(0), [], 0.5)), []);
  });
});
