/** Plots: decoded size and content, confusion shading, argument errors, atomic writes. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FASHION_MNIST_CLASSES } from '../../src/data/spec.js';
import { confusionLayout, shade } from '../../src/viz/confusion.js';
import { barPlot, confusionMatrixPlot, linePlot, writePng } from '../../src/viz/plots.js';
import { colours, decodePng, pixel } from './decode.js';

const LABELS = FASHION_MNIST_CLASSES;
const luminance = ([r, g, b]: readonly number[]) => 0.2126 * r + 0.7152 * g + 0.0722 * b;
const curve = (f: (e: number) => number) => Array.from({ length: 20 }, (_, i) => [i + 1, f(i + 1)] as [number, number]);

describe('linePlot', () => {
  it('has the requested size and draws the series in their colours', () => {
    const img = decodePng(
      linePlot({
        title: 'loss',
        xLabel: 'epoch',
        yLabel: 'loss',
        width: 500,
        height: 300,
        series: [
          { name: 'train', points: curve((e) => 2 / e), color: '#ff0000' },
          { name: 'validation', points: [...curve((e) => 2.5 / e), [21, Number.NaN], [22, Number.POSITIVE_INFINITY]] },
        ],
      }),
    );
    assert.equal(img.width, 500);
    assert.equal(img.height, 300);
    const set = colours(img);
    assert.ok(set.size > 10, `${set.size} colours`);
    assert.ok(set.has(0xff0000), 'the red series');
    assert.ok(set.has((31 << 16) | (119 << 8) | 180) || set.has((255 << 16) | (127 << 8) | 14), 'a palette colour');
  });

  it('accepts a log axis and a fixed range', () => {
    const png = linePlot({ series: [{ name: 'a', points: curve((e) => 10 ** -e / 3) }], logY: true });
    assert.equal(decodePng(png).width, 640);
    linePlot({ series: [{ name: 'acc', points: curve((e) => 1 - 1 / e) }], yRange: [0, 1] });
  });

  it('names the argument at fault', () => {
    const s = [{ name: 'a', points: curve((e) => e) }];
    assert.throws(() => linePlot({ series: [] }), /series must be a non-empty array/);
    assert.throws(() => linePlot({ series: [{ name: 'a', points: [[1, Number.NaN]] }] }), /no finite points/);
    assert.throws(
      () => linePlot({ series: [{ name: 'a', points: [[1, 2, 3]] as never }] }),
      /series\[0\]\.points\[0\]/,
    );
    assert.throws(() => linePlot({ series: s, width: Number.NaN }), /width/);
    assert.throws(() => linePlot({ series: s, height: Number.POSITIVE_INFINITY }), /height/);
    assert.throws(() => linePlot({ series: s, yRange: [1, 0] }), /yRange/);
    assert.throws(() => linePlot({ series: s, yRange: [0, 1], logY: true }), /yRange/);
    assert.throws(() => linePlot({ series: [{ ...s[0], color: 'red' }] }), /series\[0\]\.color/);
  });
});

describe('barPlot', () => {
  it('draws bars with long labels, and negative values', () => {
    const bars = [
      { label: 'conv 1,2 / attention 3,4', value: 0.91 },
      { label: 'attention 1,2,3,4', value: 0.9 },
      { label: 'a_very_long_configuration_name', value: -0.05, color: '#d62728' },
    ];
    const img = decodePng(barPlot({ title: 'ablation', yLabel: 'accuracy', bars }));
    assert.equal(img.height, 420);
    assert.ok(colours(img).has((214 << 16) | (39 << 8) | 40));
  });

  it('names the argument at fault', () => {
    assert.throws(() => barPlot({ bars: [] }), /bars must be a non-empty array/);
    assert.throws(() => barPlot({ bars: [{ label: 'a', value: Number.NaN }] }), /bars\[0\]\.value/);
    assert.throws(() => barPlot({ bars: [{ label: 'a', value: 1 }], width: -3 }), /width/);
  });
});

describe('confusionMatrixPlot', () => {
  it('shades darker as the row fraction grows', () => {
    const steps = Array.from({ length: 21 }, (_, i) => luminance(shade(i / 20)));
    for (let i = 1; i < steps.length; i++) assert.ok(steps[i] < steps[i - 1], `step ${i}`);
  });

  it('shades each cell by its row-normalised value, monotone across the image', () => {
    const n = LABELS.length;
    const matrix = LABELS.map((_, r) => LABELS.map((_, c) => (r + 1) * ((c * 7 + r * 3) % n)));
    const options = { title: 'confusion', labels: LABELS, matrix };
    const img = decodePng(confusionMatrixPlot(options));
    const { width, height, x0, y0, cell } = confusionLayout(options);
    assert.equal(img.width, width);
    assert.equal(img.height, height);
    const samples = matrix.flatMap((row, r) => {
      const total = row.reduce((a, b) => a + b, 0);
      return row.map((v, c) => ({ f: v / total, l: luminance(pixel(img, x0 + c * cell + 2, y0 + r * cell + 2)) }));
    });
    samples.sort((a, b) => a.f - b.f);
    for (let i = 1; i < samples.length; i++) {
      if (samples[i].f > samples[i - 1].f) assert.ok(samples[i].l < samples[i - 1].l, `fraction ${samples[i].f}`);
      else assert.equal(samples[i].l, samples[i - 1].l);
    }
  });

  it('names the argument at fault', () => {
    const labels = ['a', 'b'];
    assert.throws(() => confusionMatrixPlot({ labels: [], matrix: [] }), /labels/);
    assert.throws(() => confusionMatrixPlot({ labels, matrix: [[1, 2]] }), /matrix must have one row per label/);
    assert.throws(() => confusionMatrixPlot({ labels, matrix: [[1, 2], [3]] }), /matrix must be square/);
    assert.throws(
      () =>
        confusionMatrixPlot({
          labels,
          matrix: [
            [1, 2],
            [3, -1],
          ],
        }),
      /matrix\[1\]\[1\]/,
    );
    assert.throws(
      () =>
        confusionMatrixPlot({
          labels,
          matrix: [
            [1, 2],
            [3, 4],
          ],
          cellSize: 2.5,
        }),
      /cellSize/,
    );
  });
});

describe('writePng', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sasa-viz-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the file atomically, leaving no temporary file', async () => {
    const png = confusionMatrixPlot({
      labels: LABELS.slice(0, 3),
      matrix: [
        [5, 1, 0],
        [2, 7, 1],
        [0, 0, 9],
      ],
    });
    const path = join(dir, 'sub', 'cm.png');
    await writePng(path, png);
    await writePng(path, png);
    assert.deepEqual(readFileSync(path), png);
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['cm.png']);
  });
});
