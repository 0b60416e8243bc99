/**
 * OnnxGraphBuilder: collects nodes and initializers with unique names, and refuses an operator the
 * requested opset is too old for (the exporter's formulation of each operator: Softmax over any
 * axis and ReduceSum with `axes` as an input need opset 13).
 */
import type { AttributeValue, OnnxNode, OnnxTensor } from './model_proto.js';

/** The opset each operator the exporter emits needs, in the form it emits it. */
export const OPERATOR_MIN_OPSET: Readonly<Record<string, number>> = {
  Add: 7,
  AveragePool: 10,
  Concat: 11,
  Conv: 11,
  Flatten: 11,
  Gemm: 11,
  GlobalAveragePool: 1,
  Identity: 1,
  MatMul: 9,
  MaxPool: 12,
  Mul: 7,
  Pad: 11,
  ReduceSum: 13,
  Relu: 6,
  Reshape: 5,
  Slice: 10,
  Softmax: 13,
  Transpose: 1,
};

/** The opsets the exporter writes: from the newest minimum above to the newest it was checked with. */
export const MIN_OPSET = Math.max(...Object.values(OPERATOR_MIN_OPSET));
export const MAX_OPSET = 21;

export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly names = new Set<string>();
  private readonly int64Cache = new Map<string, string>();

  constructor(readonly opset: number) {}

  /** A name not used yet, from `hint`. */
  uniqueName(hint: string): string {
    let name = hint;
    for (let i = 1; this.names.has(name); i++) name = `${hint}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Adds a node with one output (named after `hint`) and returns the output's name and the node. */
  addNode(
    opType: string,
    inputs: string[],
    hint: string,
    attributes: Record<string, AttributeValue> = {},
  ): { output: string; node: OnnxNode } {
    const needed = OPERATOR_MIN_OPSET[opType];
    if (needed === undefined) throw new Error(`ONNX export: operator ${opType} has no known minimum opset`);
    if (this.opset < needed) {
      throw new Error(
        `ONNX export: operator ${opType} needs opset ${needed} or newer, the export asked for ${this.opset}`,
      );
    }
    const output = this.uniqueName(hint);
    const node: OnnxNode = { opType, name: output, inputs, outputs: [output], attributes };
    this.nodes.push(node);
    return { output, node };
  }

  /** addNode's output only. */
  op(opType: string, inputs: string[], hint: string, attributes: Record<string, AttributeValue> = {}): string {
    return this.addNode(opType, inputs, hint, attributes).output;
  }

  /** A float initializer; `data` is kept by reference (folding may still scale it in place). */
  floats(hint: string, dims: readonly number[], data: Float32Array): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`ONNX export: ${hint}: ${data.length} values for dims [${dims}]`);
    const name = this.uniqueName(hint);
    this.initializers.push({ name, dims, data });
    return name;
  }

  /** An int64 vector initializer (shapes, axes, pads), shared between nodes that use the same values. */
  int64s(values: readonly number[]): string {
    const key = values.join(',');
    const cached = this.int64Cache.get(key);
    if (cached) return cached;
    const name = this.uniqueName(`const_i64_${values.map((v) => (v < 0 ? `m${-v}` : v)).join('_') || 'empty'}`);
    this.initializers.push({ name, dims: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    this.int64Cache.set(key, name);
    return name;
  }

  /** x reshaped to `shape` (0 copies the input's dimension: the batch stays dynamic). */
  reshape(x: string, shape: readonly number[], hint: string): string {
    return this.op('Reshape', [x, this.int64s(shape)], hint);
  }

  transpose(x: string, perm: readonly number[], hint: string): string {
    return this.op('Transpose', [x], hint, { perm });
  }
}
