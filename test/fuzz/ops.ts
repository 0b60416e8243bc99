/**
 * What the fuzzer runs: for each native op, a generator of random cases (shapes, attributes,
 * dtypes, views; sometimes bad) and the public op that runs one (tf.conv2d, tf.matMul, our ops…).
 */

import { stemAttention } from '../../src/ops/attention_stem.js';
import { stemAttentionBlockMax } from '../../src/ops/attention_stem_block_max.js';
import { avgPool } from '../../src/ops/avg_pool.js';
import { batchNormBlockMax, batchNormTrain } from '../../src/ops/batch_norm_train.js';
import { convResidualRelu } from '../../src/ops/conv_residual.js';
import { localAttention2d } from '../../src/ops/local_attention/op.js';
import {
  localAttention2dPacked,
  localAttention2dPackedInference,
  localAttention2dPackedPooled,
} from '../../src/ops/local_attention/packed.js';
import { movingStatsUpdate } from '../../src/ops/moving_stats.js';
import { sgdUpdate } from '../../src/ops/sgd_update.js';
import * as tf from '../../src/tf.js';
import type { FuzzCase, OpRunner, Slack } from './harness.js';
import type { InputSpec, Random } from './random.js';

type Draft = Pick<FuzzCase, 'inputs' | 'attrs' | 'grad' | 'reduction' | 'looseSpecial'>;

export interface FuzzOp {
  name: string;
  generate(r: Random): Draft;
  run: OpRunner;
  /** Extra tolerance where the op amplifies roundings (harness.ts). */
  slack?: Slack;
}

type T = tf.Tensor;
type A = Record<string, unknown>;
/** Attributes travel as unknown: the fuzzer feeds ops values their types forbid. */
// biome-ignore lint/suspicious/noExplicitAny: deliberately untyped, see above
type Any = any;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** An NHWC image shape, sometimes of the wrong rank. */
function imageShape(r: Random): number[] {
  return r.chance(0.05) ? r.shape(r.pick([2, 3, 5])) : [r.int(1, 3), r.dim() + 1, r.dim() + 1, r.int(1, 6)];
}

function pad(r: Random): unknown {
  if (r.chance(0.07)) return r.pick([0, 1, 2]);
  if (!r.chance(0.03)) return r.pick(['same', 'valid']);
  r.unusual = true;
  return r.pick([-1, 1.5, 'full']);
}

function pair(r: Random, good: () => number): unknown {
  return r.chance(0.3) ? [r.attr(good), r.attr(good)] : r.attr(good);
}

const conv: FuzzOp = {
  name: 'conv2d',
  generate(r) {
    const x = imageShape(r);
    const cin = r.chance(0.05) ? r.int(1, 4) : (x[x.length - 1] ?? 1);
    const filter = [r.int(1, 4), r.int(1, 4), cin, r.chance(0.03) ? 0 : r.int(1, 5)];
    const strides = pair(r, () => r.int(1, 3));
    const dilations = r.chance(0.2) && strides === 1 ? r.attr(() => r.int(1, 3)) : 1;
    const dimRoundingMode = r.chance(0.1) ? r.pick(['floor', 'round', 'ceil']) : undefined;
    const attrs = { strides, pad: pad(r), dilations, dimRoundingMode };
    const grad = r.chance(0.4);
    // tfjs's Conv2D gradient drops dimRoundingMode: dy then has another shape than the gradient
    // kernels compute (cpu reads it wrongly, native refuses).
    if (grad && dimRoundingMode) r.unusual = true;
    return { inputs: [r.input(x), r.input(filter)], attrs, grad, reduction: size(x) };
  },
  run: ([x, f], a: A) =>
    tf.conv2d(x as Any, f as Any, a.strides as Any, a.pad as Any, 'NHWC', a.dilations as Any, a.dimRoundingMode as Any),
};

const fusedConv: FuzzOp = {
  name: 'fused.conv2d',
  generate(r) {
    const d = conv.generate(r);
    const cout = (d.inputs[1] as InputSpec).shape[3];
    const bias = r.chance(0.8) ? r.input(r.pick([[cout], [1], [1, 1, 1, cout], [cout + 1], []])) : null;
    const activation = r.pick(['linear', 'relu', 'relu', 'elu', 'relu6']);
    return {
      ...d,
      inputs: [...d.inputs, bias],
      attrs: { ...d.attrs, activation },
      grad: d.grad && activation !== 'elu',
    };
  },
  run: ([x, filter, bias], a: A) =>
    tf.fused.conv2d({
      x: x as Any,
      filter: filter as Any,
      strides: a.strides as Any,
      pad: a.pad as Any,
      dilations: a.dilations as Any,
      dimRoundingMode: a.dimRoundingMode as Any,
      bias: bias ?? undefined,
      activation: a.activation as Any,
    }),
};

