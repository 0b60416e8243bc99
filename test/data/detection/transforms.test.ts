/**
 * Transforms move the boxes with the pixels: a filled rectangle drawn in a synthetic image stays exactly
 * inside its transformed box after each transform (pixels well inside the box keep the rectangle's value,
 * pixels outside it keep the background). The bilinear resize is checked on a linear ramp, which it
 * reproduces exactly (an independent closed form).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Boxed,
  checkScaleChoice,
  type FloatImage,
  flipHorizontal,
  largestScale,
  padImage,
  pickFlip,
  pickScale,
  resizedSize,
  resizeImage,
  resizeShorterSide,
} from '../../../src/data/detection/transforms.js';

/** A width × height image of 0 with the rectangle [x1, x2) × [y1, y2) at 1 (all channels). */
function rectangleImage(width: number, height: number, [x1, y1, x2, y2]: number[]): Boxed {
  const data = new Float32Array(width * height * 3);
  for (let r = y1; r < y2; r++)
    for (let c = x1; c < x2; c++) data.fill(1, 3 * (r * width + c), 3 * (r * width + c + 1));
  return { image: { data, width, height }, boxes: Float32Array.from([x1, y1, x2, y2]) };
}

/**
 * The rectangle is where the box says: pixels whose square lies ≥ `margin` inside the box are ≥ 0.99,
 * pixels whose square lies ≥ `margin` outside it are ≤ 0.01 (a bilinear resize blurs ~1 source pixel).
 */
function assertOnRectangle({ image, boxes }: Boxed, margin: number) {
  const [x1, y1, x2, y2] = boxes;
  let inside = 0;
  for (let r = 0; r < image.height; r++) {
    for (let c = 0; c < image.width; c++) {
      const v = image.data[3 * (r * image.width + c)];
      const within = c >= x1 + margin && c + 1 <= x2 - margin && r >= y1 + margin && r + 1 <= y2 - margin;
      const outside = c + 1 <= x1 - margin || c >= x2 + margin || r + 1 <= y1 - margin || r >= y2 + margin;
      if (within) {
        assert.ok(v >= 0.99, `pixel (${r}, ${c}) = ${v} inside box [${[...boxes]}]`);
        inside++;
      }
      if (outside) assert.ok(v <= 0.01, `pixel (${r}, ${c}) = ${v} outside box [${[...boxes]}]`);
    }
  }
  assert.ok(inside > 0, 'some pixels inside the box');
}

const sample = () => rectangleImage(60, 40, [13, 7, 41, 30]);

