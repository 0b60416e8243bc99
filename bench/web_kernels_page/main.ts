/**
 * The page of bench/web_kernels.ts: window.sasaBench(options) builds a registered model (seeded
 * weights) on the 'webgl' backend and times the classification of one image (predict + reading the
 * class probabilities back) in three configurations, alternating in rounds:
 *   'webgl kernels'  the attention ops on sasa's WebGL kernels;
 *   'ts kernels'     the attention ops on the TypeScript kernels (tensors read back to the CPU);
 *   'no attention'   the attention kernels replaced by a program that writes zeros: what the rest
 *                    of the model costs, the floor under both (not a classifier);
 * every other op on tfjs's WebGL kernels in all three; then the whole model on tfjs's 'cpu' backend.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import type { GPGPUProgram, MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { createModel } from '../../src/models/registry.js';
import { LOCAL_ATTENTION, LOCAL_ATTENTION_PACKED, STEM_ATTENTION } from '../../src/ops/kernel_names.js';
import { registerWebglKernels, unregisterWebglKernels } from '../../src/ops/webgl/register.js';
import * as tf from '../../src/tf.js';
import type { BenchOptions, BenchResult } from './configurations.js';

class ZerosProgram implements GPGPUProgram {
  variableNames = ['x'];
  userCode = 'void main() { setOutput(0.0); }';
  constructor(public outputShape: number[]) {}
}

/** The attention kernels' outputs [y, lse] as zeros, shaped from their inputs. */
const zerosKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const named = inputs as Record<string, tf.TensorInfo>;
  const x = named.x ?? named.q ?? named.qkv;
  const [b, h, w, c] = x.shape;
  const parts = named.qkv ? (attrs?.logits === 'qr' ? 2 : 3) : 1;
  const channels = named.wv ? named.wv.shape[2] : c / parts;
  const heads = Number(attrs?.heads);
  const webgl = backend as MathBackendWebGL;
  return [
    [b, h, w, channels],
    [b, h, w, heads],
  ].map((s) => webgl.runWebGLProgram(new ZerosProgram(s), [x], 'float32'));
};

function useZeros(): void {
  unregisterWebglKernels();
  for (const kernelName of [LOCAL_ATTENTION, LOCAL_ATTENTION_PACKED, STEM_ATTENTION]) {
    tf.registerKernel({ kernelName, backendName: 'webgl', kernelFunc: zerosKernel });
  }
}

function renderer(): string {
  const gl = document.createElement('canvas').getContext('webgl2');
  const info = gl?.getExtension('WEBGL_debug_renderer_info');
  return gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : 'unknown';
}

/** Milliseconds of each of `runs` classifications of `image` (after one untimed warm-up). */
async function time(model: tf.LayersModel, image: tf.Tensor, runs: number) {
  const classify = async () => {
    const y = model.predict(image) as tf.Tensor;
    const probs = (await y.data()) as Float32Array;
    y.dispose();
    return probs;
  };
  const probs = await classify();
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    await classify();
    ms.push(performance.now() - start);
  }
  return { ms, probs };
}

/** How many times each kernel runs in one classification (tf.profile). */
async function kernelCounts(model: tf.LayersModel, image: tf.Tensor): Promise<Record<string, number>> {
  const info = await tf.profile(() => model.predict(image) as tf.Tensor);
  const counts: Record<string, number> = {};
  for (const k of info.kernels) counts[k.name] = (counts[k.name] ?? 0) + 1;
  return counts;
}

const maxDifference = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

(window as unknown as { sasaBench: unknown }).sasaBench = async (o: BenchOptions): Promise<BenchResult> => {
  if (!(await tf.setBackend('webgl'))) throw new Error('the webgl backend did not start');
  const model = createModel(o.model, {}, { seed: 1 });
  const [, size, , channels] = model.inputs[0].shape as number[];
  const inputShape = [1, size, size, channels];
  const image = tf.randomUniform(inputShape, 0, 1, 'float32', 7);
  const times: BenchResult['times'] = { 'webgl kernels': [], 'ts kernels': [], 'no attention': [], 'cpu backend': [] };
  let probabilityDifference = 0;
  for (let round = 0; round < o.rounds; round++) {
    unregisterWebglKernels();
    const ts = await time(model, image, o.runs);
    registerWebglKernels();
    const gl = await time(model, image, o.runs);
    useZeros();
    const floor = await time(model, image, o.runs);
    times['ts kernels'].push(...ts.ms);
    times['webgl kernels'].push(...gl.ms);
    times['no attention'].push(...floor.ms);
    probabilityDifference = Math.max(probabilityDifference, maxDifference(ts.probs, gl.probs));
  }
  useZeros();
  const floorKernels = await kernelCounts(model, image);
  unregisterWebglKernels();
  const webglRenderer = renderer();
  await tf.setBackend('cpu');
  const cpuModel = createModel(o.model, {}, { seed: 1 });
  const cpuImage = tf.randomUniform(inputShape, 0, 1, 'float32', 7);
  times['cpu backend'] = (await time(cpuModel, cpuImage, o.runs)).ms;
  return { renderer: webglRenderer, inputShape, times, floorKernels, probabilityDifference };
};
