/** The raster canvas: text inside its box, alignment, vertical text, lines. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Canvas, textHeight, textWidth, toRgb } from '../../src/viz/canvas.js';

/** Bounding box [x0, y0, x1, y1] (inclusive) of the pixels that are not white, or null. */
function inked(c: Canvas): [number, number, number, number] | null {
  let box: [number, number, number, number] | null = null;
  for (let y = 0; y < c.height; y++) {
    for (let x = 0; x < c.width; x++) {
      const i = (y * c.width + x) * 4;
      if (c.data[i] === 255 && c.data[i + 1] === 255 && c.data[i + 2] === 255) continue;
      box = box === null ? [x, y, x, y] : [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x), y];
    }
  }
  return box;
}

describe('Canvas', () => {
  it('draws text inside its box, left, centre and right aligned, at scale 1 and 2', () => {
    for (const scale of [1, 2]) {
      const w = textWidth('Hello', scale);
      assert.equal(w, (5 * 6 - 1) * scale);
      for (const [align, left] of [
        ['left', 70],
        ['center', 70 - w / 2],
        ['right', 70 - w],
      ] as const) {
        const c = new Canvas(140, 40);
        c.text('Hello', 70, 10, { scale, align });
        const box = inked(c);
        assert.ok(box !== null, 'some pixels drawn');
        assert.ok(box[0] >= Math.floor(left) && box[2] < Math.ceil(left) + w, `${align} x ${box}`);
        assert.ok(box[1] >= 10 && box[3] < 10 + textHeight(scale), `${align} y ${box}`);
        assert.ok(box[2] - box[0] >= w - 2 * scale, `spans the width ${scale} ${align} ${box}`);
      }
    }
  });

  it('puts descenders below the cap height', () => {
    const c = new Canvas(40, 30);
    c.text('gy', 2, 5);
    const box = inked(c);
    assert.ok(box !== null && box[3] > 5 + textHeight() - 1 && box[3] <= 5 + 9 - 1);
  });

  it('draws vertical text upwards from its anchor', () => {
    const c = new Canvas(40, 100);
    c.text('Label', 10, 80, { vertical: true });
    const box = inked(c);
    assert.ok(box !== null);
    assert.ok(box[0] >= 10 && box[2] < 10 + textHeight(), `x ${box}`);
    assert.ok(box[3] <= 80 && box[1] > 80 - textWidth('Label'), `y ${box}`);
  });

  it('draws lines within their width and respects the clip rectangle', () => {
    const c = new Canvas(50, 50);
    c.line(5, 20, 45, 20, [0, 0, 0]);
    assert.deepEqual(inked(c), [5, 20, 45, 20]);
    const d = new Canvas(50, 50);
    d.clip = { x0: 0, y0: 0, x1: 24, y1: 49 };
    d.line(5, 5, 45, 45, [255, 0, 0], { width: 2 });
    const box = inked(d);
    assert.ok(box !== null && box[2] <= 24 && box[0] >= 3);
  });

  it('parses colours and rejects bad ones by name', () => {
    assert.deepEqual(toRgb('#1f77b4'), [31, 119, 180]);
    assert.throws(() => toRgb('blue', 'series[0].color'), /series\[0\]\.color/);
    assert.throws(() => new Canvas(0, 10), /width/);
    assert.throws(() => new Canvas(10, Number.POSITIVE_INFINITY), /height/);
  });
});
