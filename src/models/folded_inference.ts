/**
 * Inference of a built model with every batch norm that only follows a convolution folded into it:
 *   BN(conv(x, W)) = conv(x, W · a) + b,  a = gamma / sqrt(moving_variance + ε),  b = beta − moving_mean · a
 * (a and b per output channel), run as one `tf.fused.conv2d` with bias, and the BN's ReLU as its activation;
 * a bottleneck block's end (conv → residual BN, i.e. relu(BN(conv) + shortcut)) as one convResidualRelu
 * (ops/conv_residual.ts); a local self-attention layer → BN as the layer with W_V's columns × a and b added
 * (with the ReLU) as the attention kernel writes its output (LocalSelfAttention2D.applyFolded): each output
 * pixel is a convex combination of values, so BN(Σ p·x W_V) = Σ p·x (W_V · a) + b.
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
import { LocalSelfAttention2D } from '../layers/local_self_attention.js';
import { convResidualRelu } from '../ops/conv_residual.js';
import * as tf from '../tf.js';

type Kwargs = tf.serialization.ConfigDict;

/** One layer to run: its inputs and outputs as the ids of the model's symbolic tensors. */
interface LayerStep {
  kind: 'layer';
  layer: tf.layers.Layer;
  inputs: number[];
  outputs: number[];
}

/**
 * A convolution and the batch norm that alone reads its output, run as one fused convolution (kind 'fold'),
 * or, where the batch norm is a residual one with its ReLU (inputs [conv, shortcut]: a bottleneck block's end),
 * as one convResidualRelu (kind 'residual') run at the batch norm's place in the graph.
 * inputs: [x] or [x, shortcut]; output: the batch norm's.
 */
interface FoldStep {
  kind: 'fold' | 'residual';
  conv: Conv2D;
  norm: BatchNorm;
  inputs: number[];
  output: number;
}

/** A local self-attention layer and the non-residual batch norm that alone reads its output, run as one. */
interface AttentionStep {
  kind: 'attention';
  attention: LocalSelfAttention2D;
  norm: BatchNorm;
  inputs: number[];
  output: number;
}

type Step = LayerStep | FoldStep | AttentionStep;

/**
 * The folded weight (a conv's filter [k, k, C, filters] × a, or the attention's a itself [filters]) and bias
 * [filters], and the weights (their tensors) they came from.
 */
interface Folded {
  sources: object[];
  filter: tf.Tensor;
  bias: tf.Tensor1D;
}

/** A node of the model's graph: the layer and the ids of its input and output tensors. */
function nodesOf(model: tf.LayersModel): LayerStep[] | null {
  const nodes: LayerStep[] = [];
  for (const layer of model.layers) {
    if (layer.inboundNodes.length !== 1) return null;
    const node = layer.inboundNodes[0];
    if (node.inboundLayers.length === 0) continue;
    const inputs = node.inputTensors.map((t) => t.id);
    nodes.push({ kind: 'layer', layer, inputs, outputs: node.outputTensors.map((t) => t.id) });
  }
  return nodes;
}

/** The model's steps with conv → BN pairs fused, or null where the graph is not one this plan handles. */
function planOf(model: tf.LayersModel): Step[] | null {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return null;
  const nodes = nodesOf(model);
  if (!nodes) return null;
  const modelOutputs = new Set(model.outputs.map((t) => t.id));
  const readers = new Map<number, LayerStep[]>();
  for (const n of nodes) for (const id of n.inputs) readers.set(id, [...(readers.get(id) ?? []), n]);
  /** The one node reading tensor `id` when it is of class `name` and `id` is not the model's output. */
  const soleReader = (id: number, name: string) => {
    const r = readers.get(id);
    return r?.length === 1 && r[0].layer.getClassName() === name && !modelOutputs.has(id) ? r[0] : undefined;
  };
  const skipped = new Set<LayerStep>();
  /** Residual steps by the batch norm node at whose place they run. */
  const atNorm = new Map<LayerStep, FoldStep>();
  const steps: Step[] = [];
  for (const n of nodes) {
    if (skipped.has(n)) continue;
    const deferred = atNorm.get(n);
    if (deferred) {
      steps.push(deferred);
      continue;
    }
    const attentionNorm = n.layer instanceof LocalSelfAttention2D ? soleReader(n.outputs[0], 'BatchNorm') : undefined;
    if (n.layer instanceof LocalSelfAttention2D && attentionNorm?.layer instanceof BatchNorm) {
      if (!attentionNorm.layer.residual) {
        skipped.add(attentionNorm);
        const attention = n.layer;
        steps.push({
          kind: 'attention',
          attention,
          norm: attentionNorm.layer,
          inputs: n.inputs,
          output: attentionNorm.outputs[0],
        });
        continue;
      }
    }
    const norm = n.layer instanceof Conv2D && n.inputs.length === 1 ? soleReader(n.outputs[0], 'BatchNorm') : undefined;
    if (!norm || !(n.layer instanceof Conv2D) || !(norm.layer instanceof BatchNorm)) {
      steps.push(n);
      continue;
    }
    const fold = { conv: n.layer, norm: norm.layer };
    if (!norm.layer.residual) {
      skipped.add(norm);
      steps.push({ kind: 'fold', ...fold, inputs: n.inputs, output: norm.outputs[0] });
    } else if (norm.layer.relu && norm.inputs[0] === n.outputs[0]) {
      // Run where the batch norm ran: its shortcut may come from layers after the conv (a projection).
      atNorm.set(norm, { kind: 'residual', ...fold, inputs: [n.inputs[0], norm.inputs[1]], output: norm.outputs[0] });
    } else {
      steps.push(n);
    }
  }
  return steps;
}

