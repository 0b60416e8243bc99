/**
 * AttentionStem: the attention stem of SASA.md §2. x [B, H, W, d_in] → [B, H/pool, W/pool, filters]:
 *   1. the image is cut into non-overlapping s×s blocks (s = `block`, 4); every pixel attends to
 *      the s² pixels of its block, with `heads` heads and, when `relative`, relative logits q·r
 *      over the block's offsets (tables [2s-1, filters/2]);
 *   2. values: 'mixture' (spatially-aware values, the default):
 *        v_ab = (Σ_m p(a,b,m) W_V^m) x_ab,  p(a,b,·) = softmax_m((embRow[a] + embCol[b])·ν_m),
 *      with (a, b) the pixel's position inside its block, m = `mixtures` (4) value matrices and
 *      the mixture weights shared by all heads; 'plain': v = x W_V (the stand-alone stem);
 *      'conv': v = a `valueKernel`×`valueKernel` 'same' convolution of the image (no bias);
 *   3. batch norm, ReLU (when `relu`), and `pool`×`pool` max pooling with stride `pool`.
 * The paper's stem is s = 4, 4 heads, width 64, m = 4, pool 4 (224 → 56).
 *
 * Implementation: blocks become a batch of s×s images [B·(H/s)·(W/s), s, s, C] and the
 * attention is localAttention2d with kernelSize 2s-1 and 'masked' padding, which is exactly
 * attention within the block: for 'mixture' and 'plain' values through stemAttention, whose native
 * kernel projects q, k and v itself (the mixture folded into one value matrix per position in the
 * block, Σ_m p(a,b,m) W_V^m), for 'conv' values with the convolution computed apart. When
 * pool = s, pooling is over a block and no transpose back is needed.
 *
 * Choices the paper leaves open (SASA.md §2): embedding size `embeddingDim` (default
 * filters/heads), relative logits on (as the paper's FLOP totals suggest), ReLU after the batch
 * norm. Initialisers: projections truncated normal std d_in^-0.5 (per value matrix), embeddings
 * and ν truncated normal std embeddingDim^-0.5, relative tables std (filters/heads)^-0.5.
 * A stem set `trainable = false` is frozen, its batch norm included (moving statistics in training,
 * as BatchNorm does).
 */

import { stemAttention } from '../ops/attention_stem.js';
import { stemAttentionBlockMax } from '../ops/attention_stem_block_max.js';
import { localAttention2d } from '../ops/local_attention/op.js';
import { MAX_KERNEL_SIZE } from '../ops/local_attention/options.js';
import { localAttentionWeights, type QueryPixel } from '../ops/local_attention/weights.js';
import * as tf from '../tf.js';
import { type BatchNormOptions, BatchNormWeights, resolveBatchNormOptions } from './batch_norm.js';
import { seedOf } from './seeds.js';

/** The stem's value kinds: 'mixture' (spatially-aware), 'plain' (x W_V), 'conv' (a k×k convolution). */
export const STEM_VALUES = ['mixture', 'plain', 'conv'] as const;
/** How the attention stem computes its values: one of {@link STEM_VALUES}. */
export type StemValues = (typeof STEM_VALUES)[number];

/** Defaults of the attention stem (the paper's: width 64, 4 heads, 4×4 blocks, 4 value mixtures). */
export const STEM_DEFAULTS = {
  filters: 64,
  heads: 4,
  block: 4,
  values: 'mixture',
  mixtures: 4,
  valueKernel: 3,
  relative: true,
  relu: true,
} as const satisfies Partial<AttentionStemOptions>;

/** The largest block side: the block attends as a local attention of kernel size 2s - 1. */
const MAX_BLOCK = (MAX_KERNEL_SIZE + 1) / 2;

/**
 * The attention stem's hyperparameters (SASA.md §2). Defaults are the paper's, in `STEM_DEFAULTS`
 * (layers/attention_stem.ts); the checks in `resolveStemOptions`.
 */
export interface AttentionStemOptions {
  /** Output channels. Default 64. */
  filters?: number;
  /** Heads. Default 4. */
  heads?: number;
  /** Side s of the attention blocks. Default 4. */
  block?: number;
  /** How the values are computed. Default 'mixture'. */
  values?: StemValues;
  /** Number m of value matrices for 'mixture'. Default 4. */
  mixtures?: number;
  /** Size of the row/column embeddings for 'mixture'. Default filters/heads. */
  embeddingDim?: number;
  /** Kernel side of the value convolution for 'conv'. Default 3. */
  valueKernel?: number;
  /** Relative logits q·r over the block. Default true. */
  relative?: boolean;
  /** ReLU after the batch norm. Default true. */
  relu?: boolean;
  /** Max-pool window and stride after the batch norm (1: none). Default `block`. */
  pool?: number;
  /** The batch norm after the attention (defaults in `BATCH_NORM_DEFAULTS`). */
  batchNorm?: BatchNormOptions;
}

