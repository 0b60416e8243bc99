/** Line and bar plots as Vega-Lite charts, and writing a chart as PNG plus its spec, atomically. */
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../io/files.js';
import { bundledFontMetrics, type Chart, INK, PALETTE, renderPng, SCHEMA, THEME } from './chart.js';
import { checkRange, checkSize, checkText, hexColor, type Rgb } from './check.js';
import { m4, type Point } from './decimate.js';
import { textWidth } from './font_metrics.js';

export { type Chart, PIXEL_RATIO, renderPng, renderSvg, SCHEMA } from './chart.js';
export type { Rgb } from './check.js';
export { type ConfusionMatrixOptions, confusionMatrixPlot } from './confusion.js';

export interface Series {
  name: string;
  /**
   * [x, y] pairs; a pair with a non-finite coordinate (or y ≤ 0 on a log axis) leaves a gap. More than
   * 4 points per chart-pixel column (x sorted) are reduced to the ones a line through them shows (M4).
   */
  points: readonly Point[];
  /** '#rrggbb' or [r, g, b]; default: the next palette colour. */
  color?: string | Rgb;
  dashed?: boolean;
}

export interface LinePlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  series: readonly Series[];
  /** Chart size in chart pixels, title and legend included (default 800×500; the PNG is PIXEL_RATIO×). */
  width?: number;
  height?: number;
  /** Fixed y range [lo, hi]; default: the data's, widened to whole ticks. */
  yRange?: readonly [number, number];
  logY?: boolean;
}

export interface Bar {
  label: string;
  value: number;
  color?: string | Rgb;
}

export interface BarPlotOptions {
  title?: string;
  yLabel?: string;
  bars: readonly Bar[];
  /** Chart size in chart pixels (default: 110 per bar + 160, within 560..1200, × 500). */
  width?: number;
  height?: number;
  /** Fixed y range [lo, hi] (a zoom: bars start at lo); default: the data's and 0, widened to whole ticks. */
  yRange?: readonly [number, number];
}

/** Series with at most this many points get a dot on each point. */
const DOTS_UP_TO = 40;
const DASH = [7, 4];
/** Room in chart pixels above and below the bars of an automatic y range, for their values. */
const VALUE_ROOM = 20;
const LABEL_SIZE = Number(THEME.axis?.labelFontSize);
/** Chart pixels beside the bars (y axis, its title, padding): a bar's slot ≈ (width − this) / bars. */
const Y_AXIS_ROOM = 100;

function checkSeries(where: string, series: unknown): Series[] {
  if (!Array.isArray(series) || series.length === 0) throw new Error(`${where}: series must be a non-empty array`);
  series.forEach((s, i) => {
    if (typeof s?.name !== 'string') throw new Error(`${where}: series[${i}].name must be a string`);
    const first = series.findIndex((t) => t?.name === s.name);
    if (first < i) throw new Error(`${where}: series[${i}].name '${s.name}' repeats series[${first}].name`);
    if (!Array.isArray(s.points)) throw new Error(`${where}: series[${i}].points must be an array of [x, y]`);
    s.points.forEach((p: unknown, j: number) => {
      if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => typeof v === 'number'))
        throw new Error(`${where}: series[${i}].points[${j}] must be [x, y] numbers`);
    });
  });
  return series;
}

/** One data row per point; a point that cannot be drawn has y null (a gap); `dot` marks drawn dots. */
interface LineRow {
  series: string;
  x: number | null;
  y: number | null;
  dot: boolean;
}

/**
 * The rows of `series`: its points, each run of drawable points reduced by M4 to `columns` columns
 * (see decimate.ts), a row with y null for each point that cannot be drawn.
 */
function lineRows(series: readonly Series[], logY: boolean, columns: number): LineRow[] {
  const ok = ([x, y]: Point) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
  return series.flatMap((s) => {
    const rows: LineRow[] = [];
    const dots = s.points.length <= DOTS_UP_TO;
    let run: Point[] = [];
    const flush = () => {
      for (const [x, y] of m4(run, columns)) rows.push({ series: s.name, x, y, dot: dots || run.length === 1 });
      run = [];
    };
    for (const p of s.points) {
      if (ok(p)) run.push(p);
      else {
        flush();
        rows.push({ series: s.name, x: Number.isFinite(p[0]) ? p[0] : null, y: null, dot: false });
      }
    }
    flush();
    return rows;
  });
}

