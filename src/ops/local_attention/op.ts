/**
 * localAttention2d: the local self-attention op of SASA.md §1 on channels-last tensors.
 *   q, k, v: [B, H, W, C]; relRow, relCol: [k, C/2] → y: [B, H, W, C]
 * Kernels: SasaLocalAttention → [y, lse] and SasaLocalAttentionGrad → [dq, dk, dv, dRelRow,
 * dRelCol]. The native backend registers fused ones; on any other backend the pure-TypeScript
 * kernels (kernel_ts.ts) are registered on first use (composed_kernels.ts). Unused inputs (k for logits 'qr', the
 * tables for 'qk') travel as empty [0] tensors so that every kernel has the same five inputs.
 */
import * as tf from '../../tf.js';
import { type ComposedKernel, ensureKernels } from '../composed_kernels.js';
import { LOCAL_ATTENTION, LOCAL_ATTENTION_GRAD, type LocalAttentionAttrs } from '../kernel_names.js';
import { type AttentionInputs, type Floats, localAttentionBackward, localAttentionForward } from './kernel_ts.js';
import {
  type AttentionGeometry,
  kernelGeometry,
  kernelShapes,
  type LocalAttentionOptions,
  resolveGeometry,
} from './options.js';

const INPUTS = ['q', 'k', 'v', 'relRow', 'relCol'] as const;

/** What the TypeScript kernels use of a backend (the CPU, WebGL and WebGPU backends have both). */
type Backend = tf.KernelBackend & {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo;
};

function readInputs(backend: tf.KernelBackend, inputs: Record<string, tf.TensorInfo>): AttentionInputs {
  const read = (name: string) => {
    const t = inputs[name];
    if (!t || t.shape.length < 2) return null;
    const values = backend.readSync(t.dataId);
    return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  };
  return {
    q: read('q') as Float32Array,
    k: read('k'),
    v: read('v') as Float32Array,
    relRow: read('relRow'),
    relCol: read('relCol'),
  };
}

const tsForward: tf.KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as Backend;
  const named = inputs as Record<string, tf.TensorInfo>;
  const g = kernelGeometry(kernelShapes(named), attrs as unknown as LocalAttentionAttrs);
  const { y, lse } = localAttentionForward(g, readInputs(backend, named));
  const { batch: B, height: H, width: W, heads: N } = g;
  return [
    backend.makeTensorInfo(named.q.shape, 'float32', y as Float32Array),
    backend.makeTensorInfo([B, H, W, N], 'float32', lse as Float32Array),
  ];
};

const tsBackward: tf.KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as Backend;
  const named = inputs as Record<string, tf.TensorInfo>;
  const g = kernelGeometry(kernelShapes(named), attrs as unknown as LocalAttentionAttrs);
  const read = (name: string) => backend.readSync(named[name].dataId) as Float32Array;
  const grads = localAttentionBackward(g, readInputs(backend, named), read('dy'), read('lse'));
  const out = (name: string, values: Floats | null) =>
    backend.makeTensorInfo(named[name].shape, 'float32', (values as Float32Array | null) ?? new Float32Array(0));
  return [
    out('q', grads.dq),
    out('k', grads.dk),
    out('v', grads.dv),
    out('relRow', grads.dRelRow),
    out('relCol', grads.dRelCol),
  ];
};

const KERNELS: readonly ComposedKernel[] = [
  { kernelName: LOCAL_ATTENTION, kernelFunc: tsForward },
  { kernelName: LOCAL_ATTENTION_GRAD, kernelFunc: tsBackward },
];

/** Registers the TypeScript kernels for `backendName` unless it already has kernels for the op. */
export function ensureLocalAttentionKernels(backendName = tf.getBackend()): void {
  ensureKernels(KERNELS, backendName);
}

/** The kernel attributes of resolved options. */
export function attentionAttrs(g: AttentionGeometry): LocalAttentionAttrs {
  const { kernelSize, heads, scale, masked, useQK, useQR } = g;
  const logits = useQK && useQR ? 'qk+qr' : useQR ? 'qr' : 'qk';
  return { kernelSize, heads, scale, padding: masked ? 'masked' : 'zeros', logits };
}

tf.registerGradient({
  kernelName: LOCAL_ATTENTION,
  inputsToSave: [...INPUTS],
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy] = dys as tf.Tensor[];
    const [q, k, v, relRow, relCol, lse] = saved;
    const grads = tf
      .engine()
      .runKernel(
        LOCAL_ATTENTION_GRAD,
        { dy, q, k, v, relRow, relCol, lse },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
    return {
      q: () => grads[0],
      k: () => grads[1],
      v: () => grads[2],
      relRow: () => grads[3],
      relCol: () => grads[4],
    };
  },
});

function asTensor(name: string, t: tf.Tensor | null | undefined): tf.Tensor | null {
  if (t === null || t === undefined) return null;
  if (!(t instanceof tf.Tensor))
    throw new Error(`localAttention2d: ${name} must be a tf.Tensor or null, got ${typeof t}`);
  if (t.dtype !== 'float32') throw new Error(`localAttention2d: ${name} must be float32, got ${t.dtype}`);
  return t;
}

/**
 * Local self-attention over k×k neighbourhoods (SASA.md §1):
 *   y_ij = Σ_{ab ∈ N_k(ij)} softmax_ab(q̂_ij·k_ab + q̂_ij·r_{a-i,b-j}) v_ab, q̂ = scale·q, per head,
 * with r_{a-i,b-j} = concat(relRow[a-i+h], relCol[b-j+h]) split across heads like q.
 * q, k, v: [B, H, W, C]; relRow, relCol: [kernelSize, C/2]. Pass null for k when
 * logits is 'qr', and for the tables when it is 'qk'. Differentiable w.r.t. all five.
 */
export function localAttention2d(
  q: tf.Tensor4D,
  k: tf.Tensor4D | null,
  v: tf.Tensor4D,
  relRow: tf.Tensor2D | null,
  relCol: tf.Tensor2D | null,
  options: LocalAttentionOptions,
): tf.Tensor4D {
  const $q = asTensor('q', q);
  const $v = asTensor('v', v);
  if (!$q || !$v) throw new Error('localAttention2d: q and v are required');
  const $k = asTensor('k', k);
  const $relRow = asTensor('relRow', relRow);
  const $relCol = asTensor('relCol', relCol);
  const g = resolveGeometry(
    { q: $q.shape, k: $k?.shape ?? null, v: $v.shape, relRow: $relRow?.shape ?? null, relCol: $relCol?.shape ?? null },
    options,
  );
  const attrs = attentionAttrs(g);
  ensureLocalAttentionKernels();
  return tf.tidy(() => {
    const empty = () => tf.zeros([0]);
    const inputs = {
      q: $q,
      k: g.useQK && $k ? $k : empty(),
      v: $v,
      relRow: g.useQR && $relRow ? $relRow : empty(),
      relCol: g.useQR && $relCol ? $relCol : empty(),
    };
    const [y] = tf.engine().runKernel(LOCAL_ATTENTION, inputs, attrs) as tf.Tensor[];
    return y as tf.Tensor4D;
  });
}
