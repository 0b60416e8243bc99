/**
 * One fuzz case on both backends: the tfjs `cpu` backend (the reference) and `native`. The
 * inputs are rebuilt from their specs on each backend, so both see bit-identical values.
 * Verdicts: both refuse (the native message must be clear), both accept (values must match:
 * tolerance scaled to the reduction length, NaN where cpu gives NaN), or they disagree.
 */

import { hashInts, rng } from '../../src/data/random.js';
import * as tf from '../../src/tf.js';
import { useBackend } from '../helpers.js';
import type { InputSpec } from './random.js';

export interface FuzzCase {
  op: string;
  seed: number;
  index: number;
  inputs: (InputSpec | null)[];
  attrs: Record<string, unknown>;
  /** Also run the gradients of the float inputs (with a seeded dy). */
  grad: boolean;
  /** Terms summed into one output value (scales the tolerance). */
  reduction: number;
  /** A bad attribute or a non-float32 input: a clear native refusal is fine even where cpu accepts. */
  unusual: boolean;
  /**
   * With NaN or ±Infinity among the inputs, compare only the output shapes. The attention
   * kernels work on whole small images (windows masked by -inf logits, so 0·NaN spreads a
   * non-finite value beyond its windows) and short-cut one-pixel softmaxes; the block max's
   * argmax among NaNs is the backends' own choice.
   */
  looseSpecial?: boolean;
}

/**
 * An op's extra absolute tolerance for output o's element i, beyond the reduction-scaled one, from the
 * case's input values and cpu's outputs: for ill-conditioned ops, where a rounding of the inputs'
 * size is amplified (see the batch norms in ops.ts).
 */
export type Slack = (
  inputs: (Float64Array | null)[],
  ref: Float64Array[],
  c: FuzzCase,
) => (o: number, i: number) => number;

export type Verdict =
  | { kind: 'match' }
  | { kind: 'refused'; message: string }
  | { kind: 'refused-stricter'; message: string }
  | { kind: 'unclear-error'; message: string; cpu: string }
  | { kind: 'native-refused'; message: string }
  | { kind: 'native-accepted'; cpu: string }
  | { kind: 'mismatch'; detail: string };

type Outcome = { values: { shape: number[]; dtype: string; data: Float64Array }[] } | { error: unknown };

/** Messages that leak the addon's internals instead of naming an argument. */
const RAW = /napi_|N-API|std::|terminate called|dnnl_|oneDNN error|Invalid typed array length|allocation failed/i;

function values(spec: InputSpec, seed: number): number[] {
  const r = rng(seed);
  const n = spec.shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, () => {
    if (spec.dtype === 'bool') return r() < 0.5 ? 0 : 1;
    if (spec.dtype === 'int32') return Math.floor(r() * 7) - 3;
    if (spec.special && r() < 0.1)
      return [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][Math.floor(r() * 3)];
    return r() * 2 - 1;
  });
}

/** The tensor of `spec`, made through the view it names (slices and transposes of a bigger tensor). */
export function makeInput(spec: InputSpec, seed: number): tf.Tensor {
  const { shape, dtype, view } = spec;
  const rank = shape.length;
  const plain = () => tf.tensor(values(spec, seed), shape, dtype);
  if (view === 'plain' || rank === 0) return plain();
  if (view === 'transposed') {
    const perm = shape.map((_, i) => rank - 1 - i);
    const reversed = perm.map((p) => shape[p]);
    return tf.tidy(() => tf.transpose(tf.tensor(values({ ...spec, shape: reversed }, seed), reversed, dtype), perm));
  }
  // offset: one extra leading row, sliced off (tfjs's cpu slice returns a subarray view);
  // strided: two extra columns in the last dimension.
  const axis = view === 'offset' ? 0 : rank - 1;
  const big = shape.slice();
  big[axis] += view === 'offset' ? 1 : 2;
  const begin = shape.map((_, i) => (i === axis ? 1 : 0));
  return tf.tidy(() => tf.slice(tf.tensor(values({ ...spec, shape: big }, seed), big, dtype), begin, shape));
}