/** convResidualRelu (a block end at inference): same-padded conv + bias + residual, then ReLU; no gradient. */
const convResidual: FuzzOp = {
  name: 'convResidualRelu',
  generate(r) {
    const x = imageShape(r);
    const c = x[3] ?? 1;
    const k = r.int(1, 3);
    const filter = [k, k, r.chance(0.05) ? c + 1 : c, r.int(1, 5)];
    const strides = r.chance(0.05) ? r.attr(() => r.int(1, 2)) : r.int(1, 2);
    const out = [
      x[0] ?? 1,
      Math.ceil((x[1] ?? 1) / Number(strides)),
      Math.ceil((x[2] ?? 1) / Number(strides)),
      filter[3],
    ];
    const residual = r.chance(0.05) ? [...out.slice(0, 3), out[3] + 1] : out;
    const bias = [r.chance(0.05) ? filter[3] + 1 : filter[3]];
    return {
      inputs: [r.input(x), r.input(filter), r.input(bias), r.input(residual)],
      attrs: { strides },
      grad: false,
      reduction: size(filter.slice(0, 3)),
    };
  },
  run: ([x, f, b, res], a: A) => convResidualRelu(x as Any, f as Any, b as Any, res as Any, a.strides as Any),
};

/**
 * `broadcast`: 'any' batch dimensions that broadcast; 'flat' ones tfjs's fused.matMul handles
 * (it flattens them, so one side's batch must be 1 or equal); 'none' equal ones (tfjs's
 * BatchMatMul gradient does not sum over broadcast dimensions).
 */
function matMulDraft(r: Random, broadcast: 'any' | 'flat' | 'none'): Draft {
  const [m, k, n] = [r.dim(), r.chance(0.05) ? 0 : r.int(1, 9), r.dim()];
  const batch = r.shape(r.int(0, 4), 16);
  const rank = r.int(0, batch.length);
  const batchOf = (): number[] => {
    if (broadcast === 'none') return batch;
    if (broadcast === 'flat') return r.chance(0.3) ? batch.slice(rank).map(() => 1) : batch;
    return batch.slice(r.int(0, batch.length)).map((d) => (r.chance(0.3) ? 1 : d));
  };
  const [ta, tb] = [r.chance(0.5), r.chance(0.5)];
  const a = [...batchOf(), ...(ta ? [k, m] : [m, k])];
  const b = [...batchOf(), ...(tb ? [n, k] : [k, n])];
  if (r.chance(0.05)) b[b.length - (tb ? 1 : 2)] += 1;
  const grad = broadcast !== 'any';
  return { inputs: [r.input(a), r.input(b)], attrs: { ta, tb }, grad, reduction: grad ? size(a) + size(b) : k };
}

/**
 * a · b with the batch dimensions broadcast first on the cpu reference: tfjs's cpu BatchMatMul
 * pairs a[i % batchA] with b[i % batchB], wrong when a and b broadcast in different dimensions
 * (e.g. [2,3,7] · [3,1,7,6]); the native kernel pairs them by index tables.
 */
function referenceBroadcast(a: T, b: T): [T, T] {
  if (tf.getBackend() !== 'cpu' || a.rank < 2 || b.rank < 2) return [a, b];
  try {
    const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    return [tf.broadcastTo(a, [...outer, ...a.shape.slice(-2)]), tf.broadcastTo(b, [...outer, ...b.shape.slice(-2)])];
  } catch {
    return [a, b];
  }
}

const matMul: FuzzOp = {
  name: 'matMul',
  generate: (r) => matMulDraft(r, r.chance(0.3) ? 'none' : 'any'),
  run: ([a, b], at: A) => tf.matMul(...referenceBroadcast(a as T, b as T), at.ta as boolean, at.tb as boolean),
};

const fusedMatMul: FuzzOp = {
  name: 'fused.matMul',
  generate(r) {
    const d = matMulDraft(r, r.chance(0.3) ? 'none' : 'flat');
    const [a, b] = d.inputs as InputSpec[];
    const n = b.shape[b.shape.length - (d.attrs.tb ? 2 : 1)];
    const m = a.shape[a.shape.length - (d.attrs.ta ? 1 : 2)];
    const bias = r.chance(0.8) ? r.input(r.pick([[n], [1], [m, n], [m, 1], [n + 1], [2, m, n]])) : null;
    const activation = r.pick(['linear', 'relu', 'relu', 'elu']);
    return { ...d, inputs: [a, b, bias], attrs: { ...d.attrs, activation }, grad: d.grad && activation !== 'elu' };
  },
  run: ([a, b, bias], at: A) =>
    tf.fused.matMul({
      a: a as T,
      b: b as T,
      transposeA: at.ta as boolean,
      transposeB: at.tb as boolean,
      bias: bias ?? undefined,
      activation: at.activation as Any,
    }),
};

