/** RetinaNet's post-processing against torchvision 0.14's RetinaNet.postprocess_detections (golden). */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { generateAnchors } from '../../../src/tasks/detection/anchors.js';
import { RETINANET_DETECTIONS, RETINANET_NMS } from '../../../src/tasks/detection/config.js';
import { detectImage, postprocessDetections } from '../../../src/tasks/detection/postprocess.js';
import * as tf from '../../../src/tf.js';
import { setup } from '../../helpers.js';
import { assertFloatsClose } from './golden.js';
import { goldenOutputs, readRetinaNetGolden } from './retinanet_golden.js';

const golden = readRetinaNetGolden();

describe('RetinaNet post-processing', () => {
  before(setup);

  it("RetinaNet's defaults are torchvision's", () => {
    const { scoreThreshold, topkCandidates, detectionsPerImage } = RETINANET_DETECTIONS;
    assert.deepEqual(
      { scoreThreshold, topkCandidates, detectionsPerImage, nmsThreshold: RETINANET_NMS.iouThreshold },
      golden.defaults,
    );
  });

  it('gives the detections torchvision gives (top-1000 cut on P3, clipped per image, 300 kept)', async () => {
    const outputs = goldenOutputs(golden);
    const detections = await postprocessDetections(outputs, generateAnchors(golden.imageSize), golden.imageSizes);
    assert.equal(detections.length, golden.detections.length);
    detections.forEach((d, i) => {
      const want = golden.detections[i];
      assert.deepEqual(Array.from(d.labels), Array.from(want.labels), `labels of image ${i}`);
      assertFloatsClose(d.scores, want.scores, `scores of image ${i}`, { rel: 1e-5, abs: 0 });
      assertFloatsClose(d.boxes, want.boxes, `boxes of image ${i}`, { rel: 1e-4, abs: 1e-4 });
      const [h, w] = golden.imageSizes[i];
      for (let j = 0; j < d.boxes.length; j += 4) {
        assert.ok(
          d.boxes[j] >= 0 && d.boxes[j + 2] <= w && d.boxes[j + 1] >= 0 && d.boxes[j + 3] <= h,
          `box ${j / 4} clipped`,
        );
      }
    });
    tf.dispose([outputs.clsLogits, outputs.boxRegression]);
  });

  it('keeps only scores above the threshold, at most topkCandidates per level and detectionsPerImage', () => {
    const anchors = { boxes: Float32Array.from([0, 0, 10, 10, 20, 20, 30, 30, 0, 0, 40, 40]), perLevel: [2, 1] };
    const logits = Float32Array.from([3, -4, 1, 2, 0, -1]);
    const outputs = { logits, deltas: new Float32Array(12), numClasses: 2 };
    const all = detectImage(outputs, anchors, [50, 50]);
    assert.deepEqual(Array.from(all.labels), [0, 1, 0, 0, 1]);
    assertFloatsClose(
      all.scores,
      [3, 2, 1, 0, -1].map((x) => 1 / (1 + Math.exp(-x))),
      'scores',
    );
    const cut = detectImage(outputs, anchors, [50, 50], {
      detections: { scoreThreshold: 0.5, topkCandidates: 1, detectionsPerImage: 10 },
    });
    assertFloatsClose(cut.boxes, [0, 0, 10, 10], 'the best of level 0 (level 1 has none above 0.5)');
    const one = detectImage(outputs, anchors, [50, 50], {
      detections: { ...RETINANET_DETECTIONS, detectionsPerImage: 1 },
    });
    assert.deepEqual(Array.from(one.scores), [all.scores[0]]);
  });

  it('refuses outputs that do not fit the anchors and bad settings, naming them', async () => {
    const anchors = generateAnchors([64, 64]);
    const a = anchors.boxes.length / 4;
    const outputs = { logits: new Float32Array(a * 2), deltas: new Float32Array(a * 4), numClasses: 2 };
    assert.throws(() => detectImage({ ...outputs, numClasses: 3 }, anchors, [64, 64]), /logits must be \[\d+, 3\]/);
    const bad = { ...RETINANET_DETECTIONS, scoreThreshold: 1 };
    assert.throws(
      () => detectImage(outputs, anchors, [64, 64], { detections: bad }),
      /scoreThreshold must be in \[0, 1\): got 1/,
    );
    const tensors = {
      clsLogits: tf.zeros([2, a, 2]) as tf.Tensor3D,
      boxRegression: tf.zeros([2, a, 4]) as tf.Tensor3D,
    };
    await assert.rejects(
      postprocessDetections(tensors, anchors, [[64, 64]]),
      /one \[height, width\] per image \(2\): got 1/,
    );
  });
});
