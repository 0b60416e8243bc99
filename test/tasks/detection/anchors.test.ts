/** RetinaNet's anchors against torchvision 0.14's AnchorGenerator on its ResNet-50 FPN feature maps. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  anchorsPerLocation,
  cellAnchors,
  featureSizes,
  generateAnchors,
} from '../../../src/tasks/detection/anchors.js';
import type { Size2 } from '../../../src/tasks/detection/boxes.js';
import { octaveSizes, RETINANET_ANCHORS } from '../../../src/tasks/detection/config.js';
import { assertFloatsEqual, floats, type GoldenFloat, readGolden } from './golden.js';

interface AnchorsGolden {
  sizes: number[][];
  aspectRatios: number[];
  cellAnchors: GoldenFloat[][];
  cases: { imageSize: [number, number]; featureSizes: [number, number][]; anchors: GoldenFloat[] }[];
}

const golden = readGolden<AnchorsGolden>('anchors.json.gz');

describe('RetinaNet anchors', () => {
  it("sizes and ratios are torchvision's (the intermediate scales truncated), 9 per location", () => {
    assert.deepEqual(RETINANET_ANCHORS.sizes, golden.sizes);
    assert.deepEqual(RETINANET_ANCHORS.aspectRatios, golden.aspectRatios);
    assert.deepEqual(octaveSizes(32), [32, 40, 50]);
    assert.deepEqual(anchorsPerLocation(), [9, 9, 9, 9, 9]);
  });

  it('cell anchors are rounded half to even, ratio-major, as torchvision', () => {
    golden.cellAnchors.forEach((cells, l) => {
      assertFloatsEqual(
        cellAnchors(RETINANET_ANCHORS.sizes[l], RETINANET_ANCHORS.aspectRatios),
        floats(cells),
        `P${l + 3}`,
      );
    });
    assert.deepEqual(Array.from(cellAnchors([5], [1])), [-2, -2, 2, 2]);
    assert.deepEqual(Array.from(cellAnchors([7], [1])), [-4, -4, 4, 4]);
  });

  for (const c of golden.cases) {
    it(`all anchors of a ${c.imageSize.join('×')} image equal torchvision's, in its order`, () => {
      assert.deepEqual(featureSizes(c.imageSize), c.featureSizes, 'ceil(size / stride) is the backbone feature size');
      const { boxes, perLevel } = generateAnchors(c.imageSize);
      assert.deepEqual(
        perLevel,
        c.featureSizes.map(([h, w]) => h * w * 9),
      );
      assertFloatsEqual(boxes, floats(c.anchors), 'anchors');
    });
  }

  it('takes explicit feature sizes (stride = image size // feature size) and refuses bad ones', () => {
    const one: Size2[] = [[2, 3]];
    const config = { strides: [4], sizes: [[4]], aspectRatios: [1] };
    const { boxes } = generateAnchors([9, 13], config, one);
    assert.deepEqual(Array.from(boxes.subarray(0, 8)), [-2, -2, 2, 2, 2, -2, 6, 2]);
    assert.deepEqual(Array.from(boxes.subarray(12, 16)), [-2, 2, 2, 6]);
    assert.throws(() => generateAnchors([9, 13], config, [[2, 0]]), /feature size of level 0 \[height, width\]\[1\]/);
    assert.throws(
      () => generateAnchors([9, 13], config, []),
      /anchor sizes have 1 levels but there are 0 feature maps/,
    );
    assert.throws(() => featureSizes([0, 5]), /image size \[height, width\]\[0\] must be a positive integer: got 0/);
    assert.throws(() => cellAnchors([32], [-1]), /aspect ratio 0 must be positive: got -1/);
  });
});