describe('detection transforms', () => {
  it('resizedSize: shorter side to S, longer capped at L, aspect kept', () => {
    assert.deepEqual(resizedSize(60, 40, 80, 1000), { width: 120, height: 80 });
    assert.deepEqual(resizedSize(60, 40, 80, 100), { width: 100, height: 67 });
    assert.deepEqual(resizedSize(500, 375, 600, 1000), { width: 800, height: 600 });
    assert.deepEqual(resizedSize(375, 500, 800, 1333), { width: 800, height: 1067 });
  });

  for (const [shorter, maxSize] of [
    [80, 1000],
    [27, 1000],
    [50, 64],
  ]) {
    it(`resizeShorterSide(${shorter}, ${maxSize}) keeps the box on the rectangle`, () => {
      const out = resizeShorterSide(sample(), shorter, maxSize);
      const size = resizedSize(60, 40, shorter, maxSize);
      assert.deepEqual([out.image.width, out.image.height], [size.width, size.height]);
      assert.equal(out.scaleX, size.width / 60);
      assert.equal(out.scaleY, size.height / 40);
      assert.deepEqual(
        [...out.boxes],
        [13 * out.scaleX, 7 * out.scaleY, 41 * out.scaleX, 30 * out.scaleY].map(Math.fround),
      );
      assertOnRectangle(out, 1 + Math.max(out.scaleX, 1 / out.scaleX));
    });
  }

  it('the identity resize leaves the image as it is', () => {
    const s = sample();
    assert.equal(resizeShorterSide(s, 40, 1000).image, s.image);
  });

  it('flipHorizontal mirrors pixels and boxes, exactly', () => {
    const out = flipHorizontal(sample());
    assert.deepEqual([...out.boxes], [60 - 41, 7, 60 - 13, 30]);
    assertOnRectangle(out, 0);
    assert.deepEqual(flipHorizontal(out).image.data, sample().image.data);
  });

  it('padImage pads at the bottom and right to a multiple of the divisor, boxes unchanged', () => {
    const s = sample();
    const padded = padImage(s.image, 32, -2);
    assert.deepEqual([padded.width, padded.height], [64, 64]);
    assertOnRectangle({ image: { ...padded, data: padded.data.map((v) => (v === -2 ? 0 : v)) }, boxes: s.boxes }, 0);
    assert.equal(padded.data[3 * (63 * 64 + 63)], -2);
    assert.equal(padded.data[3 * (39 * 64 + 59)], s.image.data[3 * (39 * 60 + 59)]);
    assert.throws(() => padImage(s.image, 1, 0, 50, 50), /60×40 does not fit in 50×50/);
  });

  it('resize, flip and pad in a row keep the box on the rectangle', () => {
    const resized = resizeShorterSide(sample(), 100, 133);
    const flipped = flipHorizontal(resized);
    const padded = { image: padImage(flipped.image, 128), boxes: flipped.boxes };
    assert.deepEqual([padded.image.width, padded.image.height], [256, 128]);
    assertOnRectangle(padded, 1 + 1 / resized.scaleX);
  });

  it('the bilinear resize reproduces a linear ramp (half-pixel centres)', () => {
    const w0 = 10;
    const ramp: FloatImage = { data: new Float32Array(w0 * 2 * 3), width: w0, height: 2 };
    for (let c = 0; c < w0; c++) for (let r = 0; r < 2; r++) ramp.data.fill(c, 3 * (r * w0 + c), 3 * (r * w0 + c + 1));
    const out = resizeImage(ramp, 25, 5);
    for (let c = 0; c < 25; c++) {
      const x = Math.min(Math.max((c + 0.5) * (w0 / 25) - 0.5, 0), w0 - 1);
      assert.ok(Math.abs(out.data[3 * (2 * 25 + c) + 1] - x) < 1e-5, `column ${c}`);
    }
  });

  it('multiscale jitter: seeded per (seed, epoch, image), within the choice', () => {
    const list = [480, 512, 544, 576, 608];
    const draws = Array.from({ length: 200 }, (_, i) => pickScale(list, 3, 1, i));
    assert.deepEqual([...new Set(draws)].sort(), list);
    assert.deepEqual(
      draws,
      Array.from({ length: 200 }, (_, i) => pickScale(list, 3, 1, i)),
    );
    assert.notDeepEqual(
      draws,
      Array.from({ length: 200 }, (_, i) => pickScale(list, 3, 2, i)),
    );
    const range = Array.from({ length: 300 }, (_, i) => pickScale({ min: 20, max: 24 }, 0, 0, i));
    assert.deepEqual([...new Set(range)].sort(), [20, 21, 22, 23, 24]);
    assert.equal(pickScale(600, 1, 2, 3), 600);
    assert.equal(largestScale(list), 608);
    assert.equal(largestScale({ min: 3, max: 9 }), 9);
    const flips = Array.from({ length: 400 }, (_, i) => pickFlip(0, 0, i)).filter(Boolean).length;
    assert.ok(flips > 150 && flips < 250, `${flips} of 400 flipped`);
    assert.throws(() => checkScaleChoice([], 'shorterSide'), /shorterSide must be a positive integer/);
    assert.throws(() => checkScaleChoice({ min: 5, max: 4 }, 'shorterSide'), /min ≤ max/);
  });
});
