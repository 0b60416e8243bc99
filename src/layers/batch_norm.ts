/**
 * BatchNorm: batch normalisation over the channels (last axis) of [..., C] data.
 * Training (kwargs.training): y = (x - mean_B) / sqrt(var_B + ε) · gamma + beta with the batch's
 * statistics through the fused `batchNormTrain` op, and the moving statistics updated as
 *   moving = decay · moving + (1 - decay) · stat   (variance with Bessel's correction, as PyTorch).
 * Inference: the same formula with the moving statistics (tfjs's FusedBatchNorm).
 * `decay` is Keras's `momentum` (PyTorch's momentum is 1 - decay); the paper uses 0.9999 on
 * ImageNet, 0.9 is the default here. `gammaInitializer: 'zeros'` gives the zero-initialised last
 * BN of a residual block. `relu: true` applies max(0, y) after it, in the same kernel (training)
 * and so in one pass over the data instead of two. `residual: true` makes it the last batch norm of a residual
 * block: inputs [x, shortcut] → relu?(BN(x) + shortcut) (`batchNormAddTrain` in training, which keeps neither
 * BN(x) nor the shortcut for the gradient).
 *
 * The statistics code lives in `BatchNormWeights` so that layers with a batch norm inside (the
 * attention stem) share it.
 *
 * Frozen batch norm (Keras's rule, torchvision's FrozenBatchNorm2d): a layer set `trainable = false`
 * normalises with its moving statistics even in training, does not update them, and its gamma and
 * beta are not trained.
 */

import {
  BATCH_NORM_EPSILON,
  type BatchNormTrainResult,
  batchNormAddTrain,
  batchNormBlockMax,
  batchNormTrain,
  epsilonProblem,
} from '../ops/batch_norm_train.js';
import { movingStatsUpdate } from '../ops/moving_stats.js';
import * as tf from '../tf.js';

/** Defaults of the batch norm layers (and of a model config's bnDecay, bnEpsilon). */
export const BATCH_NORM_DEFAULTS = { decay: 0.9, epsilon: BATCH_NORM_EPSILON } as const;

/** What is wrong with a moving-average decay (undefined: nothing): a number in [0, 1). */
export function decayProblem(decay: unknown): string | undefined {
  return typeof decay === 'number' && decay >= 0 && decay < 1 ? undefined : `must be in [0, 1), got ${String(decay)}`;
}

/**
 * A batch norm's hyperparameters, for the BatchNorm layer and the attention stem's batch norm; defaults in
 * `BATCH_NORM_DEFAULTS` (layers/batch_norm.ts).
 */
export interface BatchNormOptions {
  /** Moving-average decay of the statistics. Default 0.9. */
  decay?: number;
  /** ε added to the variance. Default 1e-5. */
  epsilon?: number;
  /** Initial gamma: 'ones' (default) or 'zeros'. */
  gammaInitializer?: 'ones' | 'zeros';
}

/**
 * Constructor arguments of the {@link BatchNorm} layer: its options, the fused ReLU, and tfjs-layers' base
 * layer arguments (name, trainable, input shape).
 */
export interface BatchNormArgs extends BatchNormOptions {
  /** y = max(0, y) after the normalisation. Default false. */
  relu?: boolean;
  /** Inputs [x, shortcut] of x's shape, y = BN(x) + shortcut before the ReLU. Default false. */
  residual?: boolean;
  name?: string;
  trainable?: boolean;
  inputShape?: number[];
  batchInputShape?: number[];
}

/** Resolved options with their checks; `owner` names the layer in errors. */
export function resolveBatchNormOptions(owner: string, o: BatchNormOptions): Required<BatchNormOptions> {
  const decay = o.decay ?? BATCH_NORM_DEFAULTS.decay;
  const epsilon = o.epsilon ?? BATCH_NORM_DEFAULTS.epsilon;
  const gammaInitializer = o.gammaInitializer ?? 'ones';
  for (const [field, problem] of [
    ['decay', decayProblem(decay)],
    ['epsilon', epsilonProblem(epsilon)],
  ] as const) {
    if (problem) throw new Error(`${owner}: ${field} ${problem}`);
  }
  if (gammaInitializer !== 'ones' && gammaInitializer !== 'zeros') {
    throw new Error(`${owner}: gammaInitializer must be 'ones' or 'zeros', got '${gammaInitializer}'`);
  }
  return { decay, epsilon, gammaInitializer };
}

type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** Adds one weight [channels] to the owning layer (its protected addWeight). */
export type AddWeight = (name: string, init: Initializer, trainable: boolean) => tf.LayerVariable;

/** The four weights of a batch norm (gamma, beta, moving_mean, moving_variance), added through `add`. */
export class BatchNormWeights {
  readonly gamma: tf.LayerVariable;
  readonly beta: tf.LayerVariable;
  readonly movingMean: tf.LayerVariable;
  readonly movingVariance: tf.LayerVariable;

  constructor(
    add: AddWeight,
    readonly options: Required<BatchNormOptions>,
  ) {
    this.gamma = add(
      'gamma',
      options.gammaInitializer === 'zeros' ? tf.initializers.zeros() : tf.initializers.ones(),
      true,
    );
    this.beta = add('beta', tf.initializers.zeros(), true);
    this.movingMean = add('moving_mean', tf.initializers.zeros(), false);
    this.movingVariance = add('moving_variance', tf.initializers.ones(), false);
  }

