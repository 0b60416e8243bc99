/** Plots: specs that compile cleanly and hold the data given, the ablation zoom, errors, atomic writes. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { compile, type TopLevelSpec } from 'vega-lite';
import { zoomedRange } from '../../src/cli/ablate.js';
import { FASHION_MNIST_CLASSES } from '../../src/data/spec.js';
import { PALETTE, PIXEL_RATIO, renderPng, SCHEMA } from '../../src/viz/chart.js';
import { type ConfusionCell, confusionMatrixPlot } from '../../src/viz/confusion.js';
import { barPlot, linePlot, specPath, specText, writePng } from '../../src/viz/plots.js';
import { colourCounts, decodePng, type Image, pixel } from './pixels.js';

/** The spec compiled by vega-lite; fails on any warning it logs. */
function compiles(spec: TopLevelSpec): void {
  const warnings: unknown[] = [];
  const logger = {
    level: () => logger,
    error: (...m: unknown[]) => {
      throw new Error(String(m));
    },
    warn: (...m: unknown[]) => {
      warnings.push(m);
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  const out = compile(spec, { logger } as never).spec;
  assert.deepEqual(warnings, []);
  assert.ok(Array.isArray(out.marks) && out.marks.length > 0, 'Vega marks');
}

type Row = Record<string, unknown>;
const rowsOf = (spec: TopLevelSpec) => (spec as { data: { values: Row[] } }).data.values;
const curve = (f: (e: number) => number) => Array.from({ length: 20 }, (_, i) => [i + 1, f(i + 1)] as [number, number]);

describe('linePlot', () => {
  it('holds each series’ points as rows, a gap as y null, in the given colours and a compiling spec', () => {
    const train = curve((e) => 2 / e);
    const chart = linePlot({
      title: 'loss',
      xLabel: 'epoch',
      yLabel: 'loss',
      series: [
        { name: 'train', points: train, color: '#ff0000' },
        {
          name: 'validation',
          points: [
            [1, 3],
            [2, Number.NaN],
            [3, 1],
            [Number.POSITIVE_INFINITY, 2],
          ],
          dashed: true,
        },
      ],
    });
    compiles(chart.spec);
    assert.equal((chart.spec as { $schema: string }).$schema, SCHEMA);
    const rows = rowsOf(chart.spec);
    assert.deepEqual(
      rows.filter((r) => r.series === 'train').map((r) => [r.x, r.y]),
      train.map(([x, y]) => [x, y]),
    );
    assert.deepEqual(
      rows.filter((r) => r.series === 'validation').map((r) => [r.x, r.y, r.dot]),
      [
        [1, 3, true],
        [2, null, false],
        [3, 1, true],
        [null, null, false],
      ],
    );
    const color = (chart.spec as { encoding: { color: { scale: { range: string[] } } } }).encoding.color;
    assert.deepEqual(color.scale.range, ['#ff0000', PALETTE[1]]);
  });

  it('draws the series in their colours at 800×500 by default', async () => {
    const chart = linePlot({ series: [{ name: 'a', points: curve((e) => e * e), color: [200, 0, 0] }] });
    const img = await decodePng(await renderPng(chart));
    assert.deepEqual([img.width, img.height], [800 * PIXEL_RATIO, 500 * PIXEL_RATIO]);
    assert.ok((colourCounts(img).get('#c80000') ?? 0) > 500, 'the series colour');
  });

  it('reduces a long series to what its line shows, and keeps log axes and fixed ranges', () => {
    const long = Array.from({ length: 20000 }, (_, i) => [i, Math.sin(i)] as [number, number]);
    const rows = rowsOf(linePlot({ width: 400, series: [{ name: 'steps', points: long }] }).spec);
    assert.ok(rows.length <= 4 * 400, `${rows.length} rows`);
    assert.equal(Math.min(...rows.map((r) => r.y as number)), Math.min(...long.map((p) => p[1])));
    const log = linePlot({ series: [{ name: 'a', points: curve((e) => 10 ** -e / 3) }], logY: true });
    compiles(log.spec);
    compiles(linePlot({ series: [{ name: 'acc', points: curve((e) => 1 - 1 / e) }], yRange: [0, 1] }).spec);
  });

  it('names the argument at fault', () => {
    const s = [{ name: 'a', points: curve((e) => e) }];
    assert.throws(() => linePlot({ series: [] }), /series must be a non-empty array/);
    assert.throws(() => linePlot({ series: [{ name: 'a', points: [[1, Number.NaN]] }] }), /no finite points/);
    assert.throws(
      () => linePlot({ series: [{ name: 'a', points: [[1, 2, 3]] as never }] }),
      /series\[0\]\.points\[0\]/,
    );
    assert.throws(() => linePlot({ series: [s[0], s[0]] }), /series\[1\]\.name 'a' repeats series\[0\]/);
    assert.throws(() => linePlot({ series: s, width: Number.NaN }), /width/);
    assert.throws(() => linePlot({ series: s, height: Number.POSITIVE_INFINITY }), /height/);
    assert.throws(() => linePlot({ series: s, yRange: [1, 0] }), /yRange/);
    assert.throws(() => linePlot({ series: s, yRange: [0, 1], logY: true }), /yRange/);
    assert.throws(() => linePlot({ series: [{ ...s[0], color: 'red' }] }), /series\[0\]\.color/);
    assert.throws(() => linePlot({ series: s, title: '' }), /title/);
  });
});

/** Top row of each bar of colour `hex`, left to right: bars are runs of columns holding that colour. */
function barTops(img: Image, hex: string): number[] {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  const tops: number[] = [];
  let inBar = false;
  for (let x = 0; x < img.width; x++) {
    let top = -1;
    for (let y = 0; y < img.height && top < 0; y++) {
      const p = pixel(img, x, y);
      if (p[0] === r && p[1] === g && p[2] === b) top = y;
    }
    if (top >= 0 && !inBar) tops.push(top);
    if (top >= 0) tops[tops.length - 1] = Math.min(tops[tops.length - 1], top);
    inBar = top >= 0;
  }
  return tops;
}

describe('barPlot', () => {
  it('zooms to the ablation range: half a point apart is tens of pixels apart, heights linear in value', async () => {
    const values = [85.5, 86, 87];
    const bars = values.map((value, i) => ({ label: `k=${2 * i + 3}`, value }));
    const chart = barPlot({ title: 'k study', yLabel: 'top-1 %', bars, yRange: zoomedRange(values) });
    compiles(chart.spec);
    const y = (chart.spec as { encoding: { y: { scale: { domain: number[] } } } }).encoding.y;
    assert.deepEqual(y.scale.domain, [83, 88]);
    const tops = barTops(await decodePng(await renderPng(chart)), PALETTE[0]);
    assert.equal(tops.length, 3);
    const perPoint = (tops[0] - tops[1]) / 0.5;
    assert.ok(perPoint > 100, `${perPoint} px per point`);
    assert.ok(Math.abs((tops[1] - tops[2]) / 1 - perPoint) <= 4, `${tops}: not linear`);
  });

  it('writes each value, wraps long labels to their bar and includes 0 without a range', () => {
    const bars = [
      { label: 'conv 1,2 / attention 3,4', value: 0.91 },
      { label: 'attention 1,2,3,4', value: 0.9 },
      { label: 'conv 1,2,3 / attention 4', value: -0.05, color: '#d62728' },
    ];
    const chart = barPlot({ title: 'ablation', yLabel: 'accuracy', bars, width: 400 });
    compiles(chart.spec);
    assert.deepEqual(
      rowsOf(chart.spec).map((r) => [r.label, r.value, r.text, r.color]),
      bars.map((b) => [b.label, b.value, String(b.value), b.color ?? PALETTE[0]]),
    );
    const x = (chart.spec as { encoding: { x: { axis: { labelExpr?: string } } } }).encoding.x;
    const lines = new Function('datum', `return ${x.axis.labelExpr}`) as (d: { value: string }) => string[];
    assert.deepEqual(lines({ value: bars[0].label }).join(' '), bars[0].label);
    assert.ok(lines({ value: bars[0].label }).length > 1, 'wrapped');
    const y = (chart.spec as { encoding: { y: { scale: { zero: boolean } } } }).encoding.y;
    assert.equal(y.scale.zero, true);
  });

  it('names the argument at fault', () => {
    assert.throws(() => barPlot({ bars: [] }), /bars must be a non-empty array/);
    assert.throws(() => barPlot({ bars: [{ label: 'a', value: Number.NaN }] }), /bars\[0\]\.value/);
    assert.throws(() => barPlot({ bars: [{ label: 'a', value: 1 }], width: -3 }), /width/);
    assert.throws(() => barPlot({ bars: [{ label: 'a', value: 1 }], yRange: [2, 2] }), /yRange/);
  });
});

describe('confusionMatrixPlot', () => {
  it('holds each cell with its row fraction, and the count where it fits', () => {
    const n = FASHION_MNIST_CLASSES.length;
    const matrix = FASHION_MNIST_CLASSES.map((_, r) =>
      FASHION_MNIST_CLASSES.map((_, c) => (r + 1) * ((c * 7 + r * 3) % n)),
    );
    const chart = confusionMatrixPlot({ title: 'confusion', labels: FASHION_MNIST_CLASSES, matrix });
    compiles(chart.spec);
    const cells = rowsOf(chart.spec) as unknown as ConfusionCell[];
    assert.equal(cells.length, n * n);
    for (const [i, cell] of cells.entries()) {
      const [r, c] = [Math.floor(i / n), i % n];
      const total = matrix[r].reduce((a, b) => a + b, 0);
      assert.deepEqual(
        [cell.true, cell.predicted, cell.count, cell.text],
        [FASHION_MNIST_CLASSES[r], FASHION_MNIST_CLASSES[c], matrix[r][c], String(matrix[r][c])],
      );
      assert.ok(Math.abs(cell.fraction - matrix[r][c] / total) < 1e-15);
    }
    const tiny = confusionMatrixPlot({
      labels: ['a', 'b'],
      matrix: [
        [123456, 0],
        [0, 0],
      ],
      cellSize: 22,
    });
    assert.deepEqual(
      rowsOf(tiny.spec).map((r) => [r.text, r.fraction]),
      [
        ['', 1],
        ['0', 0],
        ['0', 0],
        ['0', 0],
      ],
    );
  });

  it('shades a whole row white to navy', async () => {
    const chart = confusionMatrixPlot({
      labels: ['a', 'b'],
      matrix: [
        [10, 0],
        [0, 4],
      ],
    });
    const counts = colourCounts(await decodePng(await renderPng(chart)));
    assert.ok((counts.get('#08306b') ?? 0) > 1000, 'fraction 1: navy cells');
    assert.ok((counts.get('#f7fbff') ?? 0) > 1000, 'fraction 0: white-blue cells');
  });

  it('names the argument at fault', () => {
    const labels = ['a', 'b'];
    assert.throws(() => confusionMatrixPlot({ labels: [], matrix: [] }), /labels/);
    assert.throws(
      () =>
        confusionMatrixPlot({
          labels: ['a', 'a'],
          matrix: [
            [1, 2],
            [3, 4],
          ],
        }),
      /labels\[1\] 'a'/,
    );
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

  it('writes the PNG and its spec next to it atomically, leaving no temporary file', async () => {
    const chart = confusionMatrixPlot({
      labels: ['a', 'b', 'c'],
      matrix: [
        [5, 1, 0],
        [2, 7, 1],
        [0, 0, 9],
      ],
    });
    const path = join(dir, 'sub', 'cm.png');
    await writePng(path, chart);
    await writePng(path, chart);
    assert.deepEqual(readdirSync(join(dir, 'sub')).sort(), ['cm.png', 'cm.vl.json']);
    assert.deepEqual(readFileSync(path), await renderPng(chart));
    const text = readFileSync(join(dir, 'sub', 'cm.vl.json'), 'utf8');
    assert.deepEqual(JSON.parse(text), chart.spec);
    assert.ok(text.includes(`\n      ${JSON.stringify(rowsOf(chart.spec)[4])},\n`), 'a data row per line');
  });

  it('keeps any text in the data as it is', async () => {
    const chart = barPlot({ bars: [{ label: '$& $1 $$ \u0000rows " \'', value: 1 }] });
    assert.deepEqual(JSON.parse(specText(chart.spec)), chart.spec);
  });

  it('wants a .png path', async () => {
    assert.equal(specPath('a/b.png'), 'a/b.vl.json');
    const chart = barPlot({ bars: [{ label: 'a', value: 1 }] });
    await assert.rejects(writePng(join(dir, 'x.jpg'), chart), /path must be a file name ending in \.png/);
    assert.deepEqual(readdirSync(dir), ['sub']);
  });
});