/**
 * Constructor arguments of the {@link AttentionStem} layer: the stem's options, a seed, and tfjs-layers'
 * base layer arguments (name, trainable, input shape).
 */
export interface AttentionStemArgs extends AttentionStemOptions {
  /** Seeds the initial weights (layers/seeds.ts); unseeded by default. */
  seed?: number;
  name?: string;
  trainable?: boolean;
  inputShape?: number[];
  batchInputShape?: number[];
}

const CLASS = 'AttentionStem';

/** The stem's options with their defaults applied. */
export type ResolvedStemOptions = Required<Omit<AttentionStemOptions, 'batchNorm' | 'embeddingDim'>> & {
  embeddingDim: number;
};

/** Fills in the defaults and checks the options; errors name the layer and the field. */
export function resolveStemOptions(owner: string, o: AttentionStemOptions): ResolvedStemOptions {
  const d = STEM_DEFAULTS;
  const filters = o.filters ?? d.filters;
  const heads = o.heads ?? d.heads;
  const block = o.block ?? d.block;
  const r: ResolvedStemOptions = {
    filters,
    heads,
    block,
    values: o.values ?? d.values,
    mixtures: o.mixtures ?? d.mixtures,
    embeddingDim: o.embeddingDim ?? Math.max(1, Math.floor(filters / heads)),
    valueKernel: o.valueKernel ?? d.valueKernel,
    relative: o.relative ?? d.relative,
    relu: o.relu ?? d.relu,
    pool: o.pool ?? block,
  };
  const positive = (field: keyof ResolvedStemOptions) => {
    const v = r[field] as number;
    if (!Number.isInteger(v) || v < 1) throw new Error(`${owner}: ${field} must be a positive integer, got ${v}`);
  };
  for (const f of ['filters', 'heads', 'block', 'mixtures', 'embeddingDim', 'valueKernel', 'pool'] as const)
    positive(f);
  if (filters % heads !== 0) throw new Error(`${owner}: filters ${filters} must be divisible by heads ${heads}`);
  if (r.relative && filters % 2 !== 0) {
    throw new Error(`${owner}: filters ${filters} must be even: relative embeddings split them into rows and columns`);
  }
  if (!STEM_VALUES.includes(r.values)) {
    throw new Error(`${owner}: values must be one of ${STEM_VALUES.join(', ')}, got '${r.values}'`);
  }
  if (block > MAX_BLOCK) throw new Error(`${owner}: block must be at most ${MAX_BLOCK}, got ${block}`);
  return r;
}

/** The attention stem as a tfjs layer: x [B, H, W, d_in] → [B, H/pool, W/pool, filters] (the file's comment has the formula). */
export class AttentionStem extends tf.layers.Layer {
  static className = CLASS;
  readonly options: ResolvedStemOptions;
  readonly batchNormOptions: Required<BatchNormOptions>;
  private wq?: tf.LayerVariable;
  private wk?: tf.LayerVariable;
  private wv?: tf.LayerVariable;
  private embRow?: tf.LayerVariable;
  private embCol?: tf.LayerVariable;
  private embMix?: tf.LayerVariable;
  private relRow?: tf.LayerVariable;
  private relCol?: tf.LayerVariable;
  private norm?: BatchNormWeights;
  private readonly seed?: number;

  constructor(args: AttentionStemArgs = {}) {
    super(args);
    this.seed = args.seed;
    this.options = resolveStemOptions(`${CLASS} '${this.name}'`, args);
    this.batchNormOptions = resolveBatchNormOptions(`${CLASS} '${this.name}'`, args.batchNorm ?? {});
  }

