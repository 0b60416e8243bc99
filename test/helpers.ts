/**
 * Shared test helpers: a seeded PRNG, backend set-up, native-vs-cpu comparison and finite
 * differences. Tests build inputs as plain arrays and make tensors from them on each backend,
 * so both backends see bit-identical inputs.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { loadAddon } from '../src/backend/addon.js';
import { type BackendStatus, initBackend, NATIVE_BACKEND } from '../src/backend/native.js';
import { localAttention2d } from '../src/ops/local_attention/op.js';
import type { LocalAttentionOptions } from '../src/ops/local_attention/options.js';
import * as tf from '../src/tf.js';

/** SASA_TEST_FAST=1: run a representative subset of the cases. */
export const FAST = process.env.SASA_TEST_FAST === '1';

const addonLoad = loadAddon();
const requestedBackend = process.env.SASA_BACKEND ?? NATIVE_BACKEND;

/** True when initBackend() will select the native backend, so native-vs-cpu comparisons mean something. */
export const nativeAvailable = addonLoad.addon !== null && requestedBackend === NATIVE_BACKEND;

/** Why the native backend is not in use (false when it is). */
export const nativeSkipReason: string | false = nativeAvailable
  ? false
  : `native backend not active (${addonLoad.addon ? `SASA_BACKEND=${requestedBackend}` : addonLoad.reason})`;

/**
 * A describe() that is skipped, with the reason, unless the native backend is active.
 * `why` says what the suite needs native for (shown in the skip message).
 */
export function describeNative(name: string, fn: () => void, why = 'native-vs-cpu comparisons are meaningless'): void {
  describe(name, { skip: nativeSkipReason ? `${nativeSkipReason}: ${why}` : false }, fn);
}

let initialised: Promise<BackendStatus> | undefined;

/** initBackend() once per process (throws under SASA_REQUIRE_NATIVE=1 without the addon). */
export function setup(): Promise<BackendStatus> {
  initialised ??= initBackend().then((status) => {
    quiet();
    return status;
  });
  return initialised;
}

/** The backend initBackend() selected ('native', or 'cpu' as the fallback). */
export async function defaultBackend(): Promise<string> {
  return (await setup()).backend;
}

/** Silences tfjs's "use tfjs-node" banner that the stock cpu backend prints on first use. */
function quiet(): void {
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
}

/** Switches to `name` (and silences the cpu banner). */
export async function useBackend(name: string): Promise<void> {
  await setup();
  if (tf.getBackend() !== name) {
    assert.ok(await tf.setBackend(name), `could not switch to backend '${name}'`);
  }
  quiet();
}

// ---------------------------------------------------------------------------------------------
// Seeded random data

/** mulberry32 (the library's own seeded generator). */
export { rng } from '../src/data/random.js';

import { rng } from '../src/data/random.js';

/** n uniform values in [lo, hi) from `seed`. */
export function randArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** n values with |v| in [lo, hi) and random sign (safe denominators). */
export function randAwayFromZero(n: number, seed: number, lo = 0.5, hi = 1.5): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = lo + (hi - lo) * r();
    out[i] = r() < 0.5 ? -v : v;
  }
  return out;
}

/** A random integer in [lo, hi]. */
export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A float32 tensor of uniform values in [lo, hi), identical on every backend for the same seed. */
export function randTensor(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  return tf.tensor(randArray(sizeOf(shape), seed, lo, hi), shape, 'float32');
}

/** sum(y · R) with R a fixed random tensor: a scalar loss whose gradient w.r.t. y is R. */
export function weightedSum(y: tf.Tensor, seed = 987): tf.Scalar {
  return tf.sum(tf.mul(y, randTensor(y.shape, seed)));
}

// ---------------------------------------------------------------------------------------------
// Comparison

export interface Result {
  shape: number[];
  dtype: string;
  values: Float64Array;
}

