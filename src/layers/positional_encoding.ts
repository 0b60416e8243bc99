/**
 * 2-D sinusoidal absolute position encoding (the 'absolute' variant of SASA.md §1), added to the
 * layer input before the projections. For a [H, W, C] map (C divisible by 4): the first C/2
 * channels encode the row i, the last C/2 the column j, each as
 *   [sin(p·ω_0), …, sin(p·ω_{m-1}), cos(p·ω_0), …, cos(p·ω_{m-1})], ω_t = 10000^(-t/m), m = C/4.
 */
import * as tf from '../tf.js';

/** The encoding [H, W, C] of every position (i, j) of an H×W map, C divisible by 4 (formula above). */
export function sinusoidalEncoding2d(height: number, width: number, channels: number): tf.Tensor3D {
  if (channels % 4 !== 0) {
    throw new Error(
      `sinusoidalEncoding2d: channels must be divisible by 4 (sin and cos of rows and columns), got ${channels}`,
    );
  }
  const m = channels / 4;
  const values = new Float32Array(height * width * channels);
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      const base = (i * width + j) * channels;
      for (let t = 0; t < m; t++) {
        const w = 10000 ** (-t / m);
        values[base + t] = Math.sin(i * w);
        values[base + m + t] = Math.cos(i * w);
        values[base + 2 * m + t] = Math.sin(j * w);
        values[base + 3 * m + t] = Math.cos(j * w);
      }
    }
  }
  return tf.tensor3d(values, [height, width, channels]);
}