const fusedBatchNorm: FuzzOp = {
  name: 'batchNorm',
  generate(r) {
    const x = r.shape(r.int(1, 5));
    const c = x[x.length - 1];
    const param = () => r.input(r.chance(0.05) ? [c + 1] : r.chance(0.1) ? x : [c]);
    const epsilon = r.attr(() => r.pick([1e-3, 1e-5, 0.1]));
    const inputs = [r.input(x), param(), r.chance(0.2) ? { ...param(), special: false } : param()];
    inputs[2].shape = inputs[2].shape.slice();
    return {
      inputs: [...inputs, r.chance(0.7) ? param() : null, r.chance(0.7) ? param() : null],
      attrs: { epsilon },
      grad: false,
      reduction: 1,
    };
  },
  run: ([x, mean, variance, offset, scale], a: A) =>
    tf.batchNorm(
      x as T,
      tf.abs(mean as T),
      tf.abs(variance as T),
      offset ?? undefined,
      scale ?? undefined,
      a.epsilon as number,
    ),
};

function bnDraft(r: Random, rank: number): Draft {
  const x = r.shape(rank);
  const c = x[x.length - 1] ?? 1;
  const param = () => r.input(r.chance(0.05) ? [c + 1] : r.chance(0.05) ? [1, c] : [c]);
  const epsilon = r.attr(() => r.pick([1e-3, 1e-5]));
  return {
    inputs: [r.input(x), param(), param()],
    attrs: { epsilon, relu: r.chance(0.3) },
    grad: r.chance(0.4),
    reduction: size(x),
  };
}

/** float32's unit roundoff, 2⁻²⁴. */
const UNIT_ROUNDOFF = 2 ** -24;

/**
 * The batch norms' conditioning, as extra tolerance per channel j (inputs x [..., C], gamma, beta; cpu's
 * outputs y, mean, variance, then with grad dx, dgamma, dbeta). Both backends compute x̂ = (x − mean)/σ,
 * σ = √(variance + ε), with an absolute error in x − mean of the float32 rounding of |x| and of the mean:
 * the native kernel folds y = x·a + (β − mean·a), a = γ/σ, so x·a and mean·a are rounded separately
 * before they cancel; cpu sums the M rows of the mean in float32 (error ≤ M·u·max|x|). That is
 * e = u·(M + 8)·max|x_j| (8: the roundings of a, x·a, mean·a and the shift, over |x| and |mean| ≤ max|x|),
 * and normalisation multiplies it by 1/σ, up to 1/√ε ≈ 316 where a channel has one or two values
 * (variance ~0), far beyond the reduction-scaled tolerance of harness.ts. Propagated:
 * y (and the block max, the ReLU): |γ|·e/σ; dgamma = Σdy·x̂ (|dy| ≤ 1): M·e/σ;
 * dx = (γ/σ)·(dy − mean(dy) − x̂·mean(dy·x̂)): (|γ|/σ)·(2√M·e/σ + 4u) (|x̂| ≤ √M; 4u: the folded
 * dy·k1 + k3 cancelling); the mean, variance and dbeta are well conditioned (no slack). Channels
 * with a non-finite γ, variance or x get none (the non-finite rules of harness.ts apply).
 */
const bnSlack: Slack = ([x, gamma], ref, c) => {
  const channels = gamma?.length ?? 1;
  const rows = (x?.length ?? 0) / channels;
  const epsilon = c.attrs.epsilon as number;
  const bound = Array.from({ length: channels }, (_, j) => {
    let xMax = 0;
    for (let i = j; i < (x?.length ?? 0); i += channels) xMax = Math.max(xMax, Math.abs(x?.[i] ?? 0));
    const inv = 1 / Math.sqrt(ref[2][j] + epsilon);
    const kappa = Math.abs(gamma?.[j] ?? 1) * inv;
    const e = UNIT_ROUNDOFF * (rows + 8) * xMax;
    const perOutput = [kappa * e, 0, 0, kappa * (2 * Math.sqrt(rows) * e * inv + 4 * UNIT_ROUNDOFF), rows * e * inv, 0];
    return perOutput.map((v) => (Number.isFinite(v) ? v : 0));
  });
  return (o, i) => bound[i % channels]?.[o] ?? 0;
};

const bnTrain: FuzzOp = {
  name: 'batchNormTrain',
  generate: (r) => bnDraft(r, r.chance(0.05) ? r.int(0, 1) : r.int(2, 4)),
  run: ([x, g, b], a: A) => {
    const o = batchNormTrain(x as T, g as T, b as T, a.epsilon as number, a.relu as boolean);
    return [o.y, o.mean, o.variance];
  },
  slack: bnSlack,
};

const bnBlockMax: FuzzOp = {
  name: 'batchNormBlockMax',
  generate: (r) => ({ ...bnDraft(r, r.chance(0.05) ? 3 : 4), looseSpecial: true }),
  run: ([x, g, b], a: A) => {
    const o = batchNormBlockMax(x as Any, g as T, b as T, a.epsilon as number);
    return [o.y, o.mean, o.variance];
  },
  slack: bnSlack,
};

