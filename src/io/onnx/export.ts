/**
 * exportOnnx: a sasa classification model (tfjs LayersModel built by models/builder.ts) as an ONNX
 * graph of standard operators. The graph takes the model's own input, `image` [B, H, W, C] float
 * (NHWC, normalised as the model's metadata says), and gives `logits` [B, classes]; inside it works
 * in NCHW. Batch norms are folded into the convolution or value projection before them. B is the
 * symbolic 'batch' ('dynamic') or fixed.
 */
import type * as tf from '../../tf.js';
import type { Emitted, Fold } from './emitters/emitter.js';
import { EMITTERS } from './emitters/registry.js';
import { MAX_OPSET, MIN_OPSET, OnnxGraphBuilder, OPERATOR_MIN_OPSET } from './graph.js';
import { encodeModel, type OnnxModel, type OnnxValueInfo } from './model_proto.js';

/** The ONNX graph's input name (images [B, H, W, C]). */
export const ONNX_INPUT = 'image';
/** The ONNX graph's output name (logits [B, K]). */
export const ONNX_OUTPUT = 'logits';

/** Default opset and batch dimension ('dynamic': a symbolic batch size) of an export. */
export const ONNX_EXPORT_DEFAULTS = { opset: 17, batch: 'dynamic' } as const;

/** Options of {@link exportOnnx} (and {@link exportOnnxFile}); defaults in {@link ONNX_EXPORT_DEFAULTS}. */
export interface OnnxExportOptions {
  /** ONNX opset, MIN_OPSET to MAX_OPSET. */
  opset?: number;
  /** 'dynamic' (a symbolic batch dimension) or a fixed positive batch size. */
  batch?: 'dynamic' | number;
  /** Extra ONNX metadata_props (e.g. the normalisation, class names). */
  metadata?: Record<string, string>;
  /** The model's producer_version. Default '' (none). */
  producerVersion?: string;
}

/** The IR version that goes with an opset (ONNX's versioning table). */
function irVersionOf(opset: number): number {
  return opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

/** What is wrong with the options (undefined: nothing); the caller names the option. */
export function checkExportOptions(o: OnnxExportOptions): { field: string; problem: string } | undefined {
  const opset = o.opset ?? ONNX_EXPORT_DEFAULTS.opset;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    const newer = Object.entries(OPERATOR_MIN_OPSET).filter(([, needs]) => Number.isInteger(opset) && needs > opset);
    const why = newer.length ? ` (${newer.map(([op, needs]) => `${op} needs opset ${needs}`).join(', ')})` : '';
    return { field: 'opset', problem: `must be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got ${opset}${why}` };
  }
  const batch = o.batch ?? ONNX_EXPORT_DEFAULTS.batch;
  if (batch !== 'dynamic' && !(Number.isInteger(batch) && batch >= 1)) {
    return { field: 'batch', problem: `must be 'dynamic' or a positive integer, got ${String(batch)}` };
  }
  return undefined;
}

interface Produced {
  name: string;
  fold?: Fold;
}

/** How many layers read each symbolic tensor (the model's outputs count as readers). */
function readers(model: tf.LayersModel): Map<number, number> {
  const count = new Map<number, number>();
  const read = (t: tf.SymbolicTensor) => count.set(t.id, (count.get(t.id) ?? 0) + 1);
  for (const layer of model.layers) for (const node of layer.inboundNodes) node.inputTensors.forEach(read);
  model.outputs.forEach(read);
  return count;
}

function emitGraph(model: tf.LayersModel, g: OnnxGraphBuilder): string {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(`ONNX export: model '${model.name}' must have one input and one output`);
  }
  const readCount = readers(model);
  const produced = new Map<number, Produced>();
  g.uniqueName(ONNX_INPUT);
  g.uniqueName(ONNX_OUTPUT);
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (layer.inboundNodes.length !== 1) {
      throw new Error(`ONNX export: layer '${layer.name}' (${className}) is called ${layer.inboundNodes.length} times`);
    }
    const node = layer.inboundNodes[0];
    const out = node.outputTensors[0];
    if (className === 'InputLayer') {
      produced.set(out.id, { name: g.transpose(ONNX_INPUT, [0, 3, 1, 2], 'image_nchw') });
      continue;
    }
    const emit = EMITTERS.get(className);
    if (!emit) {
      throw new Error(
        `ONNX export: layer '${layer.name}' of class ${className} has no ONNX emitter (supported: ${[...EMITTERS.keys()].join(', ')})`,
      );
    }
    const inputs = node.inputTensors.map((t) => produced.get(t.id) as Produced);
    const emitted: Emitted = emit({
      graph: g,
      layer,
      inputs: inputs.map((p) => p.name),
      inputShapes: node.inputTensors.map((t) => (t.shape as number[]).slice(1)),
      foldInto: (i) => {
        const p = inputs[i];
        if (!p.fold || readCount.get(node.inputTensors[i].id) !== 1) return undefined;
        const fold = p.fold;
        p.fold = undefined;
        return fold;
      },
    });
    produced.set(out.id, { name: emitted.output, ...(emitted.fold ? { fold: emitted.fold } : {}) });
  }
  return (produced.get(model.outputs[0].id) as Produced).name;
}

/** The ONNX model of `model` as plain objects (nodes, initializers), before serialisation. */
export function onnxModelOf(model: tf.LayersModel, options: OnnxExportOptions = {}): OnnxModel {
  const bad = checkExportOptions(options);
  if (bad) throw new Error(`ONNX export: ${bad.field} ${bad.problem}`);
  const opset = options.opset ?? ONNX_EXPORT_DEFAULTS.opset;
  const batch = options.batch ?? ONNX_EXPORT_DEFAULTS.batch;
  const g = new OnnxGraphBuilder(opset);
  const last = emitGraph(model, g);
  g.nodes.push({ opType: 'Identity', name: ONNX_OUTPUT, inputs: [last], outputs: [ONNX_OUTPUT], attributes: {} });
  const b = batch === 'dynamic' ? 'batch' : batch;
  const [, h, w, c] = model.inputs[0].shape as number[];
  const classes = (model.outputs[0].shape as number[])[1];
  const input: OnnxValueInfo = {
    name: ONNX_INPUT,
    shape: [b, h, w, c],
    docString: 'NHWC float image, normalised as in training',
  };
  const output: OnnxValueInfo = { name: ONNX_OUTPUT, shape: [b, classes], docString: 'class logits (before softmax)' };
  return {
    irVersion: irVersionOf(opset),
    opset,
    producerName: 'sasa',
    producerVersion: options.producerVersion ?? '',
    docString: `${model.name}: ${ONNX_INPUT} [B, H, W, C] (NHWC) → ${ONNX_OUTPUT} [B, classes]`,
    metadata: options.metadata ?? {},
    graph: { name: model.name, nodes: g.nodes, initializers: g.initializers, inputs: [input], outputs: [output] },
  };
}

/** The ONNX model (serialised ModelProto: what a .onnx file holds) of `model`. */
export function exportOnnx(model: tf.LayersModel, options: OnnxExportOptions = {}): Uint8Array {
  return encodeModel(onnxModelOf(model, options));
}
