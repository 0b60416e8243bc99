/** Reading test/golden/detection/ (written by tools/gen_detection_golden.py) and comparing float32 arrays. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** A golden float: a number, or "NaN" / "Infinity" / "-Infinity". */
export type GoldenFloat = number | string;

/** The parsed golden file `name` (gunzipped when it ends in .gz). */
export function readGolden<T>(name: string): T {
  const url = new URL(`../../golden/detection/${name}`, import.meta.url);
  const bytes = readFileSync(url);
  return JSON.parse((name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')) as T;
}

/** Golden floats as a Float32Array (the strings become NaN and ±Infinity). */
export function floats(values: readonly GoldenFloat[]): Float32Array {
  return Float32Array.from(values, (v) => (typeof v === 'number' ? v : Number(v)));
}

/** Element-wise |a - e| ≤ rel · |e| + abs, NaN only where NaN is expected, infinities equal. */
export function assertFloatsClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label: string,
  { rel = 1e-5, abs = 1e-6 } = {},
): void {
  assert.equal(actual.length, expected.length, `${label}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      assert.ok(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)), `${label}[${i}]: got ${a}, expected ${e}`);
    } else {
      assert.ok(Math.abs(a - e) <= rel * Math.abs(e) + abs, `${label}[${i}]: got ${a}, expected ${e}`);
    }
  }
}

/** Bit-for-bit float32 equality (NaN equals NaN). */
export function assertFloatsEqual(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  assertFloatsClose(actual, expected, label, { rel: 0, abs: 0 });
}
