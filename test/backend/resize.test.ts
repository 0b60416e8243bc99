/**
 * ResizeNearestNeighbor and its gradient on the native backend against tfjs's JS kernels: whole-number scales
 * (the native path: 1, 2, 3, non-square images, batch > 1) and the cases that fall back (a fractional scale,
 * alignCorners, halfPixelCenters, a different scale per axis). At batch > 1 the gradient is checked against block
 * sums written out here: tfjs 4.22's cpu ResizeNearestNeighborGrad reads dy at the images' batch offset, wrong
 * for every image after the first.
 */
import { before, it } from 'node:test';
import { NATIVE_BACKEND } from '../../src/backend/native.js';
import * as tf from '../../src/tf.js';
import {
  assertClose,
  compareOnBackends,
  describeNative,
  gradsOf,
  randTensor,
  runOn,
  setup,
  weightedSum,
} from '../helpers.js';

/** Σ over each pixel's s × s block of g [B, s·H, s·W, C], in float64: the nearest-neighbour upscaling's gradient. */
function blockSumsRef(g: Float32Array, [b, h, w, c]: number[], s: number): Float64Array {
  const out = new Float64Array(b * h * w * c);
  for (let n = 0; n < b; n++)
    for (let y = 0; y < s * h; y++)
      for (let x = 0; x < s * w; x++)
        for (let k = 0; k < c; k++)
          out[((n * h + Math.floor(y / s)) * w + Math.floor(x / s)) * c + k] +=
            g[((n * s * h + y) * s * w + x) * c + k];
  return out;
}

interface ResizeCase {
  shape: [number, number, number, number];
  size: [number, number];
  alignCorners?: boolean;
  halfPixelCenters?: boolean;
}

const cases: ResizeCase[] = [
  { shape: [1, 8, 8, 256], size: [16, 16] },
  { shape: [2, 3, 5, 7], size: [6, 10] },
  { shape: [1, 2, 3, 4], size: [6, 9] },
  { shape: [1, 4, 4, 3], size: [4, 4] },
  { shape: [1, 3, 5, 2], size: [5, 7] },
  { shape: [1, 3, 3, 2], size: [6, 6], alignCorners: true },
  { shape: [1, 3, 3, 2], size: [6, 6], halfPixelCenters: true },
  { shape: [1, 3, 3, 2], size: [6, 9] },
];

before(setup);

describeNative('ResizeNearestNeighbor on the native backend', () => {
  for (const [i, c] of cases.entries()) {
    const label = `[${c.shape}] → ${c.size}${c.alignCorners ? ', alignCorners' : ''}${c.halfPixelCenters ? ', halfPixelCenters' : ''}`;
    const resize = (x: tf.Tensor) =>
      tf.image.resizeNearestNeighbor(x as tf.Tensor4D, c.size, c.alignCorners ?? false, c.halfPixelCenters ?? false);
    it(`forward ${label}`, async () => {
      await compareOnBackends(() => resize(randTensor(c.shape, 10 + i)), { tol: 0 });
    });
    it(`gradient ${label}`, async () => {
      const grad = () => gradsOf((x) => weightedSum(resize(x), 40 + i), [randTensor(c.shape, 20 + i)]);
      if (c.shape[0] === 1) {
        await compareOnBackends(grad, { tol: 1e-6 });
        return;
      }
      const [got] = await runOn(NATIVE_BACKEND, grad);
      const weights = randTensor([c.shape[0], ...c.size, c.shape[3]], 40 + i).dataSync() as Float32Array;
      assertClose(got.values, blockSumsRef(weights, c.shape, c.size[0] / c.shape[1]), { tol: 1e-6 });
    });
  }
});
