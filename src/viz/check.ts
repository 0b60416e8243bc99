/** Argument checks shared by the plots: errors name the function and the option at fault. */

/** An [r, g, b] colour, each 0..255. */
export type Rgb = readonly [number, number, number];

/** Checks an optional integer chart size in chart pixels. */
export function checkSize(where: string, name: string, v: number | undefined, fallback: number, min = 120): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < min || v > 4096)
    throw new Error(`${where}: ${name} must be an integer in ${min}..4096, got ${v}`);
  return v;
}

/** Checks an optional [lo, hi] range (lo > 0 too when `positive`, for log axes). */
export function checkRange(where: string, name: string, r: unknown, positive: boolean): [number, number] | undefined {
  if (r === undefined) return undefined;
  if (!Array.isArray(r) || r.length !== 2 || !r.every(Number.isFinite) || !(r[0] < r[1]) || (positive && r[0] <= 0))
    throw new Error(
      `${where}: ${name} must be [lo, hi] with finite lo < hi${positive ? ' and lo > 0' : ''}, got ${JSON.stringify(r)}`,
    );
  return [r[0], r[1]];
}

/** '#rrggbb' (or [r, g, b]) as '#rrggbb'; throws naming `where` otherwise. */
export function hexColor(c: string | Rgb, where: string): string {
  if (typeof c === 'string' && /^#[0-9a-fA-F]{6}$/.test(c)) return c.toLowerCase();
  if (Array.isArray(c) && c.length === 3 && c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255))
    return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  throw new Error(`${where} must be '#rrggbb' or [r, g, b] with integers 0..255, got ${JSON.stringify(c)}`);
}

/** Checks an optional non-empty string (a title or an axis label). */
export function checkText(where: string, name: string, v: unknown): string | undefined {
  if (v === undefined || (typeof v === 'string' && v !== '')) return v;
  throw new Error(`${where}: ${name} must be a non-empty string, got ${JSON.stringify(v)}`);
}
