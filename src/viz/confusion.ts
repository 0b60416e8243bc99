/** Confusion-matrix plot: cells shaded by the row-normalised value, counts written where they fit. */
import { AXIS, INK } from './axes.js';
import { Canvas, type Rgb, textHeight, textWidth } from './canvas.js';

export interface ConfusionMatrixOptions {
  title?: string;
  /** Class names, one per row and column. */
  labels: readonly string[];
  /** Counts, rows = true class, columns = predicted class. */
  matrix: readonly (readonly number[])[];
  /** Cell side in pixels (default: 480 / classes, clamped to 22..64). */
  cellSize?: number;
}

/** Where the grid lies: cell (r, c) covers x0 + c·cell .. x0 + (c+1)·cell − 1, likewise y. */
export interface ConfusionLayout {
  width: number;
  height: number;
  x0: number;
  y0: number;
  cell: number;
}

const PAD = 14;
const BAR = 14;
/** Blues, white to navy: luminance falls monotonically along the stops. */
const STOPS: readonly Rgb[] = [
  [247, 251, 255],
  [198, 219, 239],
  [107, 174, 214],
  [33, 113, 181],
  [8, 48, 107],
];

/** The shade of a row fraction `v` in [0, 1]. */
export function shade(v: number): Rgb {
  const t = Math.min(Math.max(v, 0), 1) * (STOPS.length - 1);
  const k = Math.min(Math.floor(t), STOPS.length - 2);
  const f = t - k;
  return [0, 1, 2].map((i) => Math.round(STOPS[k][i] + (STOPS[k + 1][i] - STOPS[k][i]) * f)) as unknown as Rgb;
}

function check(options: ConfusionMatrixOptions): void {
  const where = 'confusionMatrixPlot';
  const { labels, matrix } = options;
  if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === 'string'))
    throw new Error(`${where}: labels must be a non-empty array of strings`);
  if (!Array.isArray(matrix) || matrix.length !== labels.length)
    throw new Error(`${where}: matrix must have one row per label (${labels.length}), got ${matrix?.length}`);
  matrix.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== matrix.length)
      throw new Error(
        `${where}: matrix must be square: matrix[${r}] has ${row?.length} entries, expected ${matrix.length}`,
      );
    row.forEach((v, c) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        throw new Error(`${where}: matrix[${r}][${c}] must be a finite number ≥ 0, got ${v}`);
    });
  });
  const s = options.cellSize;
  if (s !== undefined && (!Number.isInteger(s) || s < 8 || s > 200))
    throw new Error(`${where}: cellSize must be an integer in 8..200, got ${s}`);
}

/** Checks `options` and places the title, labels, grid and colour bar. */
export function confusionLayout(options: ConfusionMatrixOptions): ConfusionLayout {
  check(options);
  const n = options.labels.length;
  const cell = options.cellSize ?? Math.min(64, Math.max(22, Math.floor(480 / n)));
  const labelW = Math.max(...options.labels.map((l) => textWidth(l)));
  const top = PAD + (options.title ? textHeight(2) + 16 : 4);
  let left = PAD + textHeight() + 12 + labelW + 8;
  const right = 18 + BAR + 6 + textWidth('0.5') + 10 + textHeight() + PAD;
  const titleW = options.title ? textWidth(options.title, 2) + 2 * PAD : 0;
  left += Math.max(0, Math.ceil((titleW - (left + n * cell + right)) / 2));
  const width = Math.max(left + n * cell + right, titleW);
  const height = top + n * cell + 8 + labelW + 12 + textHeight() + PAD;
  return { width, height, x0: left, y0: top, cell };
}

/** The matrix as a PNG: rows = true class, columns = predicted, shade = fraction of the row. */
export function confusionMatrixPlot(options: ConfusionMatrixOptions): Buffer {
  const { width, height, x0, y0, cell } = confusionLayout(options);
  const { labels, matrix } = options;
  const n = labels.length;
  const c = new Canvas(width, height);
  if (options.title) c.text(options.title, width / 2, PAD, { scale: 2, align: 'center', color: INK });
  const grid = n * cell;
  matrix.forEach((row, r) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((v, k) => {
      const f = total > 0 ? v / total : 0;
      c.fillRect(x0 + k * cell, y0 + r * cell, cell, cell, shade(f));
      const text = Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
      const scale = textWidth(text, 2) <= cell - 8 && cell >= 32 ? 2 : textWidth(text) <= cell - 4 ? 1 : 0;
      if (scale > 0)
        c.text(text, x0 + k * cell + cell / 2, y0 + r * cell + cell / 2, {
          scale,
          align: 'center',
          valign: 'middle',
          color: f > 0.5 ? [255, 255, 255] : INK,
        });
    });
  });
  c.strokeRect(x0 - 1, y0 - 1, grid + 2, grid + 2, AXIS);
  labels.forEach((l, i) => {
    const mid = i * cell + cell / 2;
    c.text(l, x0 - 8, y0 + mid, { align: 'right', valign: 'middle', color: INK });
    c.text(l, x0 + mid, y0 + grid + 8, { vertical: true, align: 'right', valign: 'middle', color: INK });
  });
  c.text('true', PAD, y0 + grid / 2, { vertical: true, align: 'center', color: INK });
  c.text('predicted', x0 + grid / 2, height - PAD - textHeight(), { align: 'center', color: INK });

  const bx = x0 + grid + 18;
  for (let y = 0; y < grid; y++) c.fillRect(bx, y0 + y, BAR, 1, shade(1 - y / (grid - 1)));
  c.strokeRect(bx - 1, y0 - 1, BAR + 2, grid + 2, AXIS);
  for (const v of [0, 0.5, 1]) {
    const y = Math.round(y0 + (1 - v) * (grid - 1));
    c.fillRect(bx + BAR + 1, y, 3, 1, AXIS);
    c.text(String(v), bx + BAR + 6, y, { valign: 'middle', color: INK });
  }
  const capX = bx + BAR + 6 + textWidth('0.5') + 10;
  c.text('row fraction', capX, y0 + grid / 2, { vertical: true, align: 'center', color: INK });
  return c.toPng();
}
