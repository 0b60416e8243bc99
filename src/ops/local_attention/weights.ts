/**
 * localAttentionWeights: the softmax weights of localAttention2d at chosen pixels, for looking at where
 * a pixel attends (attention maps):
 *   q, k [B, H, W, C]; relRow, relCol [k, C/2] or null; pixels (b, i, j) → w [P, heads, k, k],
 *   w[p, n, da, db] = softmax_{da,db}(q̂·k_ab + q̂·r_{da,db}) of head n at pixel p, window position
 *   (a, b) = (i + da - h, j + db - h); masked positions ('masked' padding) weigh 0. Each head's
 *   k×k weights sum to 1.
 * Kernel SasaLocalAttentionWeights: the pure-TypeScript one (kernel_ts.ts attentionWeightsAt), registered
 * on first use for any backend without its own. Inference only: the op has no gradient.
 */
import * as tf from '../../tf.js';
import { type ComposedKernel, ensureKernels } from '../composed_kernels.js';
import { LOCAL_ATTENTION_WEIGHTS, type LocalAttentionAttrs } from '../kernel_names.js';
import { attentionWeightsAt } from './kernel_ts.js';
import { attentionAttrs } from './op.js';
import { kernelGeometry, type LocalAttentionOptions, resolveGeometry } from './options.js';

const OP = 'localAttentionWeights';

/** A query pixel: batch index, row, column. */
export type QueryPixel = readonly [number, number, number];

type Backend = tf.KernelBackend & {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo;
};

const tsWeights: tf.KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as Backend;
  const named = inputs as Record<string, tf.TensorInfo>;
  const shapes = {
    q: named.q.shape,
    k: named.k.shape,
    v: named.q.shape,
    relRow: named.relRow.shape,
    relCol: named.relCol.shape,
  };
  const g = kernelGeometry(shapes, attrs as unknown as LocalAttentionAttrs);
  const read = (name: string) =>
    named[name].shape.length > 1 ? Float32Array.from(backend.readSync(named[name].dataId) as ArrayLike<number>) : null;
  const pixels = backend.readSync(named.pixels.dataId) as Int32Array;
  const x = {
    q: read('q') as Float32Array,
    k: read('k'),
    v: new Float32Array(0),
    relRow: read('relRow'),
    relCol: read('relCol'),
  };
  const weights = attentionWeightsAt(g, x, pixels);
  const K = g.kernelSize;
  return backend.makeTensorInfo([pixels.length / 3, g.heads, K, K], 'float32', weights as Float32Array);
};

const KERNELS: readonly ComposedKernel[] = [{ kernelName: LOCAL_ATTENTION_WEIGHTS, kernelFunc: tsWeights }];

function checkPixels(pixels: readonly QueryPixel[], shape: readonly number[]): void {
  if (!Array.isArray(pixels) || pixels.length === 0)
    throw new Error(`${OP}: pixels must be a non-empty list of (b, i, j)`);
  const [B, H, W] = shape;
  pixels.forEach((p, index) => {
    const ok =
      Array.isArray(p) &&
      p.length === 3 &&
      p.every(Number.isInteger) &&
      p[0] >= 0 &&
      p[0] < B &&
      p[1] >= 0 &&
      p[1] < H &&
      p[2] >= 0 &&
      p[2] < W;
    if (!ok)
      throw new Error(
        `${OP}: pixels[${index}] = ${JSON.stringify(p)} is not a (b, i, j) inside q [${shape.join(',')}]`,
      );
  });
}

/**
 * The attention weights of the pixels (see the file comment) under the same options as localAttention2d;
 * w [P, heads, k, k]. Pass null for k when logits is 'qr', and for the tables when it is 'qk'.
 */
export function localAttentionWeights(
  q: tf.Tensor4D,
  k: tf.Tensor4D | null,
  relRow: tf.Tensor2D | null,
  relCol: tf.Tensor2D | null,
  pixels: readonly QueryPixel[],
  options: LocalAttentionOptions,
): tf.Tensor4D {
  const named = { q, k, relRow, relCol };
  for (const [name, t] of Object.entries(named)) {
    if (t === null && name !== 'q') continue;
    if (!(t instanceof tf.Tensor))
      throw new Error(`${OP}: ${name} must be a tf.Tensor${name === 'q' ? '' : ' or null'}`);
    if (t.dtype !== 'float32') throw new Error(`${OP}: ${name} must be float32, got ${t.dtype}`);
  }
  const g = resolveGeometry(
    { q: q.shape, k: k?.shape ?? null, v: q.shape, relRow: relRow?.shape ?? null, relCol: relCol?.shape ?? null },
    options,
  );
  checkPixels(pixels, q.shape);
  ensureKernels(KERNELS);
  return tf.tidy(() => {
    const empty = () => tf.zeros([0]);
    const inputs = {
      q,
      k: g.useQK && k ? k : empty(),
      relRow: g.useQR && relRow ? relRow : empty(),
      relCol: g.useQR && relCol ? relCol : empty(),
      pixels: tf.tensor2d(pixels.flat(), [pixels.length, 3], 'int32'),
    };
    return tf.engine().runKernel(LOCAL_ATTENTION_WEIGHTS, inputs, attentionAttrs(g)) as tf.Tensor4D;
  });
}