export type OpRunner = (xs: (tf.Tensor | null)[], attrs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** The case's outputs on the current backend, and with `grad` the gradients of its first output. */
export function outputs(c: FuzzCase, run: OpRunner): tf.Tensor[] {
  const xs = c.inputs.map((s, i) => (s ? makeInput(s, hashInts(c.seed, c.index, i)) : null));
  const out = run(xs, c.attrs);
  const ys = Array.isArray(out) ? out : [out];
  if (!c.grad) return ys;
  const floats = xs.filter((x): x is tf.Tensor => x !== null && x.dtype === 'float32');
  const y0 = ys[0];
  const dy = tf.tensor(
    values({ shape: y0.shape, dtype: 'float32', view: 'plain', special: false }, c.seed + 1),
    y0.shape,
  );
  const f = (...fs: tf.Tensor[]) => {
    const swapped = xs.map((x) => (x && floats.includes(x) ? fs[floats.indexOf(x)] : x));
    const o = run(swapped, c.attrs);
    return Array.isArray(o) ? o[0] : o;
  };
  return [...ys, ...tf.grads(f)(floats, dy)];
}

/** The values of the case's inputs (on the current backend), null for absent ones. */
function inputValues(c: FuzzCase): (Float64Array | null)[] {
  return tf.tidy(() =>
    c.inputs.map((s, i) => (s ? Float64Array.from(makeInput(s, hashInts(c.seed, c.index, i)).dataSync()) : null)),
  );
}

async function outcome(backend: string, c: FuzzCase, run: OpRunner): Promise<Outcome> {
  await useBackend(backend);
  try {
    let result: Outcome = { values: [] };
    tf.tidy(() => {
      const ys = outputs(c, run);
      result = {
        values: ys.map((t) => ({ shape: t.shape.slice(), dtype: t.dtype, data: Float64Array.from(t.dataSync()) })),
      };
    });
    return result;
  } catch (error) {
    return { error };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message}` : `non-Error ${String(error)}`;
}

/** The first difference beyond tolerance between native `got` and cpu `ref`, or null. */
function difference(
  got: Outcome & { values: unknown },
  ref: Outcome & { values: unknown },
  c: FuzzCase,
  slack: (o: number, i: number) => number,
): string | null {
  const { reduction } = c;
  // With NaN or ±Infinity among the inputs, which of NaN and ±Infinity comes out depends on the
  // order of the arithmetic: there, non-finite must meet non-finite.
  const special = c.inputs.some((s) => s?.special);
  if (got.values.length !== ref.values.length) return `${got.values.length} outputs, cpu gives ${ref.values.length}`;
  const tol = 2e-6 * (1 + Math.sqrt(reduction) + reduction / 8);
  for (let o = 0; o < got.values.length; o++) {
    const [g, r] = [got.values[o], ref.values[o]];
    if (g.shape.length !== r.shape.length || g.shape.some((d, i) => !Object.is(d, r.shape[i])))
      return `output ${o} shape [${g.shape}], cpu [${r.shape}]`;
    if (g.dtype !== r.dtype) return `output ${o} dtype ${g.dtype}, cpu ${r.dtype}`;
    if (special && c.looseSpecial) continue;
    let scale = 1;
    for (const v of r.data) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < g.data.length; i++) {
      const [a, b] = [g.data[i], r.data[i]];
      if (!Number.isFinite(a) || !Number.isFinite(b)) {
        const same = special
          ? !Number.isFinite(a) && !Number.isFinite(b)
          : Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
        if (!same) return `output ${o}[${i}] = ${a}, cpu ${b}`;
      } else if (Math.abs(a - b) > tol * scale + slack(o, i))
        return `output ${o}[${i}] = ${a}, cpu ${b} (tolerance ${tol * scale + slack(o, i)})`;
    }
  }
  return null;
}

/**
 * Runs `c` on native, then on cpu unless native clearly refused an unusual case (cpu's kernels
 * may try to allocate a huge output and exhaust the heap), and judges the pair.
 */
export async function judge(c: FuzzCase, run: OpRunner, slack?: Slack): Promise<Verdict> {
  const got = await outcome('native', c, run);
  const clear =
    'error' in got && got.error instanceof Error && got.error.message.length >= 8 && !RAW.test(messageOf(got.error));
  if ('error' in got && clear && c.unusual) return { kind: 'refused-stricter', message: messageOf(got.error) };
  const ref = await outcome('cpu', c, run);
  if ('error' in got) {
    const message = messageOf(got.error);
    if (!('error' in ref)) return { kind: 'native-refused', message };
    const cpu = messageOf(ref.error);
    return clear || message === cpu ? { kind: 'refused', message } : { kind: 'unclear-error', message, cpu };
  }
  if ('error' in ref) return { kind: 'native-accepted', cpu: messageOf(ref.error) };
  const refData = ref.values.map((v) => v.data);
  const detail = difference(got, ref, c, slack ? slack(inputValues(c), refData, c) : () => 0);
  return detail ? { kind: 'mismatch', detail } : { kind: 'match' };
}

/** A failing verdict (anything but a match or a clear refusal shared with cpu). */
export function isFailure(v: Verdict): boolean {
  return v.kind !== 'match' && v.kind !== 'refused' && v.kind !== 'refused-stricter';
}

/** The case as one line of JSON (NaN and Infinity spelled out) to reproduce it. */
export function describeCase(c: FuzzCase): string {
  return JSON.stringify(c, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}
