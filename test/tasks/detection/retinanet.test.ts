import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bufferPool } from '../../../src/backend/buffer_pool.js';
import { createDetector, detectorConfig } from '../../../src/models/detection/registry.js';
import { generateAnchors } from '../../../src/tasks/detection/anchors.js';
import { anchorsOfSizes, RETINANET_ANCHORS } from '../../../src/tasks/detection/config.js';
import { RetinaNet, retinaNetOf } from '../../../src/tasks/detection/retinanet.js';
import { makeDetectionStep } from '../../../src/tasks/detection/step.js';
import type * as tf from '../../../src/tf.js';
import { randTensor, setup } from '../../helpers.js';

/** A tiny detector: the demo network at 8 pyramid channels, 2 classes. */
const tiny = () =>
  createDetector('retinanet_demo', { channels: 8, classes: 2, subnetDepth: 1, attention: { heads: 2 } }, { seed: 3 });

describe('RetinaNet task', () => {
  before(setup);
  let net: RetinaNet;
  let images: tf.Tensor4D;
  const targets = [
    { boxes: Float32Array.from([10, 20, 60, 90, 70, 70, 120, 110]), labels: Int32Array.from([0, 1]) },
    { boxes: Float32Array.from([30, 30, 100, 64]), labels: Int32Array.from([1]) },
  ];
  before(() => {
    net = new RetinaNet(tiny());
    images = randTensor([2, 128, 128, 3], 5) as tf.Tensor4D;
  });
  after(() => {
    net.model.dispose();
    images.dispose();
  });

  it('caches the anchors per batch size and generates them as generateAnchors does', () => {
    const a = net.anchorsFor([128, 128]);
    assert.equal(net.anchorsFor([128, 128]), a);
    assert.deepEqual(a.boxes, generateAnchors([128, 128], RETINANET_ANCHORS).boxes);
    assert.notEqual(net.anchorsFor([128, 256]), a);
  });

  it("retinaNetOf takes the anchors from the detector's anchorSizes (torchvision's when it has none)", () => {
    const demo = detectorConfig('retinanet_demo');
    const own = retinaNetOf(net.model, demo);
    assert.deepEqual(own.anchors, anchorsOfSizes([16, 32, 64, 128, 256]));
    assert.deepEqual(
      own.anchorsFor([128, 128]).boxes,
      generateAnchors([128, 128], anchorsOfSizes([16, 32, 64, 128, 256])).boxes,
    );
    assert.notDeepEqual(own.anchorsFor([128, 128]).boxes, net.anchorsFor([128, 128]).boxes);
    assert.deepEqual(retinaNetOf(net.model, { ...demo, anchorSizes: undefined }).anchors, RETINANET_ANCHORS);
  });

  it('lowers the loss over a few SGD steps on one fixed batch', () => {
    const slack = bufferPool.slackBytes;
    const step = makeDetectionStep(net, { momentum: 0.9, weightDecay: 1e-4, clipNorm: 10 });
    if (process.env.SASA_BUFFER_POOL_SLACK_MB === undefined) {
      assert.equal(bufferPool.slackBytes, 0, 'a detection step keeps the buffer pool within its peak');
    }
    bufferPool.slackBytes = slack;
    const losses = Array.from({ length: 3 }, () => step.run(images, targets, [128, 128], 0.01));
    for (const l of losses) {
      assert.ok(Number.isFinite(l.loss));
      assert.ok(Math.abs(l.loss - (l.classification + l.boxRegression)) < 1e-4);
    }
    assert.ok(losses[2].loss < losses[0].loss, `losses ${losses.map((l) => l.loss.toFixed(4))}`);
    step.optimizer.dispose();
  });

  it('detects per image: boxes inside the image, scores above the threshold, known labels', async () => {
    const detections = await net.detect(images, [
      [128, 128],
      [100, 90],
    ]);
    assert.equal(detections.length, 2);
    const sizes = [
      [128, 128],
      [100, 90],
    ];
    detections.forEach((d, i) => {
      const n = d.scores.length;
      assert.ok(n <= net.detections.detectionsPerImage);
      assert.equal(d.boxes.length, n * 4);
      assert.equal(d.labels.length, n);
      for (let j = 0; j < n; j++) {
        assert.ok(d.scores[j] > net.detections.scoreThreshold);
        assert.ok(d.labels[j] === 0 || d.labels[j] === 1);
        const [x1, y1, x2, y2] = d.boxes.subarray(j * 4, j * 4 + 4);
        assert.ok(x1 >= 0 && y1 >= 0 && x2 <= sizes[i][1] && y2 <= sizes[i][0] && x1 <= x2 && y1 <= y2);
        if (j > 0) assert.ok(d.scores[j] <= d.scores[j - 1]);
      }
    });
  });

  it('takes its parts injected', () => {
    const strict = new RetinaNet(net.model, {
      detections: { scoreThreshold: 0.99, topkCandidates: 5, detectionsPerImage: 3 },
    });
    assert.equal(strict.detections.detectionsPerImage, 3);
    assert.equal(strict.nms, net.nms);
  });
});
