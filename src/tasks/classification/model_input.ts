/**
 * A classifier's input from decoded pixels, and its top classes: what `sasa predict` and the web page
 * share (no Node modules here, so the page imports it as it is).
 */

/** The normalisation a model was trained with: x = (rgb - mean) / std per channel. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/**
 * The model input [size, size, channels] (flat) of size² RGB values in [0, 1]: grey (the mean of R, G, B)
 * when the model takes one channel, then normalised as in training.
 */
export function modelInput(rgb: ArrayLike<number>, size: number, channels: number, n: Normalization): Float32Array {
  if (rgb.length !== size * size * 3) {
    throw new Error(`modelInput: expected ${size}×${size}×3 RGB values, got ${rgb.length}`);
  }
  const x = new Float32Array(size * size * channels);
  const { mean, std } = n;
  for (let p = 0; p < size * size; p++) {
    if (channels === 1) {
      const grey = (rgb[3 * p] + rgb[3 * p + 1] + rgb[3 * p + 2]) / 3;
      x[p] = (grey - mean[0]) / std[0];
    } else for (let c = 0; c < channels; c++) x[channels * p + c] = (rgb[3 * p + c] - mean[c]) / std[c];
  }
  return x;
}

/** One of `topClasses`' classes: its label (the class name), index and probability. */
export interface RankedClass {
  label: string;
  index: number;
  probability: number;
}

/** The k most probable classes, most probable first. */
export function topClasses(probabilities: ArrayLike<number>, classNames: readonly string[], k = 5): RankedClass[] {
  const order = Array.from({ length: probabilities.length }, (_, i) => i)
    .sort((a, b) => probabilities[b] - probabilities[a])
    .slice(0, k);
  return order.map((i) => ({ label: classNames[i] ?? String(i), index: i, probability: probabilities[i] }));
}