/** The x and y channels of a line plot: integer x gets integer ticks, a log y axis '~g' labels. */
function lineAxes(options: LinePlotOptions, rows: readonly LineRow[], yRange: [number, number] | undefined) {
  const where = 'linePlot';
  const logY = options.logY ?? false;
  const integers = rows.every((r) => r.x === null || Number.isInteger(r.x));
  return {
    x: {
      field: 'x',
      type: 'quantitative',
      title: checkText(where, 'xLabel', options.xLabel) ?? null,
      scale: { zero: false },
      ...(integers ? { axis: { tickMinStep: 1 } } : {}),
    },
    y: {
      field: 'y',
      type: 'quantitative',
      title: checkText(where, 'yLabel', options.yLabel) ?? null,
      scale: { ...(logY ? { type: 'log' } : { zero: false }), ...(yRange ? { domain: yRange, nice: false } : {}) },
      ...(logY ? { axis: { format: '~g' } } : {}),
    },
  };
}

/** Line plot of one or more series (training curves, ablation sweeps), with legend, grid and nice ticks. */
export function linePlot(options: LinePlotOptions): Chart {
  const where = 'linePlot';
  const size = chartSize(where, options, 800);
  const { width } = size;
  const logY = options.logY ?? false;
  const yRange = checkRange(where, 'yRange', options.yRange, logY);
  const series = checkSeries(where, options.series);
  const rows = lineRows(series, logY, width);
  if (!rows.some((r) => r.y !== null))
    throw new Error(`${where}: series has no finite points${logY ? ' with y > 0 (logY)' : ''}`);
  const names = series.map((s) => s.name);
  const colors = series.map((s, i) => hexColor(s.color ?? PALETTE[i % PALETTE.length], `${where}: series[${i}].color`));
  const dashes = series.map((s) => (s.dashed ? DASH : [1, 0]));
  /** Only a fixed range can leave points outside the plot; else dots on its edge stay whole. */
  const clip = yRange !== undefined;
  /** One row above the plot; more than 6 series wrap into rows of at most 6 so no entry is cut off. */
  const columns = names.length > 6 ? Math.ceil(names.length / Math.ceil(names.length / 6)) : 0;
  const legend = { orient: 'top', title: null, symbolType: 'stroke', symbolStrokeWidth: 2.5, columns } as const;
  const spec = {
    ...specHead(where, options.title, size, rows),
    encoding: {
      ...lineAxes(options, rows, yRange),
      color: { field: 'series', type: 'nominal', sort: names, scale: { domain: names, range: colors }, legend },
    },
    layer: [
      {
        mark: { type: 'line', strokeWidth: 2, clip, invalid: 'break-paths-filter-domains' },
        encoding: {
          strokeDash: {
            field: 'series',
            type: 'nominal',
            sort: names,
            scale: { domain: names, range: dashes },
            legend,
          },
        },
      },
      { transform: [{ filter: 'datum.dot' }], mark: { type: 'point', filled: true, size: 28, opacity: 1, clip } },
    ],
    config: THEME,
  };
  return { spec: spec as TopLevelSpec };
}

/** The title entry of a spec, if any. */
function texts(where: string, title: string | undefined): { title?: string } {
  const t = checkText(where, 'title', title);
  return t === undefined ? {} : { title: t };
}

/** A chart's checked size in pixels: options' width (default `defaultWidth`, at least 200) and height (default 500, at least 160). */
function chartSize(
  where: string,
  options: { width?: number; height?: number },
  defaultWidth: number,
): { width: number; height: number } {
  return {
    width: checkSize(where, 'width', options.width, defaultWidth, 200),
    height: checkSize(where, 'height', options.height, 500, 160),
  };
}

/** What every chart's spec starts with: the schema, the title, the size (fitted, padding included) and the data rows. */
function specHead(where: string, title: string | undefined, size: { width: number; height: number }, rows: object[]) {
  return {
    $schema: SCHEMA,
    ...texts(where, title),
    ...size,
    autosize: { type: 'fit', contains: 'padding' },
    data: { values: rows },
  } as const;
}

/** Width in pixels of `text` at the axis label size. */
const labelWidth = (text: string) => textWidth(bundledFontMetrics().regular, text, LABEL_SIZE);

