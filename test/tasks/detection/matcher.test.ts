/** The anchor matcher against torchvision 0.14's Matcher and RetinaNet's training match. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateAnchors } from '../../../src/tasks/detection/anchors.js';
import { RETINANET_MATCHER } from '../../../src/tasks/detection/config.js';
import {
  BELOW_LOW_THRESHOLD,
  BETWEEN_THRESHOLDS,
  matchAnchors,
  matchQuality,
} from '../../../src/tasks/detection/matcher.js';
import { floats, type GoldenFloat, readGolden } from './golden.js';

interface MatcherGolden {
  quality: {
    name: string;
    shape: [number, number];
    allowLowQualityMatches: boolean;
    quality: GoldenFloat[];
    matches: number[];
  }[];
  training: { imageSize: [number, number]; boxes: GoldenFloat[]; matches: number[] };
}

const golden = readGolden<MatcherGolden>('matcher.json');

describe('anchor matcher', () => {
  for (const c of golden.quality) {
    it(`matches a quality matrix as torchvision: ${c.name}`, () => {
      const config = { ...RETINANET_MATCHER, allowLowQualityMatches: c.allowLowQualityMatches };
      const matches = matchQuality(floats(c.quality), c.shape[0], c.shape[1], config);
      assert.deepEqual(Array.from(matches), c.matches);
    });
  }

  it('exercises the band, the background and low-quality matches (the goldens are not trivial)', () => {
    const [grid, plain] = golden.quality;
    assert.ok(grid.matches.includes(BETWEEN_THRESHOLDS) && grid.matches.includes(BELOW_LOW_THRESHOLD));
    assert.notDeepEqual(grid.matches, plain.matches);
  });

  it("RetinaNet's training match of 256×256 anchors to ground-truth boxes equals torchvision's", () => {
    const { boxes } = generateAnchors(golden.training.imageSize);
    const matches = matchAnchors(floats(golden.training.boxes), boxes);
    assert.equal(matches.length, boxes.length / 4);
    assert.deepEqual(Array.from(matches), golden.training.matches);
  });

  it('makes every anchor background without ground truth, as RetinaNet', () => {
    const matches = matchAnchors(new Float32Array(0), new Float32Array([0, 0, 8, 8, 4, 4, 12, 12]));
    assert.deepEqual(Array.from(matches), [BELOW_LOW_THRESHOLD, BELOW_LOW_THRESHOLD]);
  });

  it('keeps its defaults as frozen data (a detector spreads them to override a field)', () => {
    assert.throws(() => {
      (RETINANET_MATCHER as { highThreshold: number }).highThreshold = 0.6;
    }, TypeError);
    const stricter = { ...RETINANET_MATCHER, highThreshold: 0.6, allowLowQualityMatches: false };
    assert.deepEqual(Array.from(matchQuality(new Float32Array([0.55]), 1, 1, stricter)), [BETWEEN_THRESHOLDS]);
    assert.deepEqual(
      Array.from(matchQuality(new Float32Array([0.55]), 1, 1, { ...stricter, allowLowQualityMatches: true })),
      [0],
    );
  });

  it('refuses degenerate ground truth, empty anchors, bad shapes and thresholds, naming them', () => {
    const anchors = new Float32Array([0, 0, 8, 8]);
    assert.throws(
      () => matchAnchors(new Float32Array([0, 0, 8, 8, 3, 3, 3, 9]), anchors),
      /ground-truth box 1 \[3,3,3,9\] must have positive width and height/,
    );
    assert.throws(() => matchAnchors(anchors, new Float32Array(0)), /anchors must hold at least one box/);
    assert.throws(
      () => matchAnchors(new Float32Array(3), anchors),
      /ground-truth boxes must be \[N, 4\] xyxy: got length 3/,
    );
    assert.throws(() => matchQuality(new Float32Array(5), 2, 3), /match quality must be \[2, 3\]: got length 5/);
    assert.throws(
      () => matchQuality(new Float32Array(6), 2, 3, { ...RETINANET_MATCHER, lowThreshold: 0.6 }),
      /matcher lowThreshold \(0.6\) must be ≤ highThreshold \(0.5\)/,
    );
  });
});
