/** Line and bar plots as PNG files, and writing them atomically. */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../io/files.js';
import {
  AXIS,
  type Axis,
  checkRange,
  checkSize,
  fraction,
  GRID,
  INK,
  linearAxis,
  logAxis,
  MINOR_GRID,
  PALETTE,
} from './axes.js';
import { Canvas, type Rgb, textHeight, textWidth, toRgb } from './canvas.js';

export { type ConfusionMatrixOptions, confusionMatrixPlot } from './confusion.js';

export interface Series {
  name: string;
  /** [x, y] pairs; a pair with a non-finite coordinate (or y ≤ 0 on a log axis) leaves a gap. */
  points: readonly (readonly [number, number])[];
  /** '#rrggbb' or [r, g, b]; default: the next palette colour. */
  color?: string | Rgb;
  dashed?: boolean;
}

export interface LinePlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  series: readonly Series[];
  /** Image size in pixels (default 640×420). */
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
  /** Image size in pixels (default: 100 px per bar, at least 480, × 420). */
  width?: number;
  height?: number;
  /** Fixed y range [lo, hi]; default: the data's and 0, widened to whole ticks. */
  yRange?: readonly [number, number];
}

const PAD = 14;
const TICK = 4;
const TITLE = 2;
const LINE = 12;

/** Draws the centred title; returns the y below it. */
function title(c: Canvas, text: string | undefined): number {
  if (!text) return PAD;
  c.text(text, c.width / 2, PAD, { scale: TITLE, align: 'center', color: INK });
  return PAD + textHeight(TITLE) + 12;
}

/** Width the y axis needs left of the plot area: its label, tick labels and tick marks. */
function yAxisWidth(axis: Axis, label: string | undefined): number {
  const ticks = Math.max(0, ...axis.ticks.map((t) => textWidth(t.label)));
  return PAD + (label ? textHeight() + 10 : 0) + ticks + TICK + 4;
}

interface Area {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Grid, frame, ticks and label of the y axis over `area`; returns the y → pixel map. */
function yAxis(c: Canvas, area: Area, axis: Axis, label: string | undefined): (v: number) => number {
  const py = (v: number) => Math.round(area.bottom - fraction(axis, v) * (area.bottom - area.top));
  for (const t of [...axis.ticks].sort((a, b) => Number(a.major) - Number(b.major))) {
    const y = py(t.value);
    c.fillRect(area.left, y, area.right - area.left + 1, 1, t.major ? GRID : MINOR_GRID);
    if (!t.major) continue;
    c.fillRect(area.left - TICK, y, TICK, 1, AXIS);
    c.text(t.label, area.left - TICK - 4, y, { align: 'right', valign: 'middle', color: INK });
  }
  if (label) c.text(label, PAD, (area.top + area.bottom) / 2, { vertical: true, align: 'center', color: INK });
  return py;
}

function checkSeries(where: string, series: unknown): Series[] {
  if (!Array.isArray(series) || series.length === 0) throw new Error(`${where}: series must be a non-empty array`);
  series.forEach((s, i) => {
    if (typeof s?.name !== 'string') throw new Error(`${where}: series[${i}].name must be a string`);
    if (!Array.isArray(s.points)) throw new Error(`${where}: series[${i}].points must be an array of [x, y]`);
    s.points.forEach((p: unknown, j: number) => {
      if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => typeof v === 'number'))
        throw new Error(`${where}: series[${i}].points[${j}] must be [x, y] numbers`);
    });
  });
  return series;
}

