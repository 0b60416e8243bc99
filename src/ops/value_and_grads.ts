/**
 * valueAndGrads(f, xs): y = f() and dy/dx for each x, like tfjs's `engine.gradients`, but freeing
 * memory during the backward pass as PyTorch's autograd does. tfjs keeps every tensor a tape node
 * saved for its gradient, and every intermediate gradient, until the whole backward pass ends, so
 * a training step's peak holds all activations and all their gradients at once. Here, once a node's
 * backward has run, its saved tensors (its own references) and the gradients of its outputs (all
 * summed by then: the tape runs in reverse order) are disposed; an activation's memory goes when
 * the last node that saved it is done.
 *
 * Same gradient functions, same order, same accumulation: the results are the same bits as
 * `tf.engine().gradients`. Inside another gradient computation (higher-order gradients) it defers
 * to tfjs's own.
 */
import * as tf from '../tf.js';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

/** The parts of tfjs's Engine this needs (not in its public typings). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
}

/** The nodes on a path from some x to y, in tape order, their inputs pruned to those that depend on an x. */
function nodesFromXsToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const reached = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      reached.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set([y.id]);
  const onPath = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY.has(o.id))) {
      onPath.add(node.id);
      for (const t of Object.values(node.inputs)) toY.add(t.id);
    }
  }
  return tape
    .filter((n) => reached.has(n.id) && onPath.has(n.id))
    .map((n) => ({
      ...n,
      inputs: Object.fromEntries(Object.entries(n.inputs).filter(([, t]) => fromX.has(t.id))),
    }));
}

/** y = f() (a scalar) and dy/dx for each x of `xs` (same shapes), freeing memory during the backward pass. */
export function valueAndGrads(f: () => tf.Scalar, xs: tf.Tensor[]): { value: tf.Scalar; grads: tf.Tensor[] } {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.state.gradientDepth > 0) {
    return tf.engine().gradients(f, xs) as { value: tf.Scalar; grads: tf.Tensor[] };
  }
  if (xs.length === 0) throw new Error('valueAndGrads: xs is empty');
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor)) throw new Error('valueAndGrads: f must return a tensor');
  const tape = engine.state.activeTape ?? [];
  try {
    return backward(engine, nodesFromXsToY(tape, xs, y), xs, y);
  } finally {
    for (const node of tape) for (const t of node.saved ?? []) t.dispose();
    engine.state.activeTape = null;
  }
}

function backward(
  engine: EngineInternals,
  nodes: TapeNode[],
  xs: tf.Tensor[],
  y: tf.Scalar,
): { value: tf.Scalar; grads: tf.Tensor[] } {
  if (nodes.length === 0) {
    throw new Error('valueAndGrads: y = f() does not depend on any of xs (build y from xs inside f)');
  }
  return engine.tidy('backward', () => {
    const keep = new Set(xs.map((x) => x.id));
    const grads = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i];
      const dys = node.outputs.map((o) => grads.get(o.id) ?? null);
      const names = Object.keys(node.inputs);
      const gradient = node.gradient;
      if (!gradient) throw new Error(`valueAndGrads: no gradient for ${node.kernelName}`);
      // One scope per node: what its gradient function makes and does not return goes now.
      const dxs = engine.tidy(() => {
        const byInput = gradient(dys);
        return names.map((name) => {
          if (!(name in byInput)) throw new Error(`valueAndGrads: ${node.kernelName} gives no gradient for ${name}`);
          const dx = byInput[name]();
          const x = node.inputs[name];
          if (dx.dtype !== 'float32' || !tf.util.arraysEqual(dx.shape, x.shape)) {
            throw new Error(
              `valueAndGrads: ${node.kernelName}'s gradient for ${name} is ${dx.dtype} [${dx.shape}], its input float32 [${x.shape}]`,
            );
          }
          // A gradient that is one of the dys or saved tensors (identity-like ops) gets its own
          // reference: those are disposed below.
          return dys.includes(dx) || node.saved?.includes(dx) ? dx.clone() : dx;
        });
      });
      names.forEach((name, k) => {
        const id = node.inputs[name].id;
        const earlier = grads.get(id);
        if (!earlier) {
          grads.set(id, dxs[k]);
          return;
        }
        grads.set(id, tf.add(earlier, dxs[k]));
        earlier.dispose();
        dxs[k].dispose();
      });
      for (const o of node.outputs) {
        const g = grads.get(o.id);
        if (g && !keep.has(o.id)) {
          g.dispose();
          grads.delete(o.id);
        }
      }
      for (const t of node.saved ?? []) t.dispose();
    }
    const missing = xs.flatMap((x, i) => (grads.has(x.id) ? [] : [i]));
    if (missing.length > 0) throw new Error(`valueAndGrads: y does not depend on xs[${missing.join(', ')}]`);
    return { value: y, grads: xs.map((x) => grads.get(x.id) as tf.Tensor) };
  });
}