function poolDraft(r: Random): Draft {
  const x = imageShape(r);
  const filterSize = pair(r, () => r.int(1, 4));
  const dimRoundingMode = r.chance(0.1) ? 'ceil' : undefined;
  const attrs = { filterSize, strides: pair(r, () => r.int(1, 3)), pad: pad(r), dimRoundingMode };
  const grad = r.chance(0.4);
  // tfjs's pool gradients drop dimRoundingMode: dy then has another shape than the gradient
  // kernel computes (cpu reads it wrongly, native refuses).
  if (grad && dimRoundingMode) r.unusual = true;
  return { inputs: [r.input(x)], attrs, grad, reduction: 16 };
}

const maxPool: FuzzOp = {
  name: 'maxPool',
  generate: poolDraft,
  run: ([x], a: A) =>
    poolReference(x as T, a, Number.NEGATIVE_INFINITY, () =>
      tf.maxPool(x as Any, a.filterSize as Any, a.strides as Any, a.pad as Any, a.dimRoundingMode as Any),
    ),
};

/**
 * tfjs's cpu AvgPool and MaxPool return their input for a 1×1 window whenever the output has the input's
 * shape, even with strides 2 and a numeric pad 2 (4×4 → 4×4); on cpu such a case's reference is then
 * what the windows pick: the strided samples of the input padded with `fill` (a 1×1 window lies wholly
 * in the image or wholly in the padding, where tfjs's average is NaN and its maximum -∞).
 */
function poolReference(x: T, a: A, fill: number, pool: () => T): T {
  if (tf.getBackend() !== 'cpu' || x.rank !== 4 || typeof a.pad !== 'number') return pool();
  let info: ReturnType<typeof tf.backend_util.computePool2DInfo>;
  try {
    info = tf.backend_util.computePool2DInfo(
      x.shape as Any,
      a.filterSize as Any,
      a.strides as Any,
      1,
      a.pad,
      a.dimRoundingMode as Any,
    );
  } catch {
    return pool();
  }
  const identity =
    info.filterHeight === 1 && info.filterWidth === 1 && info.inShape.every((d, i) => d === info.outShape[i]);
  // unequal strides: tfjs's own geometry, which native takes from tfjs's kernel too
  if (!identity || info.strideHeight === 1 || info.strideHeight !== info.strideWidth) return pool();
  const { top, left } = info.padInfo;
  const [sh, sw, oh, ow] = [info.strideHeight, info.strideWidth, info.outHeight, info.outWidth];
  const padding: [number, number][] = [
    [0, 0],
    [top, oh * sh],
    [left, ow * sw],
    [0, 0],
  ];
  // tfjs's max-pool gradient passes nothing to a NaN (it is never the maximum)
  const source = fill === Number.NEGATIVE_INFINITY ? tf.where(tf.isNaN(x), tf.fill(x.shape, Number.NaN), x) : x;
  const grid = tf.slice(tf.pad(source, padding, fill), 0, [info.batchSize, oh * sh, ow * sw, info.inChannels]);
  const picked = tf.slice(
    tf.reshape(grid, [info.batchSize, oh, sh, ow, sw, info.inChannels]),
    0,
    [-1, -1, 1, -1, 1, -1],
  );
  return tf.reshape(picked, info.outShape);
}

const tfAvgPool: FuzzOp = {
  name: 'avgPool',
  generate(r) {
    const d = poolDraft(r);
    // tfjs's own AvgPoolGrad divides by the full window at padded borders; ours by the in-image pixels.
    return { ...d, grad: d.grad && d.attrs.pad === 'valid' };
  },
  run: ([x], a: A) =>
    poolReference(x as T, a, Number.NaN, () =>
      tf.avgPool(x as Any, a.filterSize as Any, a.strides as Any, a.pad as Any, a.dimRoundingMode as Any),
    ),
};

const sasaAvgPool: FuzzOp = {
  name: 'sasa.avgPool',
  generate: poolDraft,
  run: ([x], a: A) =>
    poolReference(x as T, a, Number.NaN, () => avgPool(x as Any, a.filterSize as Any, a.strides as Any, a.pad as Any)),
};

function anyInput(r: Random, maxSize = 2048): InputSpec {
  return r.input(r.shape(r.int(0, 6), maxSize), 0.05);
}

const relu: FuzzOp = {
  name: 'relu',
  generate: (r) => ({ inputs: [anyInput(r)], attrs: {}, grad: r.chance(0.3), reduction: 1 }),
  run: ([x]) => tf.relu(x as T),
};

const step: FuzzOp = {
  name: 'step',
  generate: (r) => ({
    inputs: [anyInput(r)],
    attrs: { alpha: r.attr(() => r.next() - 0.5, 0.1) },
    grad: false,
    reduction: 1,
  }),
  run: ([x], a: A) => tf.step(x as T, a.alpha as number),
};

