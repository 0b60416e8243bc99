/** Confusion-matrix chart: cells shaded by the row-normalised value, counts written where they fit. */
import type { TopLevelSpec } from 'vega-lite';
import { bundledFontMetrics, type Chart, INK, SCHEMA, THEME } from './chart.js';
import { checkText } from './check.js';
import { textWidth } from './font_metrics.js';

export interface ConfusionMatrixOptions {
  title?: string;
  /** Class names, one per row and column. */
  labels: readonly string[];
  /** Counts, rows = true class, columns = predicted class. */
  matrix: readonly (readonly number[])[];
  /** Cell side in chart pixels (default: 480 / classes, clamped to 22..64). */
  cellSize?: number;
}

/** One cell: its classes, its count, the count's share of the row (0 for an empty row), the text drawn. */
export interface ConfusionCell {
  true: string;
  predicted: string;
  count: number;
  fraction: number;
  text: string;
}

/** Blues, white to navy (ColorBrewer): luminance falls monotonically along the stops. */
const STOPS = ['#f7fbff', '#c6dbef', '#6baed6', '#2171b5', '#08306b'];
/** Text on cells darker than this row fraction is white. */
const DARK = 0.5;

function check(options: ConfusionMatrixOptions): void {
  const where = 'confusionMatrixPlot';
  const { labels, matrix } = options;
  if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === 'string'))
    throw new Error(`${where}: labels must be a non-empty array of strings`);
  const twice = labels.findIndex((l, i) => labels.indexOf(l) < i);
  if (twice >= 0) throw new Error(`${where}: labels[${twice}] '${labels[twice]}' appears twice`);
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
  checkText(where, 'title', options.title);
}

/** The cells, row by row: fraction = count / Σ row; text = the count where it fits in `cell` at `fontSize`. */
export function confusionCells(options: ConfusionMatrixOptions, cell: number, fontSize: number): ConfusionCell[] {
  const { labels, matrix } = options;
  return matrix.flatMap((row, r) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, c) => {
      const text = Number.isInteger(count) ? String(count) : String(Number(count.toPrecision(3)));
      const fits = textWidth(bundledFontMetrics().regular, text, fontSize) <= cell - 4;
      return {
        true: labels[r],
        predicted: labels[c],
        count,
        fraction: total > 0 ? count / total : 0,
        text: fits ? text : '',
      };
    });
  });
}

/** The matrix as a heat map: rows = true class, columns = predicted, shade = fraction of the row. */
export function confusionMatrixPlot(options: ConfusionMatrixOptions): Chart {
  check(options);
  const labels = [...options.labels];
  const cell = options.cellSize ?? Math.min(64, Math.max(22, Math.floor(480 / labels.length)));
  const fontSize = cell >= 40 ? 14 : cell >= 28 ? 12 : 10;
  const band = (title: string) => ({ type: 'nominal', sort: labels, title, scale: { domain: labels } }) as const;
  const spec = {
    $schema: SCHEMA,
    ...(options.title ? { title: options.title } : {}),
    width: { step: cell },
    height: { step: cell },
    data: { values: confusionCells(options, cell, fontSize) },
    encoding: {
      x: { field: 'predicted', ...band('predicted'), axis: { labelAngle: -40, labelAlign: 'right', ticks: true } },
      y: { field: 'true', ...band('true') },
    },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: {
            field: 'fraction',
            type: 'quantitative',
            title: 'row fraction',
            scale: { domain: STOPS.map((_, i) => i / (STOPS.length - 1)), range: STOPS },
            legend: { gradientLength: Math.min(cell * labels.length, 300), values: [0, 0.5, 1] },
          },
        },
      },
      {
        mark: { type: 'text', fontSize },
        encoding: {
          text: { field: 'text', type: 'nominal' },
          color: { condition: { test: `datum.fraction > ${DARK}`, value: 'white' }, value: INK },
        },
      },
    ],
    config: { ...THEME, axis: { ...THEME.axis, grid: false }, view: { stroke: null } },
  };
  return { spec: spec as TopLevelSpec };
}
