/** Rendering: PNG size, and text drawn as the bundled font's glyphs with no system fonts at all. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { bundledFontMetrics, PIXEL_RATIO, renderPng, renderSvg, THEME } from '../../src/viz/chart.js';
import { textWidth } from '../../src/viz/font_metrics.js';
import { barPlot } from '../../src/viz/plots.js';
import { decodePng, ink } from './pixels.js';

const TITLE = 'Top-1 of the k study, Wide and Tall';
const chart = barPlot({
  title: TITLE,
  width: 600,
  height: 400,
  bars: [
    { label: 'k=3', value: 85.6 },
    { label: 'k=5', value: 86.1 },
  ],
});
/** Title text is #222222; the frame (#5a5a5a) and grid are lighter than this. */
const TEXT_INK = 80;

describe('renderPng', () => {
  it('gives a PNG PIXEL_RATIO times the chart size', async () => {
    const img = await decodePng(await renderPng(chart));
    assert.deepEqual([img.width, img.height], [600 * PIXEL_RATIO, 400 * PIXEL_RATIO]);
    const small = await decodePng(await renderPng(chart, 1));
    assert.deepEqual([small.width, small.height], [600, 400]);
    await assert.rejects(renderPng(chart, 0), /pixelRatio/);
  });

  it('draws the title as glyphs of the bundled bold face, as wide as its advances', async () => {
    const img = await decodePng(await renderPng(chart));
    const size = Number(THEME.title?.fontSize);
    const band = { x0: 0, y0: 0, x1: img.width, y1: PIXEL_RATIO * (Number(THEME.padding) + size + 6) };
    const drawn = ink(img, band, TEXT_INK);
    assert.ok(drawn.count > 500, `${drawn.count} dark pixels in the title band`);
    const expected = PIXEL_RATIO * textWidth(bundledFontMetrics().bold, TITLE, size);
    const width = drawn.right - drawn.left + 1;
    assert.ok(Math.abs(width - expected) < 0.04 * expected, `title ink ${width} px wide, advances ${expected}`);
  });

  it('would draw no text at all without the bundled font (no system fonts here either)', async () => {
    const svg = await renderSvg(chart);
    const bare = new Resvg(svg, { fitTo: { mode: 'zoom', value: PIXEL_RATIO }, font: { loadSystemFonts: false } });
    const img = await decodePng(bare.render().asPng());
    const band = { x0: 0, y0: 0, x1: img.width, y1: PIXEL_RATIO * 40 };
    assert.equal(ink(img, band, TEXT_INK).count, 0);
  });
});

describe('renderSvg', () => {
  it("leaves vega's text measurer as it was for other vega users, also across concurrent renders", async () => {
    const metrics = (vega as unknown as { textMetrics: { width: unknown } }).textMetrics;
    const before = metrics.width;
    const [a, b] = await Promise.all([renderSvg(chart), renderSvg(chart)]);
    const unclip = (svg: string) => svg.replace(/clip\d+/g, 'clip');
    assert.equal(unclip(a), unclip(b), 'two concurrent renders lay the chart out alike');
    assert.equal(metrics.width, before);
    assert.match(a, new RegExp(TITLE));
  });
});
