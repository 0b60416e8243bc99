/** A small RGBA raster canvas: rectangles, antialiased lines and dots, and bitmap text. */
import { ADVANCE, CAP_HEIGHT, GLYPH_ROWS, GLYPH_WIDTH, glyph } from './font.js';
import { encodePng } from './png.js';

/** An opaque colour, 0–255 per channel. */
export type Rgb = readonly [number, number, number];

export const WHITE: Rgb = [255, 255, 255];
export const BLACK: Rgb = [0, 0, 0];

/** `#rrggbb` → Rgb (an Rgb is returned as is); errors name `what`. */
export function toRgb(color: string | Rgb, what = 'color'): Rgb {
  if (typeof color !== 'string') return color;
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (m === null) throw new Error(`${what}: expected '#rrggbb', got '${color}'`);
  const n = Number.parseInt(m[1], 16);
  return [n >> 16, (n >> 8) & 255, n & 255];
}

export interface LineOptions {
  /** Stroke width in pixels (default 1). */
  width?: number;
  /** Dash pattern [on, off] in pixels along the path. */
  dash?: readonly [number, number];
}

export interface TextOptions {
  /** Integer pixel scale of the 5×9 font (default 1). */
  scale?: number;
  color?: Rgb;
  /** Where the anchor sits along the text (default 'left'). */
  align?: 'left' | 'center' | 'right';
  /** Where the anchor sits across the text, measured on the cap height (default 'top'). */
  valign?: 'top' | 'middle' | 'bottom';
  /** Rotated 90° counter-clockwise: reads bottom to top, glyph tops to the left. */
  vertical?: boolean;
}

/** Width in pixels of `text` at `scale` (its length along the baseline). */
export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * ADVANCE - (ADVANCE - GLYPH_WIDTH)) * scale;
}

/** Cap height in pixels at `scale` (descenders hang 2·scale below it). */
export function textHeight(scale = 1): number {
  return CAP_HEIGHT * scale;
}

type Segment = readonly [number, number, number, number];

/** Splits the polyline through `points` into the "on" pieces of `dash`. */
function dashed(
  points: readonly (readonly [number, number])[],
  dash: readonly [number, number] | undefined,
): Segment[] {
  const out: Segment[] = [];
  const [on, off] = dash ?? [0, 0];
  let phase = 0;
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    const len = Math.hypot(x1 - x0, y1 - y0);
    if (dash === undefined || on <= 0 || off <= 0) {
      out.push([x0, y0, x1, y1]);
      continue;
    }
    let t = 0;
    while (t < len) {
      const inOn = phase < on;
      const step = Math.min(len - t, inOn ? on - phase : on + off - phase);
      if (inOn) {
        const a = t / len;
        const b = (t + step) / len;
        out.push([x0 + (x1 - x0) * a, y0 + (y1 - y0) * a, x0 + (x1 - x0) * b, y0 + (y1 - y0) * b]);
      }
      t += step;
      phase = (phase + step) % (on + off);
    }
  }
  return out;
}