/** Runs `fn` on backend `name` and reads back every output; all tensors are disposed. */
export async function runOn(name: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<Result[]> {
  await useBackend(name);
  assert.equal(tf.getBackend(), name, `expected backend '${name}' to be active`);
  let results: Result[] = [];
  tf.tidy(() => {
    const out = fn();
    const list = Array.isArray(out) ? out : [out];
    results = list.map((t) => ({ shape: t.shape.slice(), dtype: t.dtype, values: Float64Array.from(t.dataSync()) }));
  });
  return results;
}

export interface CloseOptions {
  /** Allowed max |actual - expected| is tol · (1 + max |expected|). */
  tol?: number;
  label?: string;
}

/** Asserts max |actual - expected| <= tol · (1 + max |expected|); NaN must match NaN. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { tol = 1e-4, label = 'values' }: CloseOptions = {},
): void {
  assert.equal(actual.length, expected.length, `${label}: length ${actual.length} != expected ${expected.length}`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    if (Number.isFinite(expected[i])) scale = Math.max(scale, Math.abs(expected[i]));
  }
  const allowed = tol * (1 + scale);
  let worst = -1;
  let worstDiff = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      assert.ok(Number.isNaN(e) && Number.isNaN(a), `${label}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      assert.equal(a, e, `${label}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    const d = Math.abs(a - e);
    if (d > worstDiff) {
      worstDiff = d;
      worst = i;
    }
  }
  assert.ok(
    worstDiff <= allowed,
    `${label}: max |diff| ${worstDiff.toExponential(3)} > ${allowed.toExponential(3)} at [${worst}]: got ${actual[worst]}, expected ${expected[worst]} (n=${expected.length}, max|ref|=${scale.toPrecision(4)})`,
  );
}

/** Asserts two result lists agree in count, shape, dtype and values. */
export function assertResultsClose(got: Result[], ref: Result[], options: CloseOptions = {}): void {
  const label = options.label ?? 'output';
  assert.equal(got.length, ref.length, `${label}: ${got.length} outputs, expected ${ref.length}`);
  for (let i = 0; i < ref.length; i++) {
    assert.deepEqual(got[i].shape, ref[i].shape, `${label}[${i}]: shape`);
    assert.equal(got[i].dtype, ref[i].dtype, `${label}[${i}]: dtype`);
    assertClose(got[i].values, ref[i].values, { ...options, label: `${label}[${i}]` });
  }
}

/**
 * Runs `fn` on tfjs's pure-JS `cpu` backend and on `native`, and asserts the outputs agree.
 * `fn` must build its inputs itself (from seeded arrays) so both backends see the same data.
 * Leaves the default backend active afterwards.
 */
export async function compareOnBackends(
  fn: () => tf.Tensor | tf.Tensor[],
  options: CloseOptions = {},
): Promise<{ ref: Result[]; got: Result[] }> {
  const back = await defaultBackend();
  try {
    const ref = await runOn('cpu', fn);
    const got = await runOn(NATIVE_BACKEND, fn);
    assertResultsClose(got, ref, options);
    return { ref, got };
  } finally {
    await useBackend(back);
  }
}

/** tf.grads(f) at `inputs`, with upstream gradient `dy` (ones when omitted). */
export function gradsOf(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], dy?: tf.Tensor): tf.Tensor[] {
  return tf.grads(f)(inputs, dy);
}

// ---------------------------------------------------------------------------------------------
// Finite differences

/** Central differences of a float64 scalar function: (f(x + h e_i) - f(x - h e_i)) / 2h. */
export function numericGradient(f: (x: Float64Array) => number, x: ArrayLike<number>, h = 1e-5): Float64Array {
  const p = Float64Array.from(x);
  const g = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    p[i] = v + h;
    const up = f(p);
    p[i] = v - h;
    const down = f(p);
    p[i] = v;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** Names of localAttention2d's five inputs, in order. */
export type AttentionInputName = 'q' | 'k' | 'v' | 'relRow' | 'relCol';

/**
 * localAttention2d as a function of only the inputs in `names` (the others passed as null), for
 * tf.grads.
 */
export function attentionOf(names: readonly AttentionInputName[], options: LocalAttentionOptions) {
  return (...xs: tf.Tensor[]) => {
    const get = (n: AttentionInputName) => {
      const i = names.indexOf(n);
      return i < 0 ? null : xs[i];
    };
    return localAttention2d(
      get('q') as tf.Tensor4D,
      get('k') as tf.Tensor4D | null,
      get('v') as tf.Tensor4D,
      get('relRow') as tf.Tensor2D | null,
      get('relCol') as tf.Tensor2D | null,
      options,
    );
  };
}
