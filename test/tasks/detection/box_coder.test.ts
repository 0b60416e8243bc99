/** The box coder (encode, decode, the tensor decode) against torchvision 0.14's BoxCoder. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { decodeBoxes, decodeBoxesTensor, encodeBoxes } from '../../../src/tasks/detection/box_coder.js';
import { type BoxCoderConfig, RETINANET_BOX_CODER } from '../../../src/tasks/detection/config.js';
import * as tf from '../../../src/tf.js';
import { setup } from '../../helpers.js';
import { assertFloatsClose, floats, type GoldenFloat, readGolden } from './golden.js';

interface CoderCase {
  weights: BoxCoderConfig['weights'];
  clip: number;
  anchors: GoldenFloat[];
  boxes: GoldenFloat[];
  encoded: GoldenFloat[];
  deltas: GoldenFloat[];
  decoded: GoldenFloat[];
}

const { cases } = readGolden<{ cases: CoderCase[] }>('coder.json');

describe('box coder', () => {
  before(setup);

  it("RetinaNet's defaults are torchvision's: weights (1, 1, 1, 1), clip log(1000 / 16)", () => {
    assert.deepEqual(RETINANET_BOX_CODER.weights, cases[0].weights);
    assert.equal(RETINANET_BOX_CODER.clip, cases[0].clip);
  });

  for (const c of cases) {
    const config: BoxCoderConfig = { weights: c.weights, clip: c.clip };
    const anchors = floats(c.anchors);

    it(`encodes boxes against anchors as torchvision (weights ${c.weights})`, () => {
      assertFloatsClose(encodeBoxes(floats(c.boxes), anchors, config), floats(c.encoded), 'encoded');
    });

    it(`decodes deltas, large ones clipped, as torchvision (weights ${c.weights})`, () => {
      const decoded = decodeBoxes(floats(c.deltas), anchors, config);
      assertFloatsClose(decoded, floats(c.decoded), 'decoded');
    });

    it(`decodes what it encoded (weights ${c.weights})`, () => {
      const boxes = floats(c.boxes);
      assertFloatsClose(decodeBoxes(encodeBoxes(boxes, anchors, config), anchors, config), boxes, 'round trip', {
        rel: 1e-5,
        abs: 1e-4,
      });
    });

    it(`the tensor decode agrees with the typed-array one (weights ${c.weights})`, async () => {
      const deltas = floats(c.deltas);
      const n = deltas.length / 4;
      const out = decodeBoxesTensor(tf.tensor2d(deltas, [n, 4]), tf.tensor2d(anchors, [n, 4]), config);
      assert.deepEqual(out.shape, [n, 4]);
      assertFloatsClose(await out.data(), decodeBoxes(deltas, anchors, config), 'tensor decode');
      out.dispose();
    });
  }

  it('refuses mismatched or malformed arguments, naming them', () => {
    const four = new Float32Array([0, 0, 4, 4]);
    assert.throws(
      () => encodeBoxes(new Float32Array(8), four),
      /boxes \[2, 4\] and anchors \[1, 4\] must have the same/,
    );
    assert.throws(() => decodeBoxes(new Float32Array(5), four), /deltas must be \[N, 4\] xyxy: got length 5/);
    assert.throws(
      () => decodeBoxes(four, four, { weights: [1, 0, 1, 1], clip: 4 }),
      /box coder weights must be 4 finite non-zero numbers/,
    );
    assert.throws(
      () => decodeBoxesTensor(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 4]) as tf.Tensor2D),
      /deltas must be \[N, 4\]: got \[2,3\]/,
    );
  });
});
