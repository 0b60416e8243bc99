/**
 * LocalSelfAttention2D: the stand-alone local self-attention layer of SASA.md §1 as a
 * TensorFlow.js layer. x [B, H, W, d_in] → y [B, H/s, W/s, filters]:
 *   q = x W_Q, k = x W_K, v = x W_V (dense 1×1 projections without bias, [d_in, filters] each,
 *   computed as one product with [W_Q | W_K | W_V] and attended to packed: localAttention2dPacked),
 *   y = localAttention2d(q, k, v, relRow, relCol), then 2×2 average pooling with stride 2 when
 *   strides = 2 ('same': an odd side gives ceil(side/2), the last window averaging the pixels it
 *   covers, so the output matches a strided 1×1 convolution's; for even sides one op with the attention,
 *   localAttention2dPackedPooled).
 * positional: 'relative' (learned relRow, relCol [k, filters/2]), 'absolute' (a sinusoidal
 * encoding of (i, j) added to x before the projections; no relative logits), or 'none'.
 * logits 'qr' (relative only) drops W_K. Parameters: 3·d_in·filters + k·filters (relative).
 *
 * Initialisation (the paper gives none): projections LeCun normal (truncated normal, std
 * d_in^-0.5), so q, k, v keep the input's scale; relRow and relCol truncated normal with std
 * (filters/heads)^-0.5, like timm's relative position embeddings. `valueStddev` draws W_V from
 * N(0, valueStddev²) instead (RetinaNet's attention heads, SASA.md §5: N(0, 0.01)).
 */

import { avgPool } from '../ops/avg_pool.js';
import {
  type AttentionLayerOptions,
  type LocalAttentionOptions,
  type LogitsMode,
  type PaddingMode,
  type PositionalEncoding,
  resolveAttentionOptions,
} from '../ops/local_attention/options.js';
import {
  localAttention2dPacked,
  localAttention2dPackedInference,
  localAttention2dPackedPooled,
} from '../ops/local_attention/packed.js';
import { localAttentionWeights, type QueryPixel } from '../ops/local_attention/weights.js';
import * as tf from '../tf.js';
import { sinusoidalEncoding2d } from './positional_encoding.js';
import { seedOf } from './seeds.js';

/** The attention options (defaults and limits: ops/local_attention/options.ts) and the layer's own. */
export interface LocalSelfAttention2DArgs extends AttentionLayerOptions {
  /** Output channels d_out; divisible by heads. */
  filters: number;
  /** 1, or 2 for attention followed by 2×2 average pooling. Default 1. */
  strides?: number;
  /** Seeds the initial weights (layers/seeds.ts); unseeded by default. */
  seed?: number;
  /** W_V ~ N(0, valueStddev²) instead of the projections' initialiser. Default: unset. */
  valueStddev?: number;
  name?: string;
  trainable?: boolean;
  inputShape?: number[];
  batchInputShape?: number[];
}

/**
 * A batch norm (and its ReLU) after the layer, folded in at inference: BN(y) = y · valueScale + shift per
 * output channel [filters] (models/folded_inference.ts).
 */
export interface ValueFold {
  valueScale: tf.Tensor1D;
  shift: tf.Tensor1D;
  relu: boolean;
}

const CLASS = 'LocalSelfAttention2D';

function fail(name: string, message: string): never {
  throw new Error(`${CLASS} '${name}': ${message}`);
}

/**
 * Stand-alone local self-attention as a tfjs layer: x [B, H, W, d_in] → [B, H/s, W/s, filters], each pixel
 * attending to its k×k neighbourhood with `heads` heads (see the file's comment for the formula).
 */
export class LocalSelfAttention2D extends tf.layers.Layer {
  static className = CLASS;
  readonly filters: number;
  readonly kernelSize: number;
  readonly heads: number;
  readonly strides: number;
  readonly positional: PositionalEncoding;
  readonly logits: LogitsMode;
  readonly scale: number | 'none' | undefined;
  readonly attentionPadding: PaddingMode;
  private readonly seed?: number;
  readonly valueStddev: number | undefined;
  private wq?: tf.LayerVariable;
  private wk?: tf.LayerVariable;
  private wv?: tf.LayerVariable;
  private relRow?: tf.LayerVariable;
  private relCol?: tf.LayerVariable;
  private encodings = new Map<string, tf.Tensor3D>();
  /**
   * The packed kernels, the tensors they came from (W_V's scale last if any) and the gradient tape they were made
   * on (packedKernels): kept by the layer at inference, owned by the caller's scope when taped.
   */
  private packed?: { sources: object[]; taped: boolean; tape: object | null; weights: tf.Tensor2D };

