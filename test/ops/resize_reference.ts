/**
 * The cases and the reference gradient of the ResizeNearestNeighbor tests (test/ops/resize_nearest.test.ts on
 * the cpu backend, test/backend/resize.test.ts on the native one).
 */
import * as tf from '../../src/tf.js';
import { randTensor, runOn, sizeOf } from '../helpers.js';
import { gatherGradRef } from '../reference.js';

export interface ResizeCase {
  shape: [number, number, number, number];
  size: [number, number];
  alignCorners?: boolean;
  halfPixelCenters?: boolean;
}

/** x ↦ tf.image.resizeNearestNeighbor(x) with the case's size and attributes. */
export const resizer = (c: ResizeCase) => (x: tf.Tensor) =>
  tf.image.resizeNearestNeighbor(x as tf.Tensor4D, c.size, c.alignCorners ?? false, c.halfPixelCenters ?? false);

export const labelOf = (c: ResizeCase) =>
  `[${c.shape}] → ${c.size}${c.alignCorners ? ', alignCorners' : ''}${c.halfPixelCenters ? ', halfPixelCenters' : ''}`;

/**
 * The gradient of Σ resize(x)·R, R = randTensor(output shape, seed): the adjoint of tfjs's cpu forward kernel,
 * whose source map is read off an image of indices (exact in float32 below 2^24 elements), summed in float64.
 */
export async function resizeGradReference(c: ResizeCase, seed: number): Promise<Float64Array> {
  const n = sizeOf(c.shape);
  const [sources] = await runOn('cpu', () => resizer(c)(tf.reshape(tf.range(0, n, 1, 'float32'), c.shape)));
  const [weights] = await runOn('cpu', () => randTensor(sources.shape, seed));
  return gatherGradRef(sources.values, weights.values, n);
}
