/**
 * Anti-aliased coverage of the generator's shapes on a pixel grid. Pixel (r, c) covers the square
 * [c, c + 1) × [r, r + 1); its coverage is the mean, over SUBSAMPLES horizontal lines through it (at
 * heights r + (i + ½) / SUBSAMPLES), of the length of the line inside the shape within the pixel (exact in x,
 * from the outline's crossings: a scanline rasteriser, even-odd rule).
 */

/** A circle, or a closed polygon [x0, y0, x1, y1, …] (any simple polygon, even-odd rule), in pixels. */
export type Geometry = { kind: 'circle'; cx: number; cy: number; r: number } | { kind: 'polygon'; points: number[] };

/** Horizontal sample lines per pixel row. */
export const SUBSAMPLES = 8;

/** The exact extent [x1, y1, x2, y2] of a geometry (continuous coordinates). */
export function extent(g: Geometry): [number, number, number, number] {
  if (g.kind === 'circle') return [g.cx - g.r, g.cy - g.r, g.cx + g.r, g.cy + g.r];
  let x1 = Number.POSITIVE_INFINITY;
  let y1 = Number.POSITIVE_INFINITY;
  let x2 = Number.NEGATIVE_INFINITY;
  let y2 = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < g.points.length; i += 2) {
    x1 = Math.min(x1, g.points[i]);
    x2 = Math.max(x2, g.points[i]);
    y1 = Math.min(y1, g.points[i + 1]);
    y2 = Math.max(y2, g.points[i + 1]);
  }
  return [x1, y1, x2, y2];
}

/** The sorted x where the horizontal line at `y` crosses the shape's outline (even-odd pairs: inside spans). */
function crossings(g: Geometry, y: number): number[] {
  if (g.kind === 'circle') {
    const d = g.r * g.r - (y - g.cy) ** 2;
    return d > 0 ? [g.cx - Math.sqrt(d), g.cx + Math.sqrt(d)] : [];
  }
  const p = g.points;
  const n = p.length / 2;
  const xs: number[] = [];
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = p[2 * i];
    const yi = p[2 * i + 1];
    const xj = p[2 * j];
    const yj = p[2 * j + 1];
    if (yi > y !== yj > y) xs.push(xi + ((y - yi) * (xj - xi)) / (yj - yi));
  }
  return xs.sort((a, b) => a - b);
}

/** Adds weight × (the length of [a, b) inside each pixel) to the row of pixels left..right−1 at `row`. */
function addSpan(cover: Float32Array, row: number, left: number, right: number, a: number, b: number, weight: number) {
  const x0 = Math.max(a, left);
  const x1 = Math.min(b, right);
  for (let c = Math.floor(x0); c < x1; c++) {
    cover[row + c - left] += weight * (Math.min(x1, c + 1) - Math.max(x0, c));
  }
}

/** Coverage in [0, 1] of the pixels of the window left..left+width-1, top..top+height-1: [height, width]. */
export interface Mask {
  left: number;
  top: number;
  width: number;
  height: number;
  cover: Float32Array;
}

/** The shape's coverage over the pixels its extent touches, clipped to a width × height image. */
export function rasterize(g: Geometry, imageWidth: number, imageHeight: number): Mask {
  const [x1, y1, x2, y2] = extent(g);
  const left = Math.max(0, Math.floor(x1));
  const top = Math.max(0, Math.floor(y1));
  const right = Math.min(imageWidth, Math.ceil(x2));
  const bottom = Math.min(imageHeight, Math.ceil(y2));
  const width = Math.max(0, right - left);
  const height = Math.max(0, bottom - top);
  const cover = new Float32Array(width * height);
  const s = SUBSAMPLES;
  for (let r = 0; r < height; r++) {
    for (let i = 0; i < s; i++) {
      const xs = crossings(g, top + r + (i + 0.5) / s);
      for (let k = 0; k + 1 < xs.length; k += 2) addSpan(cover, r * width, left, right, xs[k], xs[k + 1], 1 / s);
    }
  }
  return { left, top, width, height, cover };
}