/** How many steps read each tensor id. */
function consumersOf(steps: Step[]): Map<number, number> {
  const consumers = new Map<number, number>();
  for (const s of steps) for (const id of s.inputs) consumers.set(id, (consumers.get(id) ?? 0) + 1);
  return consumers;
}

/** Runs a model's inference with its conv → BN pairs folded (see the file's comment). */
export class FoldedInference {
  private readonly folded = new Map<FoldStep | AttentionStep, Folded>();

  private constructor(
    private readonly model: tf.LayersModel,
    private readonly steps: Step[],
    private readonly consumers: Map<number, number>,
  ) {}

  /** The plan for `model`, or null when its graph is not a single-input, single-output graph of unshared layers. */
  static of(model: tf.LayersModel): FoldedInference | null {
    const steps = planOf(model);
    return steps && new FoldedInference(model, steps, consumersOf(steps));
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
      const inputs = s.inputs.map((id) => values.get(id) as tf.Tensor);
      if (s.kind === 'layer') {
        const out = tf.tidy(() => s.layer.apply(inputs.length === 1 ? inputs[0] : inputs, kwargs) as tf.Tensor);
        values.set(s.outputs[0], out);
      } else if (s.kind === 'attention') {
        values.set(s.output, this.foldedAttention(s, inputs[0] as tf.Tensor4D));
      } else {
        values.set(s.output, this.foldedConv(s, inputs as tf.Tensor4D[]));
      }
      for (const id of s.inputs) consume(id);
    }
    return values.get(this.model.outputs[0].id) as tf.Tensor;
  }

  /**
   * How many conv → batch norm pairs the plan folds, how many of them are block ends (residual batch norms), and
   * how many attention → batch norm pairs it folds.
   */
  folds(): { pairs: number; residual: number; attention: number } {
    const kinds = this.steps.map((s) => s.kind);
    const count = (kind: Step['kind']) => kinds.filter((k) => k === kind).length;
    const residual = count('residual');
    return { pairs: count('fold') + residual, residual, attention: count('attention') };
  }

  /** Frees the folded filters and biases. */
  dispose(): void {
    for (const f of this.folded.values()) tf.dispose([f.filter, f.bias]);
    this.folded.clear();
  }

  private foldedConv(s: FoldStep, [x, residual]: tf.Tensor4D[]): tf.Tensor4D {
    const f = this.foldedOf(s);
    const strides = s.conv.strides;
    const filter = f.filter as tf.Tensor4D;
    if (s.kind === 'residual') return convResidualRelu(x, filter, f.bias, residual, strides);
    const activation = s.norm.relu ? 'relu' : 'linear';
    return tf.fused.conv2d({ x, filter, strides, pad: 'same', bias: f.bias, activation });
  }

  private foldedAttention(s: AttentionStep, x: tf.Tensor4D): tf.Tensor4D {
    const f = this.foldedOf(s);
    return s.attention.applyFolded(x, { valueScale: f.filter as tf.Tensor1D, shift: f.bias, relu: s.norm.relu });
  }

  /**
   * The folded filter (for an attention step a itself) and bias of `s`, recomputed when a weight behind them is a
   * new tensor.
   */
  private foldedOf(s: FoldStep | AttentionStep): Folded {
    const kernel = s.kind === 'attention' ? null : s.conv.kernelValue();
    const norm = s.norm.inferenceWeights();
    const weights = [norm.gamma, norm.beta, norm.movingMean, norm.movingVariance, ...(kernel ? [kernel] : [])];
    const sources = weights.map((t) => t.dataId);
    const kept = this.folded.get(s);
    if (kept?.sources.every((d, i) => d === sources[i])) return kept;
    if (kept) tf.dispose([kept.filter, kept.bias]);
    const [filter, bias] = tf.tidy(() => {
      const a = tf.div(norm.gamma, tf.sqrt(tf.add(norm.movingVariance, s.norm.options.epsilon)));
      return [kernel ? tf.mul(kernel, a) : a, tf.sub(norm.beta, tf.mul(norm.movingMean, a)) as tf.Tensor1D];
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
 * Makes `model.apply(x, { training: false })` (any call of the model without `training: true`, outside a gradient
 * scope) run {@link FoldedInference}, and `model.dispose()` free its folded weights; a model whose graph the plan
 * does not handle is left as it is.
 */
export function foldBatchNormsAtInference(model: tf.LayersModel): void {
  const folded = FoldedInference.of(model);
  if (!folded) return;
  const call = model.call.bind(model);
  const dispose = model.dispose.bind(model);
  model.call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs) => {
    const x = Array.isArray(inputs) ? inputs : [inputs];
    // Under a gradient scope the graph runs as built, so that gradients reach the conv and BN weights.
    const recording = tf.engine().state.gradientDepth > 0;
    if (kwargs?.training === true || recording || x.length !== 1) return call(inputs, kwargs);
    return folded.run(x[0], kwargs);
  };
  model.dispose = () => {
    folded.dispose();
    return dispose();
  };
}
