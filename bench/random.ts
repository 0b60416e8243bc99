/** Seeded inputs for the bench scripts: the same values in every run and in every build compared. */

/**
 * `length` values (u − 0.5)·scale, u uniform in [0, 1) from the LCG s ← (1103515245·s + 12345) mod 2³²
 * (in doubles, as the scripts always computed it), starting from `seed`.
 */
export function seededUniform(length: number, seed: number, scale = 1): Float32Array {
  const values = new Float32Array(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    values[i] = (s / 2 ** 32 - 0.5) * scale;
  }
  return values;
}
