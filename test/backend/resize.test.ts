/**
 * ResizeNearestNeighbor and its gradient on the native backend: whole-number scales (1, 2, 3, non-square
 * images, batch > 1), fractional and downscaling sizes, a different scale per axis, alignCorners and
 * halfPixelCenters. The forward against tfjs's cpu kernel, exactly; the gradient against the adjoint of that
 * kernel (resizeGradReference, summed in float64), not against tfjs's cpu gradient, which was wrong at batch > 1
 * and shares sasa's kernel since initBackend replaced it (test/ops/resize_nearest.test.ts).
 */
import { before, it } from 'node:test';
import { NATIVE_BACKEND } from '../../src/backend/native.js';
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
import { labelOf, type ResizeCase, resizeGradReference, resizer } from '../ops/resize_reference.js';

const cases: ResizeCase[] = [
  { shape: [1, 8, 8, 256], size: [16, 16] },
  { shape: [2, 3, 5, 7], size: [6, 10] },
  { shape: [1, 2, 3, 4], size: [6, 9] },
  { shape: [1, 4, 4, 3], size: [4, 4] },
  { shape: [1, 3, 5, 2], size: [5, 7] },
  { shape: [1, 3, 3, 2], size: [6, 6], alignCorners: true },
  { shape: [1, 3, 3, 2], size: [6, 6], halfPixelCenters: true },
  { shape: [1, 3, 3, 2], size: [6, 9] },
  { shape: [2, 3, 5, 2], size: [5, 7] },
  { shape: [3, 6, 4, 3], size: [3, 2] },
  { shape: [3, 3, 3, 2], size: [6, 6], alignCorners: true },
  { shape: [2, 3, 4, 2], size: [7, 5], alignCorners: true },
  { shape: [3, 6, 5, 2], size: [4, 3], halfPixelCenters: true },
];

before(setup);

describeNative('ResizeNearestNeighbor on the native backend', () => {
  for (const [i, c] of cases.entries()) {
    const label = labelOf(c);
    const resize = resizer(c);
    it(`forward ${label}`, async () => {
      await compareOnBackends(() => resize(randTensor(c.shape, 10 + i)), { tol: 0 });
    });
    it(`gradient ${label}`, async () => {
      const grad = () => gradsOf((x) => weightedSum(resize(x), 40 + i), [randTensor(c.shape, 20 + i)]);
      const [got] = await runOn(NATIVE_BACKEND, grad);
      assertClose(got.values, await resizeGradReference(c, 40 + i), { tol: 1e-6 });
    });
  }
});
