/**
 * M4 reduction of a line (Jugel et al., "M4: a visualization-oriented time series data aggregation",
 * VLDB 2014): split the x range into `columns` equal columns and keep, per column, the first, the
 * lowest, the highest and the last point, in their order. A line through what is kept covers the same
 * pixels as one through every point when drawn `columns` pixels wide; a 9000-step loss curve then
 * draws from at most 4 points per column (drawing time grows with the points, not with the picture).
 */

export type Point = readonly [number, number];

/** Index of the column `x` falls in, of `columns` equal columns over [x0, x0 + span]. */
const columnOf = (x: number, x0: number, span: number, columns: number) =>
  Math.min(columns - 1, Math.floor(((x - x0) / span) * columns));

/**
 * The points of each column's first, lowest, highest and last point, in order. `points`: finite, with
 * x non-decreasing; returned unchanged (a copy) when at most 4 per column or when x is not sorted.
 */
export function m4(points: readonly Point[], columns: number): Point[] {
  const n = points.length;
  if (n <= 4 * columns || points.some((p, i) => i > 0 && p[0] < points[i - 1][0])) return [...points];
  const x0 = points[0][0];
  const span = points[n - 1][0] - x0;
  if (span <= 0) return [...points];
  const kept: Point[] = [];
  for (let start = 0; start < n; ) {
    const column = columnOf(points[start][0], x0, span, columns);
    let [end, lo, hi] = [start, start, start];
    while (end + 1 < n && columnOf(points[end + 1][0], x0, span, columns) === column) {
      end++;
      if (points[end][1] < points[lo][1]) lo = end;
      if (points[end][1] > points[hi][1]) hi = end;
    }
    for (const i of [...new Set([start, lo, hi, end])].sort((a, b) => a - b)) kept.push(points[i]);
    start = end + 1;
  }
  return kept;
}
