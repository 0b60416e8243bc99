/**
 * The attention stem's kernel (SasaStemAttention) as one WebGL program for tfjs-backend-webgl,
 * projections included, inference only (the gradient stays the composed kernel).
 *
 * Blocks x [n, s, s, d_in], wq, wk [d_in, F], wv [P, d_in, F] (P = 1, or s² row-major: one value
 * matrix per position in the block), relRow, relCol [2s-1, F/2] or absent → y [n, s, s, F]
 * (lse [n, s, s, N]). Per output element (m, i, j, f), head h = floor(f / D), D = F/N, its channels
 * [hD, (h+1)D), q̂ = scale · x_ij·wq (the head's channels), and every pixel (a, b) of the block:
 *   logit[a,b] = q̂·(x_ab·wk) + q̂_row·relRow[a - i + s - 1] + q̂_col·relCol[b - j + s - 1]
 *   y_ijf = Σ softmax(logit) · (x_ab·wv[p])_f,  p = a·s + b (or 0 when P = 1)
 *   lse_ijh = log Σ exp(logit)
 * — ops/attention_stem.ts's stemAttentionReference (localAttention2d with kernel size 2s-1 and
 * 'masked' padding on the projections). q̂·(x_ab·wk) is computed as x_ab·u with u = wk·q̂ (d_in
 * numbers per fragment), so keys are never formed: each window position costs 2·d_in products.
 */
import type { GPGPUProgram, MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import type * as tf from '../../tf.js';
import type { StemAttentionAttrs } from '../kernel_names.js';
import {
  type AttentionOutput,
  glslFloat,
  relativeLogitsGlsl,
  softmaxResult,
  softmaxStart,
  softmaxStep,
} from './glsl.js';
import { attentionOutputs } from './lse.js';

/** The shapes and attributes of a stem attention call. */
export interface StemGeometry {
  blocks: number;
  block: number;
  inChannels: number;
  filters: number;
  positions: number;
  heads: number;
  scale: number;
  relative: boolean;
}

/** y [n, s, s, F] or lse [n, s, s, N] of the stem's attention (see the file comment). */
export class StemAttentionProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;

  constructor(g: StemGeometry, output: AttentionOutput) {
    const { blocks, block, inChannels, filters, positions, heads, relative } = g;
    this.variableNames = [
      'x',
      'wq',
      'wk',
      ...(output === 'y' ? ['wv'] : []),
      ...(relative ? ['relRow', 'relCol'] : []),
    ];
    this.outputShape = [blocks, block, block, output === 'y' ? filters : heads];
    const head = output === 'y' ? 'coords.w / HEAD_DIM' : 'coords.w';
    const position = positions === 1 ? '0' : 'a * BLOCK + b';
    const value =
      output === 'y'
        ? `float value = 0.0;
      for (int d = 0; d < IN_CHANNELS; d++) value += pixel[d] * getWv(${position}, d, coords.w);`
        : 'float value = 0.0;';
    this.userCode = `
const int BLOCK = ${block};
const int OFFSETS = ${2 * block - 1};
const int IN_CHANNELS = ${inChannels};
const int HEAD_DIM = ${filters / heads};
const int HALF = ${filters / 2};
const float SCALE = ${glslFloat(g.scale)};

void main() {
  ivec4 coords = getOutputCoords();
  int m = coords.x;
  int i = coords.y;
  int j = coords.z;
  int first = (${head}) * HEAD_DIM;
  float centre[IN_CHANNELS];
  for (int d = 0; d < IN_CHANNELS; d++) centre[d] = getX(m, i, j, d);
  float query[HEAD_DIM];
  for (int u = 0; u < HEAD_DIM; u++) {
    float projected = 0.0;
    for (int d = 0; d < IN_CHANNELS; d++) projected += centre[d] * getWq(d, first + u);
    query[u] = SCALE * projected;
  }
  float keyQuery[IN_CHANNELS];
  for (int d = 0; d < IN_CHANNELS; d++) {
    float dotted = 0.0;
    for (int u = 0; u < HEAD_DIM; u++) dotted += query[u] * getWk(d, first + u);
    keyQuery[d] = dotted;
  }
  ${relative ? relativeLogitsGlsl('OFFSETS') : ''}
  ${softmaxStart()}
  for (int a = 0; a < BLOCK; a++) {
    for (int b = 0; b < BLOCK; b++) {
      float pixel[IN_CHANNELS];
      float logit = ${relative ? 'rowLogit[a - i + BLOCK - 1] + colLogit[b - j + BLOCK - 1]' : '0.0'};
      for (int d = 0; d < IN_CHANNELS; d++) {
        pixel[d] = getX(m, a, b, d);
        logit += pixel[d] * keyQuery[d];
      }
      ${value}
      ${softmaxStep('logit', 'value')}
    }
  }
  ${softmaxResult(output)}
}
`;
  }
}

type Inputs = Record<string, tf.TensorInfo>;

/** SasaStemAttention on WebGL: inputs x, wq, wk, wv, relRow, relCol ([0] without relative logits) → [y, lse]. */
export const stemAttentionWebgl: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const named = inputs as Inputs;
  const { heads, scale, relative } = attrs as unknown as StemAttentionAttrs;
  const [blocks, block, , inChannels] = named.x.shape;
  const [positions, , filters] = named.wv.shape;
  const g: StemGeometry = { blocks, block, inChannels, filters, positions, heads, scale, relative: relative === 1 };
  const webgl = backend as MathBackendWebGL;
  return attentionOutputs(webgl, [blocks, block, block, heads], (output) => new StemAttentionProgram(g, output), named);
};
