/**
 * ResizeNearestNeighborGrad on tfjs's pure-JS `cpu` backend, where initBackend puts sasa's kernel
 * (ops/resize_nearest.ts) in place of tfjs 4.22's: batches of 2 and 3, whole, fractional and downscaling
 * sizes, non-square images, alignCorners and halfPixelCenters, against the adjoint of tfjs's own cpu forward
 * kernel (read off an image of indices, summed in float64), and a few sums written out here. tfjs's kernel,
 * kept aside before initBackend replaces it, still fails the first of those.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '../../src/tf.js';
import { assertClose, gradsOf, randTensor, runOn, setup, useBackend, weightedSum } from '../helpers.js';
import { labelOf, type ResizeCase, resizeGradReference, resizer } from './resize_reference.js';

/** tfjs's own cpu kernel, as registered by @tensorflow/tfjs-backend-cpu (setup has not run yet). */
const tfjsKernel = tf.getKernel('ResizeNearestNeighborGrad', 'cpu');

const cases: ResizeCase[] = [
  { shape: [2, 3, 5, 7], size: [6, 10] },
  { shape: [3, 2, 3, 4], size: [6, 9] },
  { shape: [2, 8, 8, 16], size: [16, 16] },
  { shape: [2, 3, 5, 2], size: [5, 7] },
  { shape: [3, 6, 4, 3], size: [3, 2] },
  { shape: [2, 3, 3, 2], size: [6, 9] },
  { shape: [3, 3, 3, 2], size: [6, 6], alignCorners: true },
  { shape: [2, 3, 4, 2], size: [7, 5], alignCorners: true },
  { shape: [2, 4, 4, 1], size: [1, 1], alignCorners: true },
  { shape: [2, 3, 3, 2], size: [6, 6], halfPixelCenters: true },
  { shape: [3, 6, 5, 2], size: [4, 3], halfPixelCenters: true },
  { shape: [1, 6, 5, 2], size: [4, 3], halfPixelCenters: true },
  { shape: [2, 3, 5, 2], size: [5, 7], halfPixelCenters: true },
];

/** The gradient of Σ resize(images)·dy on `backend`, images and dy written out. */
async function gradOf(backend: string, c: ResizeCase, images: number[], dy: number[]): Promise<number[]> {
  const [got] = await runOn(backend, () =>
    gradsOf(
      (x) => tf.sum(tf.mul(resizer(c)(x), tf.tensor(dy, [c.shape[0], ...c.size, c.shape[3]]))),
      [tf.tensor(images, c.shape)],
    ),
  );
  return Array.from(got.values);
}

before(setup);

describe('ResizeNearestNeighborGrad on the cpu backend', () => {
  for (const [i, c] of cases.entries()) {
    it(`gradient ${labelOf(c)}`, async () => {
      const expected = await resizeGradReference(c, 40 + i);
      const [got] = await runOn('cpu', () =>
        gradsOf((x) => weightedSum(resizer(c)(x), 40 + i), [randTensor(c.shape, 20 + i)]),
      );
      assert.deepEqual(got.shape, c.shape);
      assertClose(got.values, expected, { tol: 1e-6 });
    });
  }

  it('sums written out: batch 2, 1×1 → 2×2 sends each image its own four values', async () => {
    const c: ResizeCase = { shape: [2, 1, 1, 1], size: [2, 2] };
    assert.deepEqual(await gradOf('cpu', c, [0, 0], [1, 2, 3, 4, 10, 20, 30, 40]), [10, 100]);
  });

  it('sums written out: halfPixelCenters 1×4 → 1×2 copies columns 1 and 3, and they get the gradient', async () => {
    const c: ResizeCase = { shape: [2, 1, 4, 1], size: [1, 2], halfPixelCenters: true };
    assert.deepEqual(await gradOf('cpu', c, [0, 0, 0, 0, 0, 0, 0, 0], [1, 2, 3, 4]), [0, 1, 0, 2, 0, 3, 0, 4]);
  });

  it("tfjs 4.22's own kernel is the wrong one (batch 2, 1×1 → 2×2: image 1 gets 2+3+4+10)", async () => {
    assert.ok(tfjsKernel, 'no cpu kernel registered by tfjs');
    assert.notEqual(tf.getKernel('ResizeNearestNeighborGrad', 'cpu')?.kernelFunc, tfjsKernel.kernelFunc);
    await useBackend('cpu');
    const backend = tf.backend();
    const images = tf.zeros([2, 1, 1, 1]);
    const dy = tf.tensor4d([1, 2, 3, 4, 10, 20, 30, 40], [2, 2, 2, 1]);
    const attrs = { alignCorners: false, halfPixelCenters: false };
    const out = tfjsKernel.kernelFunc({ inputs: { images, dy }, backend, attrs }) as tf.TensorInfo;
    assert.deepEqual(Array.from(backend.readSync(out.dataId) as Float32Array), [10, 19]);
    backend.disposeData(out.dataId);
    tf.dispose([images, dy]);
  });
});
