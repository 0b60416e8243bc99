/**
 * The local attention kernels (SasaLocalAttention, SasaLocalAttentionPacked) for tfjs-backend-webgl,
 * inference only (the gradients stay the TypeScript / composed kernels, fed this kernel's lse): the
 * scalar program below, one float per fetch and per fragment, for any geometry; where heads are
 * whole groups of four channels, the vec4 program of local_attention_vec4.ts (same formula).
 *
 * Per output element (b, i, j, c) of y [B, H, W, C], with head n = floor(c / D), D = C/N, its
 * channels [nD, (n+1)D), q̂ = scale · q_ij and h = (k-1)/2, over the window
 * (a, b') = (i + da - h, j + db - h), da, db ∈ [0, k):
 *   logit[da,db] = q̂·k_ab' + q̂_row·relRow[da] + q̂_col·relCol[db]
 *   y_ijc = Σ softmax(logit) · v_ab'c,   lse_ijn = log Σ exp(logit)   ([B, H, W, N])
 * where q̂_row / q̂_col are the head's channels below / above C/2 (kernel_ts.ts has the same formula
 * and is the reference). Outside the image k = v = 0 ('zeros') or the position is skipped ('masked').
 * Each fragment recomputes its head's k² logits (D·k² products) and accumulates the softmax in one
 * pass; lse is a second run of the same program with output 'lse' (one fragment per head), made only
 * while a gradient is recorded (lse.ts).
 * Layouts: q, k, v separate [B, H, W, C], or packed in qkv [B, H, W, P·C] = q|k|v (P = 3) or q|v
 * (P = 2, logits 'qr'). Shapes are compiled in as constants (tfjs caches one program per shape).
 */
import type { GPGPUProgram, MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import * as tf from '../../tf.js';
import type { LocalAttentionAttrs } from '../kernel_names.js';
import { type AttentionGeometry, kernelGeometry, kernelShapes } from '../local_attention/options.js';
import {
  type AttentionOutput,
  glslFloat,
  relativeLogitsGlsl,
  softmaxResult,
  softmaxStart,
  softmaxStep,
} from './glsl.js';
import { fitsVec4, LocalAttentionVec4Program } from './local_attention_vec4.js';
import { attentionOutputs } from './lse.js';

/** Where q, k and v are read from: three tensors, or channel ranges of one packed qkv. */
export type QkvLayout = 'separate' | 'packed';

/** GLSL readers readQ/readK/readV(b, i, j, c) for the layout, and the program's input names. */
function readers(g: AttentionGeometry, layout: QkvLayout): { inputs: string[]; code: string } {
  const tables = g.useQR ? ['relRow', 'relCol'] : [];
  const reader = (name: string, body: string) => `float read${name}(int b, int i, int j, int c) { return ${body}; }`;
  if (layout === 'packed') {
    const valueOffset = (g.useQK ? 2 : 1) * g.channels;
    const code = [
      reader('Q', 'getQkv(b, i, j, c)'),
      g.useQK ? reader('K', `getQkv(b, i, j, ${g.channels} + c)`) : '',
      reader('V', `getQkv(b, i, j, ${valueOffset} + c)`),
    ];
    return { inputs: ['qkv', ...tables], code: code.join('\n') };
  }
  const code = [
    reader('Q', 'getQ(b, i, j, c)'),
    g.useQK ? reader('K', 'getK(b, i, j, c)') : '',
    reader('V', 'getV(b, i, j, c)'),
  ];
  return { inputs: ['q', ...(g.useQK ? ['k'] : []), 'v', ...tables], code: code.join('\n') };
}

/** y [B, H, W, C] or lse [B, H, W, N] of local attention (see the file comment). */
export class LocalAttentionProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;

  constructor(g: AttentionGeometry, layout: QkvLayout, output: AttentionOutput) {
    const { batch, height, width, channels, heads, kernelSize } = g;
    const read = readers(g, layout);
    this.variableNames = read.inputs;
    this.outputShape = [batch, height, width, output === 'y' ? channels : heads];
    const head = output === 'y' ? 'coords.w / HEAD_DIM' : 'coords.w';
    const relative = g.useQR ? 'rowLogit[da] + colLogit[db]' : '0.0';
    const keyTerm = g.useQK
      ? `if (inside) for (int u = 0; u < HEAD_DIM; u++) logit += query[u] * readK(batch, a, bb, first + u);`
      : '';
    const value = output === 'y' ? 'inside ? readV(batch, a, bb, coords.w) : 0.0' : '0.0';
    this.userCode = `
const int HEIGHT = ${height};
const int WIDTH = ${width};
const int KSIZE = ${kernelSize};
const int HALF_K = ${(kernelSize - 1) / 2};
const int HEAD_DIM = ${channels / heads};
const int HALF = ${channels / 2};
const float SCALE = ${glslFloat(g.scale)};
${read.code}

void main() {
  ivec4 coords = getOutputCoords();
  int batch = coords.x;
  int i = coords.y;
  int j = coords.z;
  int first = (${head}) * HEAD_DIM;
  float query[HEAD_DIM];
  for (int u = 0; u < HEAD_DIM; u++) query[u] = SCALE * readQ(batch, i, j, first + u);
  ${g.useQR ? relativeLogitsGlsl('KSIZE') : ''}
  ${softmaxStart()}
  for (int da = 0; da < KSIZE; da++) {
    int a = i + da - HALF_K;
    bool rowInside = a >= 0 && a < HEIGHT;
    ${g.masked ? 'if (!rowInside) continue;' : ''}
    for (int db = 0; db < KSIZE; db++) {
      int bb = j + db - HALF_K;
      bool inside = rowInside && bb >= 0 && bb < WIDTH;
      ${g.masked ? 'if (!inside) continue;' : ''}
      float logit = ${relative};
      ${keyTerm}
      ${softmaxStep('logit', value)}
    }
  }
  ${softmaxResult(output)}
}
`;
  }
}

