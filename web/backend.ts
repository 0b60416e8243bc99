/**
 * The page's tfjs backend: WebGL (with sasa's WebGL kernels), falling back to CPU (with sasa's
 * ResizeNearestNeighborGrad in place of tfjs's); ?backend=cpu forces CPU.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { tf } from '../src/browser.js';
import { registerResizeNearestGrad } from '../src/ops/resize_nearest.js';
import { registerWebglKernels } from '../src/ops/webgl/register.js';

export type PageBackend = 'webgl' | 'cpu';

/** Starts `wanted` (default WebGL); a WebGL that cannot start falls back to CPU. */
export async function startBackend(wanted: string | null): Promise<PageBackend> {
  if (wanted !== 'cpu') {
    const started = await tf.setBackend('webgl').catch(() => false);
    if (started) {
      registerWebglKernels();
      return 'webgl';
    }
  }
  registerResizeNearestGrad('cpu');
  await tf.setBackend('cpu');
  return 'cpu';
}