/** Pixel (i, j) is centred on integer coordinates (i, j); y grows downwards. */
export class Canvas {
  readonly data: Uint8Array;
  /** Drawing outside this rectangle (inclusive pixel bounds) is dropped; null = the whole canvas. */
  clip: { x0: number; y0: number; x1: number; y1: number } | null = null;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = WHITE,
  ) {
    for (const [name, v] of [
      ['width', width],
      ['height', height],
    ] as const) {
      if (!Number.isInteger(v) || v < 1 || v > 16384)
        throw new Error(`Canvas: ${name} must be an integer in 1..16384, got ${v}`);
    }
    this.data = new Uint8Array(width * height * 4);
    this.fillRect(0, 0, width, height, background);
  }

  /** Blends `color` over pixel (x, y) with opacity `alpha` in [0, 1]. */
  blend(x: number, y: number, color: Rgb, alpha = 1): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || alpha <= 0) return;
    const c = this.clip;
    if (c !== null && (x < c.x0 || x > c.x1 || y < c.y0 || y > c.y1)) return;
    const i = (y * this.width + x) * 4;
    const a = Math.min(alpha, 1);
    for (let k = 0; k < 3; k++) this.data[i + k] = Math.round(this.data[i + k] * (1 - a) + color[k] * a);
    this.data[i + 3] = 255;
  }

  /** Fills the w×h pixels whose top-left pixel is (x, y) (rounded). */
  fillRect(x: number, y: number, w: number, h: number, color: Rgb, alpha = 1): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let j = y0; j < y1; j++) for (let i = x0; i < x1; i++) this.blend(i, j, color, alpha);
  }

  /** Outlines the rectangle with 1-pixel lines on its border pixels. */
  strokeRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    this.fillRect(x, y, w, 1, color);
    this.fillRect(x, y + h - 1, w, 1, color);
    this.fillRect(x, y, 1, h, color);
    this.fillRect(x + w - 1, y, 1, h, color);
  }

  /** A straight antialiased line from (x0, y0) to (x1, y1). */
  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, options: LineOptions = {}): void {
    this.polyline(
      [
        [x0, y0],
        [x1, y1],
      ],
      color,
      options,
    );
  }

  /** An antialiased path through `points` with round joins and caps; each pixel is painted once. */
  polyline(points: readonly (readonly [number, number])[], color: Rgb, options: LineOptions = {}): void {
    const half = (options.width ?? 1) / 2;
    const cover = new Map<number, number>();
    for (const [x0, y0, x1, y1] of dashed(points, options.dash)) {
      const dx = x1 - x0;
      const dy = y1 - y0;
      const len2 = dx * dx + dy * dy;
      const i0 = Math.max(0, Math.floor(Math.min(x0, x1) - half - 1));
      const i1 = Math.min(this.width - 1, Math.ceil(Math.max(x0, x1) + half + 1));
      const j0 = Math.max(0, Math.floor(Math.min(y0, y1) - half - 1));
      const j1 = Math.min(this.height - 1, Math.ceil(Math.max(y0, y1) + half + 1));
      for (let j = j0; j <= j1; j++) {
        for (let i = i0; i <= i1; i++) {
          const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((i - x0) * dx + (j - y0) * dy) / len2));
          const d = Math.hypot(i - x0 - t * dx, j - y0 - t * dy);
          const c = Math.min(1, half + 0.5 - d);
          const key = j * this.width + i;
          if (c > 0 && c > (cover.get(key) ?? 0)) cover.set(key, c);
        }
      }
    }
    for (const [key, c] of cover) this.blend(key % this.width, Math.floor(key / this.width), color, c);
  }

  /** A filled antialiased disc of radius `r` centred on (cx, cy). */
  dot(cx: number, cy: number, r: number, color: Rgb): void {
    for (let j = Math.floor(cy - r - 1); j <= Math.ceil(cy + r + 1); j++) {
      for (let i = Math.floor(cx - r - 1); i <= Math.ceil(cx + r + 1); i++) {
        this.blend(i, j, color, Math.min(1, r + 0.5 - Math.hypot(i - cx, j - cy)));
      }
    }
  }

  /** Draws `text` anchored at (x, y); see TextOptions. */
  text(text: string, x: number, y: number, options: TextOptions = {}): void {
    const s = options.scale ?? 1;
    if (!Number.isInteger(s) || s < 1) throw new Error(`text: scale must be a positive integer, got ${s}`);
    const color = options.color ?? BLACK;
    const w = textWidth(text, s);
    const h = textHeight(s);
    const align = options.align ?? 'left';
    const valign = options.valign ?? 'top';
    const u0 = Math.round(align === 'left' ? 0 : align === 'center' ? -w / 2 : -w);
    const v0 = Math.round(valign === 'top' ? 0 : valign === 'middle' ? -h / 2 : -h);
    const ox = Math.round(x);
    const oy = Math.round(y);
    for (let n = 0; n < text.length; n++) {
      const rows = glyph(text[n]);
      for (let r = 0; r < GLYPH_ROWS; r++) {
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          if (((rows[r] >> (GLYPH_WIDTH - 1 - col)) & 1) === 0) continue;
          const u = u0 + (n * ADVANCE + col) * s;
          const v = v0 + r * s;
          if (options.vertical) this.fillRect(ox + v, oy - u - s + 1, s, s, color);
          else this.fillRect(ox + u, oy + v, s, s, color);
        }
      }
    }
  }

  /** The canvas as a PNG file. */
  toPng(): Buffer {
    return encodePng(this.width, this.height, this.data);
  }
}