  constructor(args: LocalSelfAttention2DArgs) {
    super(args);
    const name = this.name;
    this.filters = args.filters;
    const options = resolveAttentionOptions(args, (field, problem) => fail(name, `${field} ${problem}`));
    this.kernelSize = options.kernelSize;
    this.heads = options.heads;
    this.positional = options.positional;
    this.logits = options.logits;
    this.scale = options.scale;
    this.attentionPadding = options.padding;
    this.strides = args.strides ?? 1;
    this.seed = args.seed;
    this.valueStddev = args.valueStddev;
    if (!Number.isInteger(this.filters) || this.filters < 1)
      fail(name, `filters must be a positive integer, got ${this.filters}`);
    if (this.filters % this.heads !== 0) fail(name, `filters ${this.filters} must be divisible by heads ${this.heads}`);
    if (this.strides !== 1 && this.strides !== 2) fail(name, `strides must be 1 or 2, got ${this.strides}`);
    if (this.valueStddev !== undefined && !(this.valueStddev > 0 && Number.isFinite(this.valueStddev))) {
      fail(name, `valueStddev must be a positive number, got ${this.valueStddev}`);
    }
    if (this.positional === 'relative' && this.filters % 2 !== 0) {
      fail(name, `filters ${this.filters} must be even: relative embeddings split them into rows and columns`);
    }
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (shape.length !== 4) fail(this.name, `input must be [B, H, W, C], got [${shape.join(',')}]`);
    const dIn = shape[3];
    if (dIn === null) fail(this.name, 'the channel dimension of the input must be known');
    if (this.positional === 'absolute' && dIn % 4 !== 0) {
      fail(this.name, `absolute positions need input channels divisible by 4, got ${dIn}`);
    }
    // every weight truncated normal with its std, seeded by its name (W_V normal with valueStddev if given)
    const weight = (name: string, shape: number[], stddev: number) =>
      this.addWeight(name, shape, 'float32', tf.initializers.truncatedNormal({ stddev, ...seedOf(this.seed, name) }));
    const projection = dIn ** -0.5;
    const table = (this.filters / this.heads) ** -0.5;
    this.wq = weight('query_kernel', [dIn, this.filters], projection);
    if (this.logits !== 'qr') this.wk = weight('key_kernel', [dIn, this.filters], projection);
    this.wv =
      this.valueStddev === undefined
        ? weight('value_kernel', [dIn, this.filters], projection)
        : this.addWeight(
            'value_kernel',
            [dIn, this.filters],
            'float32',
            tf.initializers.randomNormal({ stddev: this.valueStddev, ...seedOf(this.seed, 'value_kernel') }),
          );
    if (this.positional === 'relative') {
      this.relRow = weight('rel_row', [this.kernelSize, this.filters / 2], table);
      this.relCol = weight('rel_col', [this.kernelSize, this.filters / 2], table);
    }
    this.built = true;
  }

  private encoding(h: number, w: number, c: number): tf.Tensor3D {
    const key = `${h}x${w}x${c}`;
    let e = this.encodings.get(key);
    if (!e) {
      e = tf.keep(sinusoidalEncoding2d(h, w, c));
      this.encodings.set(key, e);
    }
    return e;
  }