/** Greedy word wrap of `label` into lines at most `max` pixels wide (a long word keeps its own line). */
function wrap(label: string, max: number): string[] {
  const lines: string[] = [];
  for (const word of label.split(/\s+/).filter((w) => w !== '')) {
    const last = lines.length - 1;
    if (last >= 0 && labelWidth(`${lines[last]} ${word}`) <= max) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines.length > 0 ? lines : [''];
}

/** The x axis of a bar plot: labels wrapped to their bar's slot, or slanted when a word does not fit. */
function barAxis(labels: readonly string[], slot: number): Record<string, unknown> {
  const lines = labels.map((l) => wrap(l, slot - 8));
  const fits = lines.every((ls) => ls.length <= 4 && ls.every((l) => labelWidth(l) <= slot - 8));
  if (!fits) return { labelAngle: -35, labelAlign: 'right', labelLimit: 260 };
  if (lines.every((ls) => ls.length === 1)) return { labelAngle: 0, labelLimit: 0 };
  const byLabel = Object.fromEntries(labels.map((l, i) => [l, lines[i]]));
  return { labelAngle: 0, labelLimit: 0, labelExpr: `${JSON.stringify(byLabel)}[datum.value]` };
}

function checkBars(where: string, bars: unknown): Bar[] {
  if (!Array.isArray(bars) || bars.length === 0) throw new Error(`${where}: bars must be a non-empty array`);
  bars.forEach((b, i) => {
    if (typeof b?.label !== 'string') throw new Error(`${where}: bars[${i}].label must be a string`);
    const first = bars.findIndex((c) => c?.label === b.label);
    if (first < i) throw new Error(`${where}: bars[${i}].label '${b.label}' repeats bars[${first}].label`);
    if (typeof b.value !== 'number' || !Number.isFinite(b.value))
      throw new Error(`${where}: bars[${i}].value must be a finite number, got ${b.value}`);
  });
  return bars;
}

/** Bar chart (e.g. accuracy per ablation configuration), each bar's value written on it. */
export function barPlot(options: BarPlotOptions): Chart {
  const where = 'barPlot';
  const bars = checkBars(where, options.bars);
  const size = chartSize(where, options, Math.min(1200, Math.max(560, 160 + 110 * bars.length)));
  const { width } = size;
  const yRange = checkRange(where, 'yRange', options.yRange, false);
  const rows = bars.map((b, i) => ({
    label: b.label,
    value: b.value,
    text: String(Number(b.value.toPrecision(4))),
    color: hexColor(b.color ?? PALETTE[0], `${where}: bars[${i}].color`),
  }));
  const valueText = (sign: string, baseline: string, dy: number) => ({
    transform: [{ filter: `datum.value ${sign} 0` }],
    mark: { type: 'text', baseline, dy, fontSize: LABEL_SIZE, color: INK, clip: true },
    encoding: { text: { field: 'text', type: 'nominal' } },
  });
  const spec = {
    ...specHead(where, options.title, size, rows),
    encoding: {
      x: {
        field: 'label',
        type: 'nominal',
        sort: null,
        title: null,
        axis: barAxis(
          rows.map((r) => r.label),
          (width - Y_AXIS_ROOM) / bars.length,
        ),
      },
      y: {
        field: 'value',
        type: 'quantitative',
        title: checkText(where, 'yLabel', options.yLabel) ?? null,
        scale: yRange ? { domain: yRange, nice: false, zero: false } : { zero: true, padding: VALUE_ROOM },
      },
    },
    layer: [
      {
        mark: { type: 'bar', clip: true, width: { band: 0.62 } },
        encoding: { color: { field: 'color', type: 'nominal', scale: null, legend: null } },
      },
      valueText('>=', 'bottom', -4),
      valueText('<', 'top', 4),
    ],
    config: THEME,
  };
  return { spec: spec as TopLevelSpec };
}

/** `path` with '.png' replaced by '.vl.json': where the spec of the PNG goes. */
export function specPath(path: string): string {
  if (typeof path !== 'string' || !path.endsWith('.png'))
    throw new Error(`writePng: path must be a file name ending in .png, got ${JSON.stringify(path)}`);
  return `${path.slice(0, -'.png'.length)}.vl.json`;
}

/** The spec as JSON text, indented, with one data row per line (a 3000-row curve stays readable). */
export function specText(spec: TopLevelSpec): string {
  const data = (spec as { data?: { values?: unknown } }).data;
  if (!Array.isArray(data?.values)) return `${JSON.stringify(spec, null, 2)}\n`;
  const mark = '\u0000rows';
  const text = JSON.stringify({ ...spec, data: { ...data, values: mark } }, null, 2);
  const lines = data.values.map((r) => `      ${JSON.stringify(r)}`).join(',\n');
  return `${text.replace(JSON.stringify(mark), () => `[\n${lines}\n    ]`)}\n`;
}

/**
 * Writes the chart as a PNG to `path` and its Vega-Lite spec next to it (`x.png` → `x.vl.json`), each
 * atomically (temporary sibling + rename), creating the folder if needed.
 */
export async function writePng(path: string, chart: Chart): Promise<void> {
  const specFile = specPath(path);
  const png = await renderPng(chart);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(specFile, [Buffer.from(specText(chart.spec))]);
  try {
    await writeFileAtomic(path, [png]);
  } catch (err) {
    await rm(specFile, { force: true }); // no spec without its picture
    throw err;
  }
}
