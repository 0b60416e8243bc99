/** M4 reduction against a per-column brute force: extremes, ends and order kept. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { m4, type Point } from '../../src/viz/decimate.js';

let seed = 7;
const random = () => {
  seed = (seed * 16807) % 2147483647;
  return seed / 2147483647;
};

describe('m4', () => {
  it('keeps each column’s first, lowest, highest and last point, in order', () => {
    const columns = 50;
    const points: Point[] = Array.from({ length: 5000 }, (_, i) => [i * 0.37, Math.sin(i / 90) + random()]);
    const kept = m4(points, columns);
    assert.ok(kept.length <= 4 * columns && kept.length >= 2 * columns, `${kept.length} points`);
    const x0 = points[0][0];
    const span = points[points.length - 1][0] - x0;
    const column = ([x]: Point) => Math.min(columns - 1, Math.floor(((x - x0) / span) * columns));
    for (let c = 0; c < columns; c++) {
      const all = points.filter((p) => column(p) === c);
      const some = kept.filter((p) => column(p) === c);
      const ys = (ps: Point[]) => ps.map((p) => p[1]);
      assert.equal(Math.min(...ys(some)), Math.min(...ys(all)), `column ${c} minimum`);
      assert.equal(Math.max(...ys(some)), Math.max(...ys(all)), `column ${c} maximum`);
      assert.equal(some[0], all[0], `column ${c} first`);
      assert.equal(some[some.length - 1], all[all.length - 1], `column ${c} last`);
    }
    const order = kept.map((p) => points.indexOf(p));
    assert.ok(
      order.every((v, i) => i === 0 || v > order[i - 1]),
      'in the input order, no repeats',
    );
  });

  it('leaves short and unsorted lines as they are', () => {
    const short: Point[] = Array.from({ length: 40 }, (_, i) => [i, random()]);
    assert.deepEqual(m4(short, 10), short);
    const unsorted: Point[] = Array.from({ length: 400 }, (_, i) => [i === 200 ? 0 : i, random()]);
    assert.deepEqual(m4(unsorted, 10), unsorted);
    const vertical: Point[] = Array.from({ length: 400 }, () => [3, random()]);
    assert.deepEqual(m4(vertical, 10), vertical);
  });
});