const BINARY = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div, maximum: tf.maximum, minimum: tf.minimum };
type BinaryName = keyof typeof BINARY;

/** Two shapes that broadcast (or, rarely, do not): dims of one set to 1 or dropped from the front. */
function broadcastPair(r: Random): [number[], number[]] {
  const out = r.shape(r.int(0, 6), 1024);
  const derive = () => out.slice(r.int(0, out.length)).map((d) => (r.chance(0.3) ? 1 : d));
  const [a, b] = [derive(), derive()];
  if (r.chance(0.03) && b.length > 0) b[0] += 1;
  return r.chance(0.5) ? [a, b] : [b, a];
}

const binary: FuzzOp = {
  name: 'binary',
  generate(r) {
    const [a, b] = broadcastPair(r);
    return {
      inputs: [r.input(a), r.input(b)],
      attrs: { op: r.pick(Object.keys(BINARY) as BinaryName[]) },
      grad: r.chance(0.3),
      reduction: 64,
    };
  },
  run: ([a, b], at: A) => BINARY[at.op as BinaryName](a as T, b as T),
};

function axesOf(r: Random, rank: number): unknown {
  if (r.chance(0.15)) return undefined;
  if (r.chance(0.05)) {
    r.unusual = true;
    return r.pick([rank, -rank - 1, 0.5, [0, 0]]);
  }
  const axes = Array.from({ length: rank }, (_, i) => i).filter(() => r.chance(0.5));
  return r.chance(0.3) && axes.length === 1 ? axes[0] - (r.chance(0.5) ? rank : 0) : axes;
}

const reduce: FuzzOp = {
  name: 'sum/mean',
  generate(r) {
    const x = anyInput(r);
    const attrs = { op: r.pick(['sum', 'mean']), axis: axesOf(r, x.shape.length), keepDims: r.chance(0.3) };
    return { inputs: [x], attrs, grad: r.chance(0.3), reduction: size(x.shape) };
  },
  run: ([x], a: A) => (a.op === 'sum' ? tf.sum : tf.mean)(x as T, a.axis as Any, a.keepDims as boolean),
};

const transpose: FuzzOp = {
  name: 'transpose',
  generate(r) {
    const x = anyInput(r);
    const rank = x.shape.length;
    const perm = Array.from({ length: rank }, (_, i) => i).sort(() => r.next() - 0.5);
    if (r.chance(0.05) && rank > 0) {
      r.unusual = true;
      perm[0] = r.pick([rank, -1, perm[rank - 1], 0.5]);
    }
    return { inputs: [x], attrs: { perm: r.chance(0.05) ? undefined : perm }, grad: r.chance(0.2), reduction: 1 };
  },
  run: ([x], a: A) => tf.transpose(x as T, a.perm as number[]),
};

const slice: FuzzOp = {
  name: 'slice',
  generate(r) {
    const x = r.input(r.shape(r.int(1, 6)), 0.05);
    const begin = x.shape.map((d) => r.attr(() => r.int(0, d), 0.03));
    const sizes = x.shape.map((d, i) => (r.chance(0.1) ? -1 : r.attr(() => r.int(0, Math.max(0, d - begin[i])), 0.03)));
    return { inputs: [x], attrs: { begin, size: sizes }, grad: r.chance(0.2), reduction: 1 };
  },
  run: ([x], a: A) => tf.slice(x as T, a.begin as number[], a.size as number[]),
};

const split: FuzzOp = {
  name: 'split',
  generate(r) {
    const x = r.input(r.shape(r.int(1, 6)), 0.05);
    const axis = r.int(-x.shape.length, x.shape.length - 1);
    const d = x.shape[axis < 0 ? axis + x.shape.length : axis];
    const first = r.int(0, d);
    const sizes = r.chance(0.3) ? r.pick([1, 2, 3]) : r.chance(0.1) ? [first, -1] : [first, d - first];
    return { inputs: [x], attrs: { sizes, axis }, grad: false, reduction: 1 };
  },
  run: ([x], a: A) => tf.split(x as T, a.sizes as Any, a.axis as number),
};

const concat: FuzzOp = {
  name: 'concat',
  generate(r) {
    const shape = r.shape(r.int(1, 5));
    const axis = r.int(-shape.length, shape.length - 1);
    const at = axis < 0 ? axis + shape.length : axis;
    const part = () => {
      const s = shape.slice();
      s[at] = r.int(0, 4);
      if (r.chance(0.03)) {
        r.unusual = true;
        s[(at + 1) % s.length] += 1;
      }
      return s;
    };
    const inputs = Array.from({ length: r.int(1, 4) }, () => r.input(part(), 0.05));
    return { inputs, attrs: { axis }, grad: r.chance(0.2), reduction: 1 };
  },
  run: (xs, a: A) => tf.concat(xs as T[], a.axis as number),
};

