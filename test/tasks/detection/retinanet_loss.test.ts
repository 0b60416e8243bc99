/** RetinaNet's losses against torchvision 0.14 (golden) and a float64 reference with finite differences. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { generateAnchors } from '../../../src/tasks/detection/anchors.js';
import { RETINANET_FOCAL_LOSS } from '../../../src/tasks/detection/config.js';
import type { RetinaNetOutputs } from '../../../src/tasks/detection/head_outputs.js';
import { retinaNetTargets } from '../../../src/tasks/detection/loss_targets.js';
import { matchAnchors } from '../../../src/tasks/detection/matcher.js';
import { retinaNetLoss } from '../../../src/tasks/detection/retinanet_loss.js';
import * as tf from '../../../src/tf.js';
import { assertClose, numericGradient, randArray, setup } from '../../helpers.js';
import { assertFloatsEqual } from './golden.js';
import { goldenOutputs, readRetinaNetGolden } from './retinanet_golden.js';
import { boxRegressionRef, classificationRef, type LossProblem } from './retinanet_reference.js';

const golden = readRetinaNetGolden();

function relativeClose(actual: number, expected: number, label: string, rel = 1e-5): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${label}: got ${actual}, expected ${expected}`);
}

/** Two images, 8 anchors, 3 classes: image 0 has foreground, ignored and background anchors; image 1 only background. */
function smallProblem(): LossProblem {
  const anchors = Float32Array.from([
    0, 0, 16, 16, 8, 0, 24, 16, 0, 8, 16, 24, 8, 8, 24, 24, 16, 16, 32, 32, 4, 4, 36, 20, 20, 0, 36, 32, 0, 20, 12, 36,
  ]);
  return {
    numClasses: 3,
    anchors,
    targets: [
      { boxes: Float32Array.from([1, 2, 15, 17, 9, 9, 26, 22]), labels: Int32Array.from([2, 0]) },
      { boxes: new Float32Array(0), labels: new Int32Array(0) },
    ],
    matches: [Int32Array.from([0, -2, 0, 1, -1, 1, -2, -1]), new Int32Array(8).fill(-1)],
    focal: RETINANET_FOCAL_LOSS,
  };
}

function outputsOf(logits: Float32Array, deltas: Float32Array, b: number, a: number, k: number): RetinaNetOutputs {
  return { clsLogits: tf.tensor3d(logits, [b, a, k]), boxRegression: tf.tensor3d(deltas, [b, a, 4]) };
}

