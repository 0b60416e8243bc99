/** Axis ticks, number formatting, colours and argument checks shared by the plots. */
import type { Rgb } from './canvas.js';

/** Series colours (the Tableau 10 palette). */
export const PALETTE: readonly Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];
export const INK: Rgb = [34, 34, 34];
export const AXIS: Rgb = [90, 90, 90];
export const GRID: Rgb = [225, 225, 225];
export const MINOR_GRID: Rgb = [242, 242, 242];

export interface Tick {
  value: number;
  label: string;
  /** False for unlabelled minor grid lines (logarithmic axes). */
  major: boolean;
}

export interface Axis {
  lo: number;
  hi: number;
  log: boolean;
  ticks: Tick[];
}

const clean = (v: number) => Number(v.toPrecision(12));

/** The 1–2–5 step nearest above `raw`. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return clean((f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p);
}

/** `v` in compact decimal form, or exponent form when very large or small; `step` sets the decimals. */
export function formatNumber(v: number, step?: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return Number(v.toPrecision(3)).toExponential().replace('e+', 'e');
  if (step === undefined) return String(Number(v.toPrecision(4)));
  return v.toFixed(Math.max(0, Math.min(10, Math.ceil(-Math.log10(step) - 1e-9))));
}

/** A linear axis over [min, max] widened to whole steps, with about `target` ticks. */
export function linearAxis(min: number, max: number, target: number, exact = false): Axis {
  if (min === max) {
    const d = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= d;
    max += d;
  }
  const step = niceStep((max - min) / Math.max(1, target));
  const lo = exact ? min : clean(Math.floor(min / step + 1e-9) * step);
  const hi = exact ? max : clean(Math.ceil(max / step - 1e-9) * step);
  const ticks: Tick[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
    const value = clean(k * step);
    ticks.push({ value, label: formatNumber(value, step), major: true });
  }
  return { lo, hi, log: false, ticks };
}

/** A base-10 logarithmic axis over whole decades covering [min, max] (both > 0). */
export function logAxis(min: number, max: number, exact = false): Axis {
  const d0 = Math.floor(Math.log10(min) + 1e-9);
  let d1 = Math.ceil(Math.log10(max) - 1e-9);
  if (d1 === d0) d1++;
  const lo = exact ? min : 10 ** d0;
  const hi = exact ? max : 10 ** d1;
  const ticks: Tick[] = [];
  for (let d = d0; d <= d1; d++) {
    for (let m = 1; m < 10; m++) {
      const value = clean(m * 10 ** d);
      if (value < lo * (1 - 1e-9) || value > hi * (1 + 1e-9)) continue;
      const labelled = m === 1 || (d1 - d0 <= 2 && (m === 2 || m === 5));
      ticks.push({ value, label: labelled ? formatNumber(value) : '', major: labelled });
    }
  }
  return { lo, hi, log: true, ticks };
}

/** Maps `v` on `axis` to [0, 1]. */
export function fraction(axis: Axis, v: number): number {
  return axis.log
    ? (Math.log10(v) - Math.log10(axis.lo)) / (Math.log10(axis.hi) - Math.log10(axis.lo))
    : (v - axis.lo) / (axis.hi - axis.lo);
}

/** Checks an optional integer image size. */
export function checkSize(where: string, name: string, v: number | undefined, fallback: number, min = 120): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < min || v > 8192)
    throw new Error(`${where}: ${name} must be an integer in ${min}..8192, got ${v}`);
  return v;
}

/** Checks an optional [lo, hi] range. */
export function checkRange(where: string, name: string, r: unknown, positive: boolean): [number, number] | undefined {
  if (r === undefined) return undefined;
  if (!Array.isArray(r) || r.length !== 2 || !r.every(Number.isFinite) || !(r[0] < r[1]) || (positive && r[0] <= 0))
    throw new Error(
      `${where}: ${name} must be [lo, hi] with finite lo < hi${positive ? ' and lo > 0' : ''}, got ${JSON.stringify(r)}`,
    );
  return [r[0], r[1]];
}