const padOp: FuzzOp = {
  name: 'pad',
  generate(r) {
    const x = anyInput(r, 512);
    const paddings = x.shape.map(() => [r.attr(() => r.int(0, 2), 0.03), r.attr(() => r.int(0, 2), 0.03)]);
    const constant = r.chance(0.1) ? Number.NaN : r.next();
    return { inputs: [x], attrs: { paddings, constant }, grad: r.chance(0.2), reduction: 1 };
  },
  run: ([x], a: A) => tf.pad(x as T, a.paddings as Any, a.constant as number),
};

/** Local-attention options and the shapes of q and the relative tables; sometimes inconsistent. */
function attentionDraft(r: Random): { q: number[]; rel: number[]; options: A; logits: string } {
  const heads = r.attr(() => r.pick([1, 1, 2]), 0.03);
  const c = 2 * r.int(1, 3) * (Number.isInteger(heads) && heads > 0 ? heads : 1) + (r.chance(0.03) ? 1 : 0);
  const q = r.chance(0.03) ? r.shape(3) : [r.int(1, 2), r.dim() + 1, r.dim() + 1, c];
  const kernelSize = r.attr(() => r.pick([1, 3, 3, 5]), 0.05);
  const logits = r.pick(['qk', 'qr', 'qk+qr']);
  const padding = r.chance(0.03) ? 'reflect' : r.pick(['zeros', 'masked']);
  const scale = r.chance(0.05) ? r.pick([Number.NaN, 'none', 0]) : undefined;
  const side = Number.isInteger(kernelSize) && kernelSize >= 1 && kernelSize < 64 ? kernelSize : 3;
  const rel = [r.chance(0.03) ? side + 2 : side, Math.floor((q[3] ?? 2) / 2)];
  return { q, rel, options: { kernelSize, heads, logits, padding, scale }, logits };
}

const localAttention: FuzzOp = {
  name: 'localAttention2d',
  generate(r) {
    const { q, rel, options, logits } = attentionDraft(r);
    const useQR = logits !== 'qk';
    const inputs = [
      r.input(q),
      logits === 'qr' ? null : r.input(q),
      r.input(q),
      useQR ? r.input(rel) : null,
      useQR ? r.input(rel) : null,
    ];
    return {
      inputs,
      attrs: options,
      grad: r.chance(0.4),
      reduction: rel[0] ** 2 * (q[3] ?? 1) * 4,
      looseSpecial: true,
    };
  },
  run: ([q, k, v, rr, rc], a: A) => localAttention2d(q as Any, k as Any, v as Any, rr as Any, rc as Any, a as Any),
};

/** The packed attention's draft: q|k|v (or q|v) of the attention draft's q, and the channels of y. */
function packedAttentionDraft(r: Random): { draft: Draft; channels: number } {
  const { q, rel, options, logits } = attentionDraft(r);
  const useQR = logits !== 'qk';
  const qkv = q.slice();
  qkv[3] = (q[3] ?? 1) * (logits === 'qr' ? 2 : 3) + (r.chance(0.03) ? 1 : 0);
  const inputs = [r.input(qkv), useQR ? r.input(rel) : null, useQR ? r.input(rel) : null];
  const draft = {
    inputs,
    attrs: options,
    grad: r.chance(0.4),
    reduction: rel[0] ** 2 * (q[3] ?? 1) * 4,
    looseSpecial: true,
  };
  return { draft, channels: q[3] ?? 1 };
}

const localAttentionPacked: FuzzOp = {
  name: 'localAttention2dPacked',
  generate: (r) => packedAttentionDraft(r).draft,
  run: ([qkv, rr, rc], a: A) => localAttention2dPacked(qkv as Any, rr as Any, rc as Any, a as Any),
};

/** The packed attention 2×2-average-pooled, differentiable: sides mostly even (odd ones are refused). */
const localAttentionPooled: FuzzOp = {
  name: 'localAttention2dPackedPooled',
  generate(r) {
    const { draft } = packedAttentionDraft(r);
    const [qkv, ...tables] = draft.inputs;
    const even = (d: number) => (r.chance(0.9) ? 2 * Math.ceil(d / 2) : d);
    const evened =
      qkv && qkv.shape.length === 4
        ? { ...qkv, shape: qkv.shape.map((d, i) => (i === 1 || i === 2 ? even(d) : d)) }
        : qkv;
    return { ...draft, inputs: [evened, ...tables] };
  },
  run: ([qkv, rr, rc], a: A) => localAttention2dPackedPooled(qkv as Any, rr as Any, rc as Any, a as Any),
};