  private fail(message: string): never {
    throw new Error(`${CLASS} '${this.name}': ${message}`);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (shape.length !== 4) this.fail(`input must be [B, H, W, C], got [${shape.join(',')}]`);
    const dIn = shape[3];
    if (dIn === null) this.fail('the channel dimension of the input must be known');
    const { filters, heads, block, values, mixtures, embeddingDim, valueKernel, relative } = this.options;
    // every weight truncated normal with its std, seeded by its name
    const weight = (name: string, shape: number[], stddev: number) =>
      this.addWeight(name, shape, 'float32', tf.initializers.truncatedNormal({ stddev, ...seedOf(this.seed, name) }));
    const projection = dIn ** -0.5;
    this.wq = weight('query_kernel', [dIn, filters], projection);
    this.wk = weight('key_kernel', [dIn, filters], projection);
    if (values === 'mixture') {
      this.wv = weight('value_kernel', [mixtures, dIn, filters], projection);
      const emb = embeddingDim ** -0.5;
      this.embRow = weight('emb_row', [block, embeddingDim], emb);
      this.embCol = weight('emb_col', [block, embeddingDim], emb);
      this.embMix = weight('emb_mix', [mixtures, embeddingDim], emb);
    } else if (values === 'conv') {
      const fanIn = valueKernel * valueKernel * dIn;
      this.wv = weight('value_kernel', [valueKernel, valueKernel, dIn, filters], fanIn ** -0.5);
    } else {
      this.wv = weight('value_kernel', [dIn, filters], projection);
    }
    if (relative) {
      const table = (filters / heads) ** -0.5;
      this.relRow = weight('rel_row', [2 * block - 1, filters / 2], table);
      this.relCol = weight('rel_col', [2 * block - 1, filters / 2], table);
    }
    this.norm = new BatchNormWeights(
      (name, init, trainable) => this.addWeight(`bn_${name}`, [filters], 'float32', init, undefined, trainable),
      this.batchNormOptions,
    );
    this.built = true;
  }

  /** [B, H, W, C] → [B·(H/s)·(W/s), s, s, C]. */
  private toBlocks(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const s = this.options.block;
    const t = tf.transpose(tf.reshape(x, [b, h / s, s, w / s, s, c]), [0, 1, 3, 2, 4, 5]);
    return tf.reshape(t, [(b * h * w) / (s * s), s, s, c]);
  }

  /** Inverse of toBlocks for an image of [b, h, w]. */
  private fromBlocks(y: tf.Tensor4D, b: number, h: number, w: number): tf.Tensor4D {
    const s = this.options.block;
    const c = y.shape[3];
    const t = tf.transpose(tf.reshape(y, [b, h / s, w / s, s, s, c]), [0, 1, 3, 2, 4, 5]);
    return tf.reshape(t, [b, h, w, c]);
  }

  /** Mixture weights p [s, s, m] = softmax_m((embRow[a] + embCol[b])·ν_m). */
  mixtureWeights(): tf.Tensor3D {
    return tf.tidy(() => {
      const { block: s, embeddingDim: e } = this.options;
      const rows = tf.reshape((this.embRow as tf.LayerVariable).read(), [s, 1, e]);
      const cols = tf.reshape((this.embCol as tf.LayerVariable).read(), [1, s, e]);
      const pos = tf.reshape(tf.add(rows, cols), [s * s, e]);
      const logits = tf.matMul(pos, (this.embMix as tf.LayerVariable).read(), false, true);
      return tf.reshape(tf.softmax(logits), [s, s, this.options.mixtures]) as tf.Tensor3D;
    });
  }

  /**
   * The value matrices as stemAttention takes them, [P, d_in, filters]: for 'mixture' one per
   * position in the block, W_V(a, b) = Σ_m p(a,b,m) W_V^m (P = s²); for 'plain' W_V (P = 1).
   */
  valueMatrices(): tf.Tensor3D {
    return tf.tidy(() => {
      const { values, filters, mixtures, block: s } = this.options;
      const wv = (this.wv as tf.LayerVariable).read();
      const dIn = wv.shape[wv.rank - 2] as number;
      if (values === 'plain') return tf.reshape(wv, [1, dIn, filters]) as tf.Tensor3D;
      const p = tf.reshape(this.mixtureWeights(), [s * s, mixtures]);
      return tf.reshape(tf.matMul(p, tf.reshape(wv, [mixtures, dIn * filters])), [s * s, dIn, filters]) as tf.Tensor3D;
    });
  }

  /** The attention of 'conv' values: v a convolution of the image, q and k projections of the blocks. */
  private convValueAttention(x: tf.Tensor4D, xb: tf.Tensor4D): tf.Tensor4D {
    const { filters, block: s, heads, relative } = this.options;
    const [n, , , dIn] = xb.shape;
    const flat = tf.reshape(xb, [n * s * s, dIn]);
    const project = (wt: tf.LayerVariable | undefined) =>
      tf.reshape(tf.matMul(flat, (wt as tf.LayerVariable).read() as tf.Tensor2D), [n, s, s, filters]) as tf.Tensor4D;
    const v = this.toBlocks(tf.conv2d(x, (this.wv as tf.LayerVariable).read() as tf.Tensor4D, 1, 'same'));
    return localAttention2d(project(this.wq), project(this.wk), v, ...this.tables(), {
      kernelSize: 2 * s - 1,
      heads,
      padding: 'masked',
      logits: relative ? 'qk+qr' : 'qk',
    });
  }

