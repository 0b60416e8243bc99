/**
 * The fuzzer's seeded choices: shapes (zero-size and odd dimensions), attributes that are
 * sometimes bad (negative, fractional, NaN, huge), dtypes and views. Each case draws from its own
 * generator, seeded by hashInts(op seed, case index), so any case replays alone.
 */
import { rng } from '../../src/data/random.js';

export type FuzzDtype = 'float32' | 'int32' | 'bool';
/** How an input tensor is made: directly, as a contiguous slice (a subarray at an offset), a strided slice, or a transpose. */
export type FuzzView = 'plain' | 'offset' | 'strided' | 'transposed';

export interface InputSpec {
  shape: number[];
  dtype: FuzzDtype;
  view: FuzzView;
  /** Some values are NaN or ±Infinity. */
  special: boolean;
}

/**
 * Attribute values that a guard must refuse (or that tfjs handles its own way). The huge ones
 * are past the Int32 sizes the native kernels address, so they must be refused before allocating.
 */
export const BAD_NUMBERS = [0, -1, -3, 1.5, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, 1e12];

export class Random {
  readonly next: () => number;
  /** Whether a bad attribute or a non-float32 input was drawn: the native backend may refuse more than cpu. */
  unusual = false;

  constructor(seed: number) {
    this.next = rng(seed);
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** A dimension: mostly 1–5, sometimes 0 or up to 9. */
  dim(): number {
    const u = this.next();
    if (u < 0.04) return 0;
    if (u < 0.2) return 1;
    if (u < 0.9) return this.int(2, 5);
    return this.int(6, 9);
  }

  /** A shape of `rank` dimensions with at most `maxSize` elements (dims shrunk to fit). */
  shape(rank: number, maxSize = 2048): number[] {
    const shape = Array.from({ length: rank }, () => this.dim());
    let size = shape.reduce((a, b) => a * b, 1);
    for (let d = 0; size > maxSize; d = (d + 1) % rank) {
      if (shape[d] > 1) shape[d] = Math.max(1, shape[d] >> 1);
      size = shape.reduce((a, b) => a * b, 1);
    }
    return shape;
  }

  /** `good()` mostly; with probability `pBad` one of BAD_NUMBERS. */
  attr(good: () => number, pBad = 0.05): number {
    if (!this.chance(pBad)) return good();
    this.unusual = true;
    return this.pick(BAD_NUMBERS);
  }

  /** An input: float32 mostly (int32 or bool with probability `pOtherDtype`), any view. */
  input(shape: number[], pOtherDtype = 0.03): InputSpec {
    const dtype: FuzzDtype = this.chance(pOtherDtype) ? this.pick(['int32', 'bool'] as const) : 'float32';
    if (dtype !== 'float32') this.unusual = true;
    const view = this.chance(0.3) ? this.pick(['offset', 'strided', 'transposed'] as const) : 'plain';
    return { shape, dtype, view, special: this.chance(0.04) };
  }
}