/** The packed attention at inference: relu?(pool?(y) + bias), bias [C] or none, pool 2×2 (even sides); no gradient. */
const localAttentionInference: FuzzOp = {
  name: 'localAttention2dPackedInference',
  generate(r) {
    const { draft, channels } = packedAttentionDraft(r);
    const bias = r.chance(0.3) ? null : r.input([channels + (r.chance(0.03) ? 1 : 0)]);
    const epilogue = { relu: r.chance(0.5), pool: r.chance(0.4) };
    return { ...draft, inputs: [...draft.inputs, bias], attrs: { ...draft.attrs, ...epilogue }, grad: false };
  },
  run: ([qkv, rr, rc, bias], a: A) => {
    const { relu, pool, ...options } = a;
    return localAttention2dPackedInference(qkv as Any, rr as Any, rc as Any, options as Any, {
      bias: bias as Any,
      relu: relu as Any,
      pool: pool as Any,
    });
  },
};

/**
 * The packed attention on the native block-lane path's shapes (k 7, 8 or 16 channels a head, qk+qr logits, zero
 * padding, sides multiples of 4): training with or without the 2×2 pool, or inference with a bias and ReLU.
 */
const localAttentionBlockLanes: FuzzOp = {
  name: 'localAttention2dBlockLanes',
  generate(r) {
    const heads = r.pick([1, 2, 4]);
    const channels = heads * r.pick([8, 16]);
    const qkv = [r.int(1, 3), 4 * r.int(1, 5), 4 * r.int(2, 5), 3 * channels];
    const rel = [7, channels / 2];
    const mode = r.pick(['train', 'pool', 'inference'] as const);
    const inputs = [r.input(qkv, 0), r.input(rel, 0), r.input(rel, 0)];
    if (mode === 'inference') inputs.push(r.chance(0.3) ? null : r.input([channels], 0));
    const attrs = { kernelSize: 7, heads, mode, relu: r.chance(0.5), pool: r.chance(0.5) };
    return {
      inputs,
      attrs,
      grad: mode !== 'inference' && r.chance(0.6),
      reduction: 49 * channels * 4,
      looseSpecial: true,
    };
  },
  run: ([qkv, rr, rc, bias], a: A) => {
    const { mode, relu, pool, ...options } = a;
    if (mode === 'train') return localAttention2dPacked(qkv as Any, rr as Any, rc as Any, options as Any);
    if (mode === 'pool') return localAttention2dPackedPooled(qkv as Any, rr as Any, rc as Any, options as Any);
    const epilogue = { bias: (bias ?? null) as Any, relu: relu as Any, pool: pool as Any };
    return localAttention2dPackedInference(qkv as Any, rr as Any, rc as Any, options as Any, epilogue);
  },
};

const stem: FuzzOp = {
  name: 'stemAttention',
  generate(r) {
    const s = r.int(1, 4);
    const [n, dIn] = [r.int(1, 3), r.int(1, 4)];
    const heads = r.attr(() => r.pick([1, 2]), 0.03);
    const filters = 2 * r.int(1, 3) * (heads === 2 ? 2 : 1) + (r.chance(0.03) ? 1 : 0);
    const x = r.chance(0.03) ? [n, s, s + 1, dIn] : [n, s, s, dIn];
    const positions = r.chance(0.5) ? 1 : r.chance(0.05) ? 2 : s * s;
    const relative = r.chance(0.5);
    const rel = [2 * s - 1, Math.floor(filters / 2)];
    const inputs = [r.input(x), r.input([dIn, filters]), r.input([dIn, filters]), r.input([positions, dIn, filters])];
    inputs.push(...(relative ? [r.input(rel), r.input(rel)] : [null, null]));
    const attrs = { heads, scale: r.chance(0.05) ? r.pick([Number.NaN, 'none']) : undefined };
    return { inputs, attrs, grad: r.chance(0.4), reduction: s * s * dIn * filters * 4, looseSpecial: true };
  },
  run: ([x, wq, wk, wv, rr, rc], a: A) =>
    stemAttention(x as Any, wq as Any, wk as Any, wv as Any, rr as Any, rc as Any, a as Any),
};

/** The largest finite |v| of `values` (0 for none or absent). */
function largest(values: Float64Array | null | undefined): number {
  let m = 0;
  for (const v of values ?? []) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m;
}

/**
 * stemAttentionBlockMax's slack: the stem's own tolerance on y (|y| <= d_in·max|x|·max|wv|), times the batch
 * norm's gain κ = max |gamma|/√(variance + ε) on the output, and, for the gradients of the output's sum,
 * times the pixels and the inputs' scales the weight gradients sum over.
 */