  /** Normalises x [..., C] (then max(0, ·) with relu); in training with batch statistics, updating the moving ones. */
  apply(x: tf.Tensor, training: boolean, relu = false): tf.Tensor {
    const { epsilon } = this.options;
    if (!training) {
      const [mean, variance, beta, gamma] = [this.movingMean, this.movingVariance, this.beta, this.gamma].map((v) =>
        v.read(),
      );
      const y = tf.batchNorm(x, mean, variance, beta, gamma, epsilon);
      return relu ? tf.relu(y) : y;
    }
    return this.trainWith(x.size / x.shape[x.shape.length - 1], (g, b) => batchNormTrain(x, g, b, epsilon, relu));
  }

  /** relu?(BN(x) + residual) for x, residual [..., C]; in training with batch statistics, updating the moving ones. */
  applyAdd(x: tf.Tensor, residual: tf.Tensor, training: boolean, relu: boolean): tf.Tensor {
    if (!training) {
      const y = tf.add(this.apply(x, false), residual);
      return relu ? tf.relu(y) : y;
    }
    const rows = x.size / x.shape[x.shape.length - 1];
    return this.trainWith(rows, (gamma, beta, epsilon) => batchNormAddTrain(x, residual, gamma, beta, epsilon, relu));
  }

  /**
   * The normalised blocks x [N, H, W, C] max-pooled over each block: [N, 1, 1, C]
   * (batchNormBlockMax in training, which never materialises the normalised blocks).
   */
  applyBlockMax(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const { epsilon } = this.options;
    const [, h, w] = x.shape;
    if (!training) {
      const y = tf.batchNorm(
        x,
        this.movingMean.read(),
        this.movingVariance.read(),
        this.beta.read(),
        this.gamma.read(),
        epsilon,
      ) as tf.Tensor4D;
      return tf.maxPool(y, [h, w], [h, w], 'valid') as tf.Tensor4D;
    }
    return this.trainWith(x.size / x.shape[3], (gamma, beta) =>
      batchNormBlockMax(x, gamma, beta, epsilon),
    ) as tf.Tensor4D;
  }

  /**
   * Training through an op that normalises with its own batch statistics over `rows` values per channel
   * (`normalise(gamma, beta, epsilon)`: y, mean, variance; e.g. the attention stem's fused batch norm):
   * its y, the moving statistics updated.
   */
  trainWith(
    rows: number,
    normalise: (gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number) => BatchNormTrainResult,
  ): tf.Tensor {
    const { y, mean, variance } = normalise(
      this.gamma.read() as tf.Tensor1D,
      this.beta.read() as tf.Tensor1D,
      this.options.epsilon,
    );
    this.updateMoving(rows, mean, variance);
    return y;
  }

  /** moving = decay · moving + (1 - decay) · stat (the variance with Bessel's correction) over `rows` values. */
  private updateMoving(rows: number, mean: tf.Tensor, variance: tf.Tensor): void {
    const { decay } = this.options;
    const unbiased = rows > 1 ? rows / (rows - 1) : 1;
    tf.tidy(() => {
      const next = movingStatsUpdate(
        this.movingMean.read(),
        this.movingVariance.read(),
        mean,
        variance,
        decay,
        unbiased,
      );
      this.movingMean.write(next.mean);
      this.movingVariance.write(next.variance);
    });
  }
}

const CLASS = 'BatchNorm';

/** Batch norm over the last axis as a tfjs layer: x [..., C] → y [..., C] (optionally ReLU'd); see the file's comment. */
export class BatchNorm extends tf.layers.Layer {
  static className = CLASS;
  readonly options: Required<BatchNormOptions>;
  readonly relu: boolean;
  readonly residual: boolean;
  private norm?: BatchNormWeights;

  constructor(args: BatchNormArgs = {}) {
    super(args);
    this.options = resolveBatchNormOptions(`${CLASS} '${this.name}'`, args);
    if (args.relu !== undefined && typeof args.relu !== 'boolean') {
      throw new Error(`${CLASS} '${this.name}': relu must be true or false, got ${String(args.relu)}`);
    }
    this.relu = args.relu ?? false;
    if (args.residual !== undefined && typeof args.residual !== 'boolean') {
      throw new Error(`${CLASS} '${this.name}': residual must be true or false, got ${String(args.residual)}`);
    }
    this.residual = args.residual ?? false;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = shape[shape.length - 1];
    if (c === null || c === undefined) throw new Error(`${CLASS} '${this.name}': the channel dimension must be known`);
    this.norm = new BatchNormWeights(
      (name, init, trainable) => this.addWeight(name, [c], 'float32', init, undefined, trainable),
      this.options,
    );
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor {
    const [x, shortcut] = Array.isArray(inputs) ? inputs : [inputs];
    const norm = this.norm as BatchNormWeights;
    const training = kwargs?.training === true && this.trainable;
    if (!this.residual) return norm.apply(x, training, this.relu);
    if (!shortcut || !tf.util.arraysEqual(shortcut.shape, x.shape)) {
      throw new Error(
        `${CLASS} '${this.name}': a residual batch norm takes [x, shortcut] of one shape, got ${Array.isArray(inputs) ? inputs.map((t) => `[${t.shape}]`).join(', ') : 'one tensor'}`,
      );
    }
    return norm.applyAdd(x, shortcut, training, this.relu);
  }

  /** The current values of the four weights [C] (what inference uses: gamma, beta and the moving statistics). */
  inferenceWeights(): { gamma: tf.Tensor; beta: tf.Tensor; movingMean: tf.Tensor; movingVariance: tf.Tensor } {
    const n = this.norm as BatchNormWeights;
    return {
      gamma: n.gamma.read(),
      beta: n.beta.read(),
      movingMean: n.movingMean.read(),
      movingVariance: n.movingVariance.read(),
    };
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.options, relu: this.relu, residual: this.residual };
  }
}

tf.serialization.registerClass(BatchNorm);
