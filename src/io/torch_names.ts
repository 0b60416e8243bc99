/**
 * PyTorch-style names and layouts for a model's weights, so a torchvision-style reference loads them:
 *   layer1.0.conv1/kernel [kh, kw, in, out]  ↔  layer1.0.conv1.weight [out, in, kh, kw]
 *   fc/kernel [in, out]                      ↔  fc.weight [out, in];   X/bias ↔ X.bias
 *   X/gamma, beta, moving_mean, moving_variance ↔ X.weight, X.bias, X.running_mean, X.running_var
 *   (the attention stem's batch norm: stem/bn_gamma ↔ stem.bn.weight, …)
 *   attention: X/query_kernel, key_kernel, value_kernel [in, out] ↔ X.query.weight, X.key.weight,
 *   X.value.weight [out, in]; the stem's mixture values [m, in, out] ↔ [m, out, in], its conv values
 *   [k, k, in, out] ↔ [out, in, k, k]; tables and embeddings (rel_row, emb_mix, …) keep their shape.
 */
import * as tf from '../tf.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

/** A weight under its PyTorch name, in PyTorch's layout: its shape and row-major float32 data. */
export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

const BN: Record<string, string> = {
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
};
const PROJECTIONS: Record<string, string> = { query_kernel: 'query', key_kernel: 'key', value_kernel: 'value' };

/** The PyTorch name of a tfjs weight name ('layer/weight'), and the permutation from tfjs to PyTorch layout. */
export function torchName(tfName: string, rank: number): { name: string; perm: number[] | null } {
  const slash = tfName.lastIndexOf('/');
  if (slash < 0) throw new Error(`weight name '${tfName}' has no layer prefix ('layer/weight')`);
  const layer = tfName.slice(0, slash);
  const weight = tfName.slice(slash + 1);
  if (weight.startsWith('bn_') && BN[weight.slice(3)])
    return { name: `${layer}.bn.${BN[weight.slice(3)]}`, perm: null };
  if (BN[weight]) return { name: `${layer}.${BN[weight]}`, perm: null };
  if (weight === 'bias') return { name: `${layer}.bias`, perm: null };
  const toTorch: Record<number, number[]> = { 2: [1, 0], 3: [0, 2, 1], 4: [3, 2, 0, 1] };
  if (weight === 'kernel') return { name: `${layer}.weight`, perm: toTorch[rank] ?? null };
  if (PROJECTIONS[weight]) return { name: `${layer}.${PROJECTIONS[weight]}.weight`, perm: toTorch[rank] ?? null };
  return { name: `${layer}.${weight}`, perm: null };
}

const inverse = (perm: number[]) => perm.map((_, i) => perm.indexOf(i));

function weightsOf(model: tf.LayersModel): tf.LayerVariable[] {
  return model.weights;
}

/** Every weight (trainable and not) under its PyTorch name and layout. */
export function toTorchStateDict(model: tf.LayersModel): NamedArray[] {
  return weightsOf(model).map((w) => {
    const { name, perm } = torchName(w.originalName, w.shape.length);
    return tf.tidy(() => {
      const t = perm ? tf.transpose(w.read(), perm) : w.read();
      return { name, shape: t.shape, data: t.dataSync() as Float32Array };
    });
  });
}

/**
 * Sets every weight of `model` from a PyTorch-style state dict. Every weight must be present with
 * the right shape; errors name the weight. Names in `state` the model does not have are an error too.
 */
export function fromTorchStateDict(
  model: tf.LayersModel,
  state: Map<string, { shape: number[]; data: ArrayLike<number> }>,
): void {
  const seen = new Set<string>();
  const values = weightsOf(model).map((w) => {
    const { name, perm } = torchName(w.originalName, w.shape.length);
    const entry = state.get(name);
    if (!entry) throw new Error(`weight '${name}' (model weight '${w.originalName}') is missing`);
    seen.add(name);
    const want = perm ? perm.map((p) => w.shape[p] as number) : (w.shape as number[]);
    if (entry.shape.length !== want.length || entry.shape.some((d, i) => d !== want[i])) {
      throw new Error(`weight '${name}' has shape [${entry.shape}], the model needs [${want}]`);
    }
    return tf.tidy(() => {
      const t = tf.tensor(Float32Array.from(entry.data), entry.shape, 'float32');
      return perm ? tf.transpose(t, inverse(perm)) : t;
    });
  });
  const extra = [...state.keys()].filter((k) => !seen.has(k));
  if (extra.length) {
    tf.dispose(values);
    throw new Error(`weights not in the model: ${extra.slice(0, 10).join(', ')}${extra.length > 10 ? ', …' : ''}`);
  }
  model.setWeights(values);
  tf.dispose(values);
}

/** Writes every weight of `model` as a safetensors file with PyTorch names and layouts. */
export async function exportTorchSafetensors(
  model: tf.LayersModel,
  path: string,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeSafetensors(path, toTorchStateDict(model), { format: 'pt', ...metadata });
}

/** Sets every weight of `model` from a safetensors file with PyTorch names; errors name the file and the weight. */
export async function importTorchSafetensors(model: tf.LayersModel, path: string): Promise<void> {
  const { tensors } = await readSafetensors(path);
  const state = new Map<string, { shape: number[]; data: ArrayLike<number> }>();
  for (const [name, t] of tensors) {
    if (t.dtype !== 'F32' && t.dtype !== 'F64')
      throw new Error(`${path}: weight '${name}' has dtype ${t.dtype}, not a float`);
    state.set(name, { shape: t.shape, data: t.data as Float32Array | Float64Array });
  }
  try {
    fromTorchStateDict(model, state);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}