  /**
   * [W_Q | W_K | W_V] [C, P·filters] (W_K absent for logits 'qr'): one Concat along the last axis (the native
   * backend's copies a row at a time; its gradient is one SplitV). Made once per set of kernels and reused by
   * every call until a kernel (or valueScale) is a new tensor:
   * - in training or under a gradient scope (taped), built in the graph on the current tape, so that the
   *   gradients flow through it (summed over the calls: the subnets apply one layer to five pyramid levels),
   *   and left to the caller's scope, which frees it; a new tape, or its disposal, makes a new one;
   * - otherwise kept by the layer until it is replaced or the layer disposed.
   * valueScale [filters] (inference only) multiplies W_V's columns.
   */
  private packedKernels(training: boolean, valueScale?: tf.Tensor1D): tf.Tensor2D {
    const kernels = [this.wq, this.wk, this.wv].filter((v): v is tf.LayerVariable => v !== undefined);
    const last = kernels.length - 1;
    const read = (v: tf.LayerVariable, i: number) =>
      i === last && valueScale ? tf.mul(v.read(), valueScale) : v.read();
    const pack = () => tf.concat(kernels.map(read), 1) as tf.Tensor2D;
    const state = (tf.engine() as unknown as { state: { activeTape: object | null; gradientDepth: number } }).state;
    const taped = training || state.gradientDepth > 0;
    const tape = taped ? state.activeTape : null;
    const sources = [...kernels.map((v) => v.read().dataId), ...(valueScale ? [valueScale.dataId] : [])];
    const kept = this.packed;
    const same =
      kept !== undefined &&
      !kept.weights.isDisposed &&
      kept.taped === taped &&
      kept.tape === tape &&
      kept.sources.length === sources.length &&
      kept.sources.every((d, i) => d === sources[i]);
    if (same) return kept.weights;
    if (kept && !kept.taped) kept.weights.dispose();
    const weights = taped ? pack() : tf.keep(tf.tidy(pack));
    this.packed = { sources, taped, tape, weights };
    return weights;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs?: tf.serialization.ConfigDict): tf.Tensor {
    // Outside the tidy: in training the packed kernels outlive this call, for the layer's other calls on the tape.
    const packed = this.packedKernels(kwargs?.training === true);
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const qkv = this.projected(x, packed);
      const [, h, w] = qkv.shape;
      const tables = [this.table(this.relRow), this.table(this.relCol)] as const;
      // a stride over even sides: the pooling fused into the attention (forward and gradient)
      if (this.strides === 2 && h % 2 === 0 && w % 2 === 0) {
        return localAttention2dPackedPooled(qkv, ...tables, this.attentionOptions());
      }
      const y = localAttention2dPacked(qkv, ...tables, this.attentionOptions());
      return this.strides === 2 ? avgPool(y, 2, 2, 'same') : y;
    });
  }

  /**
   * Inference with the batch norm after the layer folded in: relu?(BN(layer(x))) = relu?(layer'(x) + shift), layer'
   * the layer with W_V's columns × valueScale (each output is a convex combination of values: the softmax weights
   * sum to 1, and so do the 2×2 average's). x [B, H, W, d_in] → [B, H/s, W/s, filters]. The pooling (for an even
   * height and width), shift and ReLU join the attention kernel's write-back. Not differentiable.
   */
  applyFolded(x: tf.Tensor4D, fold: ValueFold): tf.Tensor4D {
    return tf.tidy(() => {
      const qkv = this.projected(x, this.packedKernels(false, fold.valueScale));
      const [, h, w] = qkv.shape;
      const pool = this.strides === 2 && h % 2 === 0 && w % 2 === 0;
      const poolAfter = this.strides === 2 && !pool;
      const epilogue = { bias: fold.shift, relu: fold.relu && !poolAfter, pool };
      const tables = [this.table(this.relRow), this.table(this.relCol)] as const;
      const y = localAttention2dPackedInference(qkv, ...tables, this.attentionOptions(), epilogue);
      if (!poolAfter) return y;
      const pooled = avgPool(y, 2, 2, 'same');
      return fold.relu ? tf.relu(pooled) : pooled;
    });
  }

  /** q|k|v [B, H, W, P·filters] = (x (+ positions)) · packed [d_in, P·filters]: one product for all three projections. */
  private projected(inputs: tf.Tensor4D, packed: tf.Tensor2D): tf.Tensor4D {
    const { flat, shape } = this.pixelRows(inputs);
    const [b, h, w] = shape;
    return tf.reshape(tf.matMul(flat, packed), [b, h, w, packed.shape[1]]);
  }

  /** x [B, H, W, C] (+ the absolute positions) as rows [B·H·W, C], and x's shape. */
  private pixelRows(inputs: tf.Tensor4D): { flat: tf.Tensor2D; shape: [number, number, number, number] } {
    let x = inputs;
    if (x.rank !== 4) fail(this.name, `input must be [B, H, W, C], got [${x.shape.join(',')}]`);
    const [b, h, w, c] = x.shape;
    if (this.positional === 'absolute') x = tf.add(x, this.encoding(h, w, c));
    return { flat: tf.reshape(x, [b * h * w, c]), shape: [b, h, w, c] };
  }

  private table(v: tf.LayerVariable | undefined): tf.Tensor2D | null {
    return (v?.read() as tf.Tensor2D | undefined) ?? null;
  }

  private attentionOptions(): LocalAttentionOptions {
    return {
      kernelSize: this.kernelSize,
      heads: this.heads,
      logits: this.logits,
      padding: this.attentionPadding,
      ...(this.scale === undefined ? {} : { scale: this.scale }),
    };
  }

  /**
   * The attention weights [P, heads, k, k] of the pixels (b, i, j) of the layer's input x [B, H, W, d_in]
   * (the attention runs at the input's resolution; a stride pools after it). Inference only.
   */
  attentionWeights(inputs: tf.Tensor4D, pixels: readonly QueryPixel[]): tf.Tensor4D {
    return tf.tidy(() => {
      const { flat, shape } = this.pixelRows(inputs);
      const [b, h, w] = shape;
      const project = (v: tf.LayerVariable) =>
        tf.reshape(tf.matMul(flat, v.read() as tf.Tensor2D), [b, h, w, this.filters]) as tf.Tensor4D;
      return localAttentionWeights(
        project(this.wq as tf.LayerVariable),
        this.wk ? project(this.wk) : null,
        this.table(this.relRow),
        this.table(this.relCol),
        pixels,
        this.attentionOptions(),
      );
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const down = (d: number | null) => (d === null ? null : this.strides === 2 ? Math.ceil(d / 2) : d);
    return [shape[0], down(shape[1]), down(shape[2]), this.filters];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      heads: this.heads,
      strides: this.strides,
      positional: this.positional,
      logits: this.logits,
      scale: this.scale ?? null,
      padding: this.attentionPadding,
      ...(this.valueStddev === undefined ? {} : { valueStddev: this.valueStddev }),
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const { scale, ...rest } = config;
    return new cls({ ...rest, ...(scale === null ? {} : { scale }) });
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    for (const e of this.encodings.values()) e.dispose();
    this.encodings.clear();
    this.packed?.weights.dispose();
    this.packed = undefined;
    return super.dispose();
  }
}

tf.serialization.registerClass(LocalSelfAttention2D);

/** Factory in the style of tf.layers.*. */
export function localSelfAttention2d(args: LocalSelfAttention2DArgs): LocalSelfAttention2D {
  return new LocalSelfAttention2D(args);
}
