/**
 * Inference of a built model with every batch norm that only follows a convolution folded into it:
 *   BN(conv(x, W)) = conv(x, W · a) + b,  a = gamma / sqrt(moving_variance + ε),  b = beta − moving_mean · a
 * (a and b per output channel), run as one `tf.fused.conv2d` with bias, and the BN's ReLU as its activation.
 * At batch 1 the batch norms and ReLUs are memory passes and kernel calls that cost as much as the smaller
 * convolutions (BENCHMARKS.md, issue 18). The folded filters and biases are kept between calls and recomputed
 * when any of the five weights behind them was assigned anew (a training step, loaded weights). Training
 * (`training: true`) runs the model as built: it needs the batch statistics.
 *
 * The plan walks the model's own graph (`model.layers` in topological order, one inbound node each); every
 * other layer runs as it would in the model (`layer.apply(inputs, kwargs)`), and an activation is disposed as
 * soon as its last consumer has run.
 */
import { BatchNorm } from '../layers/batch_norm.js';
import { Conv2D } from '../layers/conv2d.js';
import * as tf from '../tf.js';

type Kwargs = tf.serialization.ConfigDict;

/** One layer to run: its inputs and outputs as the ids of the model's symbolic tensors. */
interface LayerStep {
  layer: tf.layers.Layer;
  inputs: number[];
  outputs: number[];
}

/** A convolution and the batch norm that alone consumes its output, run as one fused convolution. */
interface FoldStep {
  conv: Conv2D;
  norm: BatchNorm;
  input: number;
  output: number;
}

type Step = LayerStep | FoldStep;

/** The folded filter [k, k, C, filters] and bias [filters], and the weights (their tensors) they came from. */
interface Folded {
  sources: object[];
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
}

const isFold = (s: Step): s is FoldStep => 'conv' in s;

/** The model's steps with conv → BN pairs folded, or null where the graph is not one this plan handles. */
function planOf(model: tf.LayersModel): { steps: Step[]; consumers: Map<number, number> } | null {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return null;
  const outputIds = new Set(model.outputs.map((t) => t.id));
  const consumers = new Map<number, number>();
  const readers = new Map<number, tf.layers.Layer[]>();
  const nodes: LayerStep[] = [];
  for (const layer of model.layers) {
    if (layer.inboundNodes.length !== 1) return null;
    const node = layer.inboundNodes[0];
    if (node.inboundLayers.length === 0) continue;
    const inputs = node.inputTensors.map((t) => t.id);
    for (const id of inputs) {
      consumers.set(id, (consumers.get(id) ?? 0) + 1);
      readers.set(id, [...(readers.get(id) ?? []), layer]);
    }
    nodes.push({ layer, inputs, outputs: node.outputTensors.map((t) => t.id) });
  }
  const folded = new Set<tf.layers.Layer>();
  const steps: Step[] = [];
  for (const n of nodes) {
    if (folded.has(n.layer)) continue;
    const [out] = n.outputs;
    const next = readers.get(out);
    const norm = next?.length === 1 ? next[0] : undefined;
    if (n.layer instanceof Conv2D && norm instanceof BatchNorm && !outputIds.has(out) && n.inputs.length === 1) {
      folded.add(norm);
      steps.push({ conv: n.layer, norm, input: n.inputs[0], output: norm.inboundNodes[0].outputTensors[0].id });
    } else {
      steps.push(n);
    }
  }
  for (const s of steps) if (isFold(s)) consumers.delete(s.conv.inboundNodes[0].outputTensors[0].id);
  return { steps, consumers };
}

/** Runs a model's inference with its conv → BN pairs folded (see the file's comment). */
export class FoldedInference {
  private readonly folded = new Map<FoldStep, Folded>();

  private constructor(
    private readonly model: tf.LayersModel,
    private readonly steps: Step[],
    private readonly consumers: Map<number, number>,
  ) {}