/** Line plot of one or more series (training curves, ablation sweeps), with legend, grid and nice ticks. */
export function linePlot(options: LinePlotOptions): Buffer {
  const where = 'linePlot';
  const width = checkSize(where, 'width', options.width, 640, 200);
  const height = checkSize(where, 'height', options.height, 420, 160);
  const logY = options.logY ?? false;
  const yRange = checkRange(where, 'yRange', options.yRange, logY);
  const series = checkSeries(where, options.series);
  const ok = ([x, y]: readonly [number, number]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
  const points = series.flatMap((s) => s.points.filter(ok));
  if (points.length === 0) throw new Error(`${where}: series has no finite points${logY ? ' with y > 0 (logY)' : ''}`);
  const colors = series.map((s, i) => toRgb(s.color ?? PALETTE[i % PALETTE.length], `${where}: series[${i}].color`));
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [ylo, yhi] = yRange ?? [Math.min(...ys), Math.max(...ys)];

  const c = new Canvas(width, height);
  let top = title(c, options.title);
  top = legend(c, series, colors, top) + 6;
  const bottomSpace = TICK + 6 + textHeight() + (options.xLabel ? LINE + textHeight() : 0) + PAD;
  const plotH = height - top - bottomSpace;
  const yAx = logY ? logAxis(ylo, yhi, !!yRange) : linearAxis(ylo, yhi, Math.max(2, Math.round(plotH / 50)), !!yRange);
  const left = yAxisWidth(yAx, options.yLabel);
  const area = { left, top, right: width - PAD - 14, bottom: height - bottomSpace };
  if (area.right - area.left < 40 || area.bottom - area.top < 40)
    throw new Error(`${where}: width × height ${width}×${height} leaves no room for the plot`);
  const xAx = linearAxis(Math.min(...xs), Math.max(...xs), Math.max(2, Math.round((area.right - left) / 90)));
  const px = (v: number) => Math.round(area.left + fraction(xAx, v) * (area.right - area.left));

  const py = yAxis(c, area, yAx, options.yLabel);
  for (const t of xAx.ticks) {
    const x = px(t.value);
    c.fillRect(x, area.top, 1, area.bottom - area.top + 1, GRID);
    c.fillRect(x, area.bottom + 1, 1, TICK, AXIS);
    c.text(t.label, x, area.bottom + TICK + 4, { align: 'center', color: INK });
  }
  if (options.xLabel)
    c.text(options.xLabel, (area.left + area.right) / 2, height - PAD - textHeight(), { align: 'center', color: INK });
  c.strokeRect(area.left, area.top, area.right - area.left + 1, area.bottom - area.top + 1, AXIS);

  c.clip = { x0: area.left + 1, y0: area.top + 1, x1: area.right - 1, y1: area.bottom - 1 };
  series.forEach((s, i) => {
    const runs: [number, number][][] = [[]];
    for (const p of s.points) {
      if (ok(p)) runs[runs.length - 1].push([area.left + fraction(xAx, p[0]) * (area.right - area.left), py(p[1])]);
      else if (runs[runs.length - 1].length > 0) runs.push([]);
    }
    const dots = s.points.length <= 40;
    for (const run of runs) {
      c.polyline(run, colors[i], { width: 2, dash: s.dashed ? [7, 4] : undefined });
      if (dots || run.length === 1) for (const [x, y] of run) c.dot(x, y, 2.5, colors[i]);
    }
  });
  c.clip = null;
  return c.toPng();
}

/** Legend entries centred in rows below `top`; returns the y below them. */
function legend(c: Canvas, series: readonly Series[], colors: readonly Rgb[], top: number): number {
  const items = series.map((s, i) => ({ name: s.name, dashed: s.dashed, color: colors[i], w: 22 + textWidth(s.name) }));
  const rows: (typeof items)[] = [[]];
  let used = 0;
  for (const item of items) {
    if (used > 0 && used + 18 + item.w > c.width - 2 * PAD) {
      rows.push([]);
      used = 0;
    }
    used += (used > 0 ? 18 : 0) + item.w;
    rows[rows.length - 1].push(item);
  }
  rows.forEach((row, r) => {
    const total = row.reduce((a, it) => a + it.w, 0) + 18 * (row.length - 1);
    let x = Math.round((c.width - total) / 2);
    const y = top + r * (LINE + 2);
    for (const it of row) {
      c.line(x, y + 3, x + 16, y + 3, it.color, { width: 2, dash: it.dashed ? [5, 3] : undefined });
      c.text(it.name, x + 22, y, { color: INK });
      x += it.w + 18;
    }
  });
  return top + rows.length * (LINE + 2);
}

/** Greedy word wrap of `label` into lines at most `max` pixels wide (a long word keeps its own line). */
function wrap(label: string, max: number): string[] {
  const lines: string[] = [];
  for (const word of label.split(/\s+/).filter((w) => w !== '')) {
    const last = lines.length - 1;
    if (last >= 0 && textWidth(`${lines[last]} ${word}`) <= max) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines.length > 0 ? lines : [''];
}

/** Bar chart (e.g. accuracy per ablation configuration); long labels wrap, or turn vertical. */
export function barPlot(options: BarPlotOptions): Buffer {
  const where = 'barPlot';
  const bars = options.bars;
  if (!Array.isArray(bars) || bars.length === 0) throw new Error(`${where}: bars must be a non-empty array`);
  bars.forEach((b, i) => {
    if (typeof b?.label !== 'string') throw new Error(`${where}: bars[${i}].label must be a string`);
    if (typeof b.value !== 'number' || !Number.isFinite(b.value))
      throw new Error(`${where}: bars[${i}].value must be a finite number, got ${b.value}`);
  });
  const width = checkSize(where, 'width', options.width, Math.min(1600, Math.max(480, 110 + 100 * bars.length)), 200);
  const height = checkSize(where, 'height', options.height, 420, 160);
  const yRange = checkRange(where, 'yRange', options.yRange, false);
  const colors = bars.map((b, i) => toRgb(b.color ?? PALETTE[0], `${where}: bars[${i}].color`));
  const values = bars.map((b) => b.value);
  const [lo, hi] = yRange ?? [Math.min(0, ...values), Math.max(0, ...values)];
  const yAx = linearAxis(lo, hi, Math.max(2, Math.round((height - 160) / 50)), !!yRange);

  const c = new Canvas(width, height);
  const top = title(c, options.title) + 8;
  const left = yAxisWidth(yAx, options.yLabel);
  const right = width - PAD - 4;
  const slot = (right - left) / bars.length;
  let lines = bars.map((b) => wrap(b.label, slot - 8));
  const vertical = lines.some((ls) => ls.some((l) => textWidth(l) > slot - 8)) || lines.some((ls) => ls.length > 4);
  if (vertical) lines = bars.map((b) => [b.label]);
  const labelSpace = vertical
    ? Math.max(...bars.map((b) => textWidth(b.label)))
    : Math.max(...lines.map((ls) => ls.length)) * LINE;
  const area = { left, top, right, bottom: height - PAD - TICK - 6 - labelSpace };
  if (area.bottom - area.top < 40) throw new Error(`${where}: height ${height} leaves no room for the bars`);

  const py = yAxis(c, area, yAx, options.yLabel);
  const base = py(Math.min(Math.max(0, yAx.lo), yAx.hi));
  const barW = Math.max(2, Math.min(slot * 0.62, 90));
  c.clip = { x0: area.left + 1, y0: area.top + 1, x1: area.right - 1, y1: area.bottom - 1 };
  bars.forEach((b, i) => {
    const cx = area.left + (i + 0.5) * slot;
    const y = py(Math.min(Math.max(b.value, yAx.lo), yAx.hi));
    c.fillRect(cx - barW / 2, Math.min(y, base), barW, Math.abs(base - y) + 1, colors[i]);
  });
  c.clip = null;
  if (yAx.lo < 0 && yAx.hi > 0) c.fillRect(area.left, base, area.right - area.left + 1, 1, AXIS);
  c.strokeRect(area.left, area.top, area.right - area.left + 1, area.bottom - area.top + 1, AXIS);
  bars.forEach((b, i) => {
    const cx = area.left + (i + 0.5) * slot;
    const y = py(Math.min(Math.max(b.value, yAx.lo), yAx.hi));
    const above = b.value >= 0 ? y - 5 - textHeight() : y + 5;
    if (above > area.top && above + textHeight() < area.bottom)
      c.text(formatValue(b.value), cx, above, { align: 'center', color: INK });
    c.fillRect(Math.round(cx), area.bottom + 1, 1, TICK, AXIS);
    if (vertical)
      c.text(b.label, cx, area.bottom + TICK + 4, { vertical: true, align: 'right', valign: 'middle', color: INK });
    else
      for (const [k, l] of lines[i].entries())
        c.text(l, cx, area.bottom + TICK + 4 + k * LINE, { align: 'center', color: INK });
  });
  return c.toPng();
}

const formatValue = (v: number) => String(Number(v.toPrecision(4)));

/** Writes `png` to `path` atomically (temporary sibling + rename), creating the folder if needed. */
export async function writePng(path: string, png: Uint8Array): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new Error('writePng: path must be a non-empty string');
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, [png]);
}