type Inputs = Record<string, tf.TensorInfo>;

/** The backend's Reshape kernel on x (free for unpacked textures, a copy for some packed ones). */
function reshape(backend: MathBackendWebGL, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  const kernel = tf.getKernel(tf.Reshape, tf.getBackend());
  if (!kernel) throw new Error(`no Reshape kernel for backend '${tf.getBackend()}'`);
  return kernel.kernelFunc({ inputs: { x }, backend, attrs: { shape } }) as tf.TensorInfo;
}

/** y and lse by the vec4 program: inputs viewed as [n/2, 2], y reshaped back to [B, H, W, C]. */
function runVec4(backend: MathBackendWebGL, g: AttentionGeometry, layout: QkvLayout, inputs: Inputs): tf.TensorInfo[] {
  const views: Inputs = {};
  for (const [name, t] of Object.entries(inputs)) {
    if (t.shape.length > 1) views[name] = reshape(backend, t, [tf.util.sizeFromShape(t.shape) / 2, 2]);
  }
  const lseShape = [g.batch, g.height, g.width, g.heads];
  const [flat, lse] = attentionOutputs(
    backend,
    lseShape,
    (output) => new LocalAttentionVec4Program(g, layout, output),
    views,
  );
  const y = reshape(backend, flat, [g.batch, g.height, g.width, g.channels]);
  backend.disposeIntermediateTensorInfo(flat);
  for (const view of Object.values(views)) backend.disposeIntermediateTensorInfo(view);
  return [y, lse];
}

/** y and lse of one geometry and layout: the vec4 program where it fits (WebGL 2: texelFetch), else the scalar one. */
function run(backend: MathBackendWebGL, g: AttentionGeometry, layout: QkvLayout, inputs: Inputs): tf.TensorInfo[] {
  if (fitsVec4(g) && tf.env().getNumber('WEBGL_VERSION') === 2) return runVec4(backend, g, layout, inputs);
  const lseShape = [g.batch, g.height, g.width, g.heads];
  return attentionOutputs(backend, lseShape, (output) => new LocalAttentionProgram(g, layout, output), inputs);
}

/** SasaLocalAttention on WebGL: inputs q, k, v, relRow, relCol (unused ones [0]) → [y, lse]. */
export const localAttentionWebgl: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const named = inputs as Inputs;
  const g = kernelGeometry(kernelShapes(named), attrs as unknown as LocalAttentionAttrs);
  return run(backend as MathBackendWebGL, g, 'separate', named);
};

/** SasaLocalAttentionPacked on WebGL: inputs qkv [B, H, W, P·C], relRow, relCol → [y, lse]. */
export const localAttentionPackedWebgl: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const named = inputs as Inputs;
  const a = attrs as unknown as LocalAttentionAttrs;
  const parts = a.logits === 'qr' ? 2 : 3;
  const [b, h, w, packed] = named.qkv.shape;
  const shape = [b, h, w, packed / parts];
  const shapes = {
    q: shape,
    k: parts === 3 ? shape : [0],
    v: shape,
    relRow: named.relRow.shape,
    relCol: named.relCol.shape,
  };
  return run(backend as MathBackendWebGL, kernelGeometry(shapes, a), 'packed', named);
};