  private tables(): [tf.Tensor2D | null, tf.Tensor2D | null] {
    if (!this.options.relative) return [null, null];
    return [
      (this.relRow as tf.LayerVariable).read() as tf.Tensor2D,
      (this.relCol as tf.LayerVariable).read() as tf.Tensor2D,
    ];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      if (x.rank !== 4) this.fail(`input must be [B, H, W, C], got [${x.shape.join(',')}]`);
      const [b, h, w] = x.shape;
      const { block: s, filters, heads, pool, relu } = this.options;
      if (h % s !== 0 || w % s !== 0) this.fail(`input height and width [${h},${w}] must be multiples of block ${s}`);
      const xb = this.toBlocks(x);
      const norm = this.norm as BatchNormWeights;
      const training = kwargs?.training === true && this.trainable;
      const projections = () =>
        [
          (this.wq as tf.LayerVariable).read() as tf.Tensor2D,
          (this.wk as tf.LayerVariable).read() as tf.Tensor2D,
          this.valueMatrices(),
          ...this.tables(),
        ] as const;
      // ReLU after the pooling: max and ReLU commute (ReLU is monotone; the gradient too, ties
      // included), and the pooled tensor is pool² times smaller. Pooling over whole blocks
      // (pool = s) is one op with the batch norm; in training with projected values, one op with the
      // attention too (stemAttentionBlockMax: the attention's output never reaches memory).
      let pooled: tf.Tensor4D;
      if (pool === s && training && this.options.values !== 'conv') {
        const fused = norm.trainWith(xb.shape[0] * s * s, (gamma, beta, epsilon) =>
          stemAttentionBlockMax(xb, ...projections(), gamma, beta, { heads, epsilon }),
        );
        pooled = tf.reshape(fused, [b, h / s, w / s, filters]);
      } else {
        const attended =
          this.options.values === 'conv'
            ? this.convValueAttention(x, xb)
            : stemAttention(xb, ...projections(), { heads });
        if (pool === s) pooled = tf.reshape(norm.applyBlockMax(attended, training), [b, h / s, w / s, filters]);
        else {
          const image = this.fromBlocks(norm.apply(attended, training) as tf.Tensor4D, b, h, w);
          pooled = pool === 1 ? image : tf.maxPool(image, pool, pool, 'valid');
        }
      }
      return relu ? tf.relu(pooled) : pooled;
    });
  }

  /**
   * The attention weights [P, heads, 2s-1, 2s-1] of the image pixels (b, i, j) of x [B, H, W, d_in]: the
   * window centred on the pixel, whose positions outside its s×s block weigh 0. Inference only.
   */
  attentionWeights(x: tf.Tensor4D, pixels: readonly QueryPixel[]): tf.Tensor4D {
    return tf.tidy(() => {
      if (x.rank !== 4) this.fail(`input must be [B, H, W, C], got [${x.shape.join(',')}]`);
      const [, h, w] = x.shape;
      const { block: s, filters, heads, relative } = this.options;
      if (h % s !== 0 || w % s !== 0) this.fail(`input height and width [${h},${w}] must be multiples of block ${s}`);
      const xb = this.toBlocks(x);
      const [n, , , dIn] = xb.shape;
      const flat = tf.reshape(xb, [n * s * s, dIn]) as tf.Tensor2D;
      const project = (v: tf.LayerVariable | undefined) =>
        tf.reshape(tf.matMul(flat, (v as tf.LayerVariable).read() as tf.Tensor2D), [n, s, s, filters]) as tf.Tensor4D;
      const blocksPerRow = w / s;
      const inBlocks = pixels.map(([b, i, j]): QueryPixel => {
        const block = (b * (h / s) + Math.floor(i / s)) * blocksPerRow + Math.floor(j / s);
        return [block, i % s, j % s];
      });
      const options = { kernelSize: 2 * s - 1, heads, padding: 'masked', logits: relative ? 'qk+qr' : 'qk' } as const;
      return localAttentionWeights(project(this.wq), project(this.wk), ...this.tables(), inBlocks, options);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const p = this.options.pool;
    const down = (d: number | null) => (d === null ? null : Math.floor(d / p));
    return [shape[0], down(shape[1]), down(shape[2]), this.options.filters];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.options, batchNorm: { ...this.batchNormOptions } };
  }
}

tf.serialization.registerClass(AttentionStem);