describe('RetinaNet losses', () => {
  before(setup);

  it("the golden batch's anchors and matches are ours (generateAnchors, matchAnchors)", () => {
    const anchors = generateAnchors(golden.imageSize);
    assert.deepEqual(anchors.perLevel, golden.perLevel);
    assertFloatsEqual(anchors.boxes, golden.anchors, 'anchors');
    golden.targets.forEach((t, b) => {
      assert.deepEqual(matchAnchors(t.boxes, golden.anchors), golden.matches[b], `matches of image ${b}`);
    });
  });

  it("equal torchvision's RetinaNetHead.compute_loss (one low-quality-only box, an image without boxes)", async () => {
    const outputs = goldenOutputs(golden);
    const losses = retinaNetLoss(outputs, golden.targets, golden.anchors);
    relativeClose(await losses.classification.array(), golden.loss.classification, 'classification');
    relativeClose(await losses.boxRegression.array(), golden.loss.boxRegression, 'box regression');
    const given = retinaNetLoss(outputs, golden.targets, golden.anchors, { matches: golden.matches });
    relativeClose(await given.classification.array(), golden.loss.classification, 'classification, given matches');
    tf.dispose([outputs.clsLogits, outputs.boxRegression, losses, given]);
  });

  it('targets: classes of foreground anchors, ignored anchors weighed 0, per-image normalisation', () => {
    const p = smallProblem();
    const t = retinaNetTargets(p.targets, p.anchors, p.numClasses, { matches: p.matches });
    assert.deepEqual(Array.from(t.anchorClasses.subarray(0, 8)), [2, -1, 2, 0, -1, 0, -1, -1]);
    assert.deepEqual(Array.from(t.foreground), [0, 2, 3, 5]);
    assert.deepEqual(Array.from(t.foregroundCounts), [4, 0]);
    assertClose(t.classificationWeights, [1 / 8, 0, 1 / 8, 1 / 8, 1 / 8, 1 / 8, 0, 1 / 8, ...Array(8).fill(1 / 2)]);
    assertClose(t.regressionWeights, [1 / 8, 1 / 8, 1 / 8, 1 / 8]);
  });

  for (const focal of [RETINANET_FOCAL_LOSS, { alpha: 0.6, gamma: 1 }]) {
    it(`values and gradients match float64 finite differences (α ${focal.alpha}, γ ${focal.gamma})`, async () => {
      const p = { ...smallProblem(), focal };
      const [b, a, k] = [2, 8, 3];
      const logits = randArray(b * a * k, 21, -4, 4);
      const deltas = randArray(b * a * 4, 22, -1, 1);
      const lossOf = (x: tf.Tensor, r: tf.Tensor) =>
        retinaNetLoss({ clsLogits: x as tf.Tensor3D, boxRegression: r as tf.Tensor3D }, p.targets, p.anchors, {
          matches: p.matches,
          ...focal,
        });
      const { clsLogits, boxRegression } = outputsOf(logits, deltas, b, a, k);
      const losses = lossOf(clsLogits, boxRegression);
      relativeClose(await losses.classification.array(), classificationRef(p, logits), 'classification');
      relativeClose(await losses.boxRegression.array(), boxRegressionRef(p, deltas), 'box regression');
      const [dLogits] = tf.grads((x: tf.Tensor) => lossOf(x, boxRegression).classification)([clsLogits]);
      const [dDeltas] = tf.grads((r: tf.Tensor) => lossOf(clsLogits, r).boxRegression)([boxRegression]);
      const gLogits = await dLogits.data();
      assertClose(
        gLogits,
        numericGradient((x) => classificationRef(p, x), logits),
        { tol: 1e-5, label: 'd logits' },
      );
      assertClose(
        await dDeltas.data(),
        numericGradient((r) => boxRegressionRef(p, r), deltas),
        {
          tol: 1e-5,
          label: 'd deltas',
        },
      );
      for (const ignored of [1, 6]) {
        assert.deepEqual(
          Array.from(gLogits.subarray(ignored * k, ignored * k + k)),
          [0, 0, 0],
          `ignored anchor ${ignored}`,
        );
      }
    });
  }

  it('a batch without foreground: box loss 0 with a zero gradient, classification over all anchors', async () => {
    const p = smallProblem();
    const targets = [p.targets[1]];
    const logits = randArray(8 * 3, 31, -3, 3);
    const deltas = randArray(8 * 4, 32);
    const { clsLogits, boxRegression } = outputsOf(logits, deltas, 1, 8, 3);
    const losses = retinaNetLoss({ clsLogits, boxRegression }, targets, p.anchors);
    assert.equal(await losses.boxRegression.array(), 0);
    const ref = classificationRef({ ...p, targets, matches: [new Int32Array(8).fill(-1)] }, logits);
    relativeClose(await losses.classification.array(), ref, 'classification');
    const [grad] = tf.grads(
      (r: tf.Tensor) => retinaNetLoss({ clsLogits, boxRegression: r as tf.Tensor3D }, targets, p.anchors).boxRegression,
    )([boxRegression]);
    assert.ok((await grad.data()).every((g) => g === 0));
  });

  it('refuses labels outside the classes, bad matches and mismatched shapes, naming them', () => {
    const p = smallProblem();
    const { clsLogits, boxRegression } = outputsOf(new Float32Array(48), new Float32Array(64), 2, 8, 3);
    const outputs = { clsLogits, boxRegression };
    const badLabel = [{ ...p.targets[0], labels: Int32Array.from([2, 3]) }, p.targets[1]];
    assert.throws(
      () => retinaNetLoss(outputs, badLabel, p.anchors),
      /target 0 label 1 must be a class index in 0\.\.2: got 3/,
    );
    assert.throws(() => retinaNetLoss(outputs, p.targets.slice(0, 1), p.anchors), /one entry per image \(2\): got 1/);
    assert.throws(
      () => retinaNetLoss(outputs, p.targets, p.anchors.subarray(0, 28)),
      /hold 8 anchors per image but there are 7/,
    );
    const badMatches = [Int32Array.from([0, 0, 0, 2, 0, 0, 0, 0]), p.matches[1]];
    assert.throws(
      () => retinaNetLoss(outputs, p.targets, p.anchors, { matches: badMatches }),
      /match 3 of image 0 must be -2, -1 or a box index below 2: got 2/,
    );
    const wrongRegression = { clsLogits, boxRegression: tf.zeros([2, 8, 5]) as tf.Tensor3D };
    assert.throws(() => retinaNetLoss(wrongRegression, p.targets, p.anchors), /boxRegression must be \[2, 8, 4\]/);
  });
});