const stemBlockMaxSlack: Slack = ([x, wq, wk, wv, , , gamma], ref, c) => {
  const dIn = c.inputs[0]?.shape[3] ?? 1;
  const yScale = Math.max(1, dIn * largest(x) * largest(wv));
  const e = 2e-6 * (1 + Math.sqrt(c.reduction) + c.reduction / 8) * yScale;
  const epsilon = (c.attrs.epsilon as number | undefined) ?? 1e-5;
  const kappa = Math.max(
    1,
    ...Array.from(ref[2] ?? [], (v, j) => Math.abs(gamma?.[j] ?? 1) / Math.sqrt(Math.max(0, v) + epsilon)),
  );
  const pixels = (x?.length ?? 0) / dIn;
  const weights = 1 + Math.max(largest(wq), largest(wk), largest(wv));
  const bounds = [kappa * e * 4, e, 4 * yScale * e, kappa * e * pixels * (1 + largest(x)) * weights * 16];
  return (o) => {
    const b = bounds[Math.min(o, 3)];
    return Number.isFinite(b) ? b : 0;
  };
};

const stemBlockMax: FuzzOp = {
  name: 'stemAttentionBlockMax',
  generate(r) {
    const draft = stem.generate(r);
    const filters = draft.inputs[1]?.shape[1] ?? 1;
    const param = () => r.input(r.chance(0.05) ? [filters + 1] : [filters]);
    return {
      ...draft,
      inputs: [...draft.inputs, param(), param()],
      attrs: { ...draft.attrs, epsilon: r.attr(() => r.pick([1e-3, 1e-5])) },
    };
  },
  run: ([x, wq, wk, wv, rr, rc, gamma, beta], a: A) => {
    const o = stemAttentionBlockMax(
      x as Any,
      wq as Any,
      wk as Any,
      wv as Any,
      rr as Any,
      rc as Any,
      gamma as Any,
      beta as Any,
      a as Any,
    );
    return [o.y, o.mean, o.variance];
  },
  slack: stemBlockMaxSlack,
};

const sgd: FuzzOp = {
  name: 'sgdUpdate',
  generate(r) {
    const shape = r.shape(r.int(0, 4));
    const other = () => (r.chance(0.03) ? r.shape(r.int(0, 4)) : shape);
    const attrs = {
      lr: r.attr(() => r.next(), 0.05),
      momentum: r.attr(() => r.next(), 0.05),
      weightDecay: r.attr(() => r.next() * 1e-3, 0.05),
      nesterov: r.chance(0.5),
    };
    return { inputs: [r.input(shape), r.input(other()), r.input(other())], attrs, grad: false, reduction: 4 };
  },
  run: ([w, v, g], a: A) => {
    const o = sgdUpdate(w as T, v as T, g as T, a as Any);
    return [o.w, o.v];
  },
};

const movingStats: FuzzOp = {
  name: 'movingStatsUpdate',
  generate(r) {
    const shape = r.chance(0.9) ? [r.int(1, 70)] : r.shape(r.int(0, 3));
    const other = () => (r.chance(0.03) ? r.shape(r.int(0, 3)) : shape);
    const attrs = { decay: r.attr(() => r.next(), 0.05), unbiased: r.attr(() => 1 + r.next(), 0.05) };
    return {
      inputs: [r.input(shape), r.input(other()), r.input(other()), r.input(other())],
      attrs,
      grad: false,
      reduction: 4,
    };
  },
  run: ([m, v, mean, variance], a: A) => {
    const o = movingStatsUpdate(m as T, v as T, mean as T, variance as T, a.decay as Any, a.unbiased as Any);
    return [o.mean, o.variance];
  },
};

const resizeNearest: FuzzOp = {
  name: 'resizeNearestNeighbor',
  generate(r) {
    const x = r.input(imageShape(r), 0.05);
    const [h, w] = [x.shape[1] ?? 1, x.shape[2] ?? 1];
    const scale = r.int(1, 3);
    const size = r.chance(0.8) ? [scale * h, scale * w] : [r.int(1, 9), r.int(1, 9)];
    const attrs = { size, alignCorners: r.chance(0.1), halfPixelCenters: r.chance(0.1) };
    // tfjs 4.22's cpu gradient (the reference) reads dy at the images' batch stride: wrong past the first image
    return { inputs: [x], attrs, grad: x.shape[0] === 1 && r.chance(0.5), reduction: scale * scale };
  },
  run: ([x], a: A) =>
    tf.image.resizeNearestNeighbor(x as Any, a.size as Any, a.alignCorners as boolean, a.halfPixelCenters as boolean),
};

/** Every fuzzed op, by name. */
export const FUZZ_OPS: readonly FuzzOp[] = [
  conv,
  fusedConv,
  convResidual,
  matMul,
  fusedMatMul,
  fusedBatchNorm,
  bnTrain,
  bnBlockMax,
  maxPool,
  tfAvgPool,
  sasaAvgPool,
  relu,
  step,
  binary,
  reduce,
  transpose,
  slice,
  split,
  concat,
  padOp,
  resizeNearest,
  localAttention,
  localAttentionPacked,
  localAttentionPooled,
  localAttentionInference,
  localAttentionBlockLanes,
  stem,
  stemBlockMax,
  sgd,
  movingStats,
];