  /** The plan for `model`, or null when its graph is not a single-input, single-output graph of unshared layers. */
  static of(model: tf.LayersModel): FoldedInference | null {
    const plan = planOf(model);
    return plan && new FoldedInference(model, plan.steps, plan.consumers);
  }

  /** The model's output for x at inference; the caller owns it. */
  run(x: tf.Tensor, kwargs: Kwargs): tf.Tensor {
    const values = new Map<number, tf.Tensor>([[this.model.inputs[0].id, x]]);
    const left = new Map(this.consumers);
    const consume = (id: number) => {
      const n = (left.get(id) ?? 0) - 1;
      left.set(id, n);
      const t = values.get(id);
      if (n === 0 && t !== undefined && t !== x) {
        values.delete(id);
        t.dispose();
      }
    };
    for (const s of this.steps) {
      if (isFold(s)) {
        const input = values.get(s.input) as tf.Tensor4D;
        values.set(s.output, this.foldedConv(s, input));
        consume(s.input);
        continue;
      }
      const inputs = s.inputs.map((id) => values.get(id) as tf.Tensor);
      const out = tf.tidy(() => s.layer.apply(inputs.length === 1 ? inputs[0] : inputs, kwargs) as tf.Tensor);
      values.set(s.outputs[0], out);
      for (const id of s.inputs) consume(id);
    }
    return values.get(this.model.outputs[0].id) as tf.Tensor;
  }

  /** How many conv → batch norm pairs the plan folds. */
  foldedPairs(): number {
    return this.steps.filter(isFold).length;
  }

  /** Frees the folded filters and biases. */
  dispose(): void {
    for (const f of this.folded.values()) tf.dispose([f.filter, f.bias]);
    this.folded.clear();
  }

  private foldedConv(s: FoldStep, x: tf.Tensor4D): tf.Tensor4D {
    const f = this.foldedOf(s);
    const activation = s.norm.relu ? 'relu' : 'linear';
    return tf.fused.conv2d({ x, filter: f.filter, strides: s.conv.strides, pad: 'same', bias: f.bias, activation });
  }

  /** The folded filter and bias of `s`, recomputed when a weight behind them is a new tensor. */
  private foldedOf(s: FoldStep): Folded {
    const kernel = s.conv.kernelValue();
    const norm = s.norm.inferenceWeights();
    const sources = [kernel, norm.gamma, norm.beta, norm.movingMean, norm.movingVariance].map((t) => t.dataId);
    const kept = this.folded.get(s);
    if (kept?.sources.every((d, i) => d === sources[i])) return kept;
    if (kept) tf.dispose([kept.filter, kept.bias]);
    const [filter, bias] = tf.tidy(() => {
      const a = tf.div(norm.gamma, tf.sqrt(tf.add(norm.movingVariance, s.norm.options.epsilon)));
      return [tf.mul(kernel, a) as tf.Tensor4D, tf.sub(norm.beta, tf.mul(norm.movingMean, a)) as tf.Tensor1D];
    });
    // Kept out of the caller's tidy: they live until a weight changes or the model is disposed.
    tf.keep(filter);
    tf.keep(bias);
    const next = { sources, filter, bias };
    this.folded.set(s, next);
    return next;
  }
}

/**
 * Makes `model.apply(x, { training: false })` (and any call of the model without `training: true`) run
 * {@link FoldedInference}, and `model.dispose()` free its folded weights; a model whose graph the plan does not
 * handle is left as it is.
 */
export function foldBatchNormsAtInference(model: tf.LayersModel): void {
  const folded = FoldedInference.of(model);
  if (!folded) return;
  const call = model.call.bind(model);
  const dispose = model.dispose.bind(model);
  model.call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs) => {
    const x = Array.isArray(inputs) ? inputs : [inputs];
    if (kwargs?.training === true || x.length !== 1) return call(inputs, kwargs);
    return folded.run(x[0], kwargs);
  };
  model.dispose = () => {
    folded.dispose();
    return dispose();
  };
}
