import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { PALETTE } from '../../src/viz/chart.js';
import { detectionsSvg, drawDetections } from '../../src/viz/detections.js';

const grey = (w: number, h: number) => ({ data: new Uint8Array(w * h * 3).fill(128), width: w, height: h });
const rgbOf = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));

describe('drawDetections', () => {
  it('draws each box in its class colour with its label, over the image, at the image size', async () => {
    const png = await drawDetections(grey(120, 80), [
      { box: [20, 30, 100, 70], label: 'circle', score: 0.93, classIndex: 1 },
    ]);
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [120, 80]);
    const at = (x: number, y: number) => [...data.subarray((y * 120 + x) * 3, (y * 120 + x) * 3 + 3)];
    const colour = rgbOf(PALETTE[1]);
    const distance = (a: number[], b: number[]) => Math.hypot(...a.map((v, c) => v - b[c]));
    // the left edge of the box (a stroke centred on x = 20, anti-aliased) and the label tab above the box
    assert.ok(distance(at(20, 50), colour) < distance(at(20, 50), [128, 128, 128]) / 3, `edge ${at(20, 50)}`);
    assert.ok(distance(at(21, 17), colour) <= 3, `tab ${at(21, 17)}`);
    assert.deepEqual(at(60, 50), [128, 128, 128]);
    assert.deepEqual(at(5, 75), [128, 128, 128]);
  });

  it('escapes label text and embeds the image as a data URI', () => {
    const svg = detectionsSvg(new Uint8Array([1, 2, 3]), 10, 10, [
      { box: [0, 0, 5, 5], label: 'a<b>&"c', score: 0.5, classIndex: 0 },
    ]);
    assert.match(svg, /a&lt;b&gt;&amp;&quot;c 0\.50/);
    assert.match(svg, /href="data:image\/png;base64,AQID"/);
  });
});
