/** Detections → COCO results: original scale, xywh, category ids. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toCocoDetections } from '../../../src/tasks/detection/coco_results.js';

const detections = [
  {
    boxes: Float32Array.from([10, 20, 50, 60, 0, 0, 8, 4]),
    scores: Float32Array.from([0.75, 0.5]),
    labels: Int32Array.from([1, 0]),
  },
  { boxes: new Float32Array(0), scores: new Float32Array(0), labels: new Int32Array(0) },
  { boxes: Float32Array.from([3, 6, 9, 12]), scores: Float32Array.from([0.25]), labels: Int32Array.from([2]) },
];
const images = { imageIds: [42, 7, 9], scales: Float32Array.from([2, 4, 1, 1, 0.5, 0.25]) };

describe('COCO results', () => {
  it('divide boxes by each image scale, write them xywh and map labels to category ids', () => {
    assert.deepEqual(toCocoDetections(detections, images, [1, 3, 90]), [
      { image_id: 42, category_id: 3, bbox: [5, 5, 20, 10], score: 0.75 },
      { image_id: 42, category_id: 1, bbox: [0, 0, 4, 1], score: 0.5 },
      { image_id: 9, category_id: 90, bbox: [6, 24, 12, 24], score: 0.25 },
    ]);
  });

  it('refuse a label without a category id, a bad scale and mismatched counts', () => {
    assert.throws(
      () => toCocoDetections(detections, images, [1, 3]),
      /detection 0 of image 9: label 2 has no category id \(2 known\)/,
    );
    const zero = { ...images, scales: Float32Array.from([2, 4, 0, 1, 1, 1]) };
    assert.throws(() => toCocoDetections(detections, zero, [1, 3, 90]), /scale of image 7 must be positive/);
    assert.throws(
      () => toCocoDetections(detections, { ...images, imageIds: [1] }, [1, 3, 90]),
      /need as many imageIds \(got 1\)/,
    );
  });
});
