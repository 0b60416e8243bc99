/**
 * LocalSelfAttention2D → standard operators (x NCHW [B, C_in, H, W], F filters, N heads, D = F/N,
 * K×K window, h = (K-1)/2):
 *   x (+ sinusoidal encoding [1, C_in, H, W] for 'absolute') → q, k, v: 1×1 Convs, q's weights × scale
 *   unfold(t) = Pad(t, h zeros each side) → K² shifted Slices [B, F, H, W] → Concat → [B, K², F, H, W]
 *   logits [B, K², N, H, W] = ReduceSum_D(q ⊙ unfold(k)) + q·R, the relative logits q·R a 1×1 Conv
 *     of q with weights [K²·N, F] (per head, R[da·K + db] = concat(relRow[da], relCol[db]) on the
 *     head's channels, zero elsewhere) ('qr' drops the first term, 'qk' the second)
 *     (+ a mask [1, K², 1, H, W] of -1e30 outside the image for 'masked'; 'zeros' padding keeps them, k = v = 0)
 *   p = Softmax over K²;  y [B, F, H, W] = ReduceSum_K²(p ⊙ unfold(v))
 *   strides 2: AveragePool 2×2 / 2 with TensorFlow's 'same' pads, counting covered pixels only.
 * A following batch norm folds its scale into W_V (y is linear in v, and so is the pooling) and its shift into an Add.
 */
import type { LocalSelfAttention2D } from '../../../layers/local_self_attention.js';
import { sinusoidalEncoding2d } from '../../../layers/positional_encoding.js';
import { effectiveScale } from '../../../ops/local_attention/options.js';
import type { OnnxGraphBuilder } from '../graph.js';
import { addChannelShift, type Emitter, samePads, scaleRows, weightOf } from './emitter.js';

/** A large negative logit for masked window positions (exp underflows to exactly 0). */
export const MASKED_LOGIT = -1e30;

/** [F, C_in, 1, 1] conv weights from a projection [C_in, F], times `factor`. */
function projectionToConv(data: Float32Array, cIn: number, f: number, factor = 1): Float32Array {
  const out = new Float32Array(cIn * f);
  for (let c = 0; c < cIn; c++) for (let o = 0; o < f; o++) out[o * cIn + c] = data[c * f + o] * factor;
  return out;
}

/** The K² window positions of t [B, F, H, W] as [B, K², F, H, W] (zeros outside the image). */
export function unfold(g: OnnxGraphBuilder, t: string, k: number, f: number, h: number, w: number, hint: string) {
  const half = (k - 1) / 2;
  const padded = g.op('Pad', [t, g.int64s([0, 0, half, half, 0, 0, half, half])], `${hint}.padded`);
  const slices: string[] = [];
  for (let da = 0; da < k; da++) {
    for (let db = 0; db < k; db++) {
      const inputs = [padded, g.int64s([da, db]), g.int64s([da + h, db + w]), g.int64s([2, 3])];
      slices.push(g.op('Slice', inputs, `${hint}.shift_${da}_${db}`));
    }
  }
  const stacked = g.op('Concat', slices, `${hint}.window`, { axis: 1 });
  return g.reshape(stacked, [0, k * k, f, h, w], `${hint}.unfolded`);
}

/** The relative-logit conv weights [K²·N, F]: row (da·K + db)·N + n holds concat(relRow[da], relCol[db]) on head n's channels. */
function relativeLogitWeights(relRow: Float32Array, relCol: Float32Array, k: number, f: number, n: number) {
  const half = f / 2;
  const d = f / n;
  const out = new Float32Array(k * k * n * f);
  for (let da = 0; da < k; da++)
    for (let db = 0; db < k; db++)
      for (let head = 0; head < n; head++) {
        const row = ((da * k + db) * n + head) * f;
        for (let c = head * d; c < (head + 1) * d; c++) {
          out[row + c] = c < half ? relRow[da * half + c] : relCol[db * half + c - half];
        }
      }
  return out;
}

/** [1, K², 1, H, W]: 0 where the window position lies inside the image, MASKED_LOGIT outside. */
function outsideMask(k: number, h: number, w: number): Float32Array {
  const half = (k - 1) / 2;
  const m = new Float32Array(k * k * h * w);
  for (let da = 0; da < k; da++)
    for (let db = 0; db < k; db++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) {
          const a = i + da - half;
          const b = j + db - half;
          if (a < 0 || a >= h || b < 0 || b >= w) m[((da * k + db) * h + i) * w + j] = MASKED_LOGIT;
        }
  return m;
}

/** [1, C, H, W] from the layer's [H, W, C] sinusoidal encoding. */
function encodingNchw(h: number, w: number, c: number): Float32Array {
  const e = sinusoidalEncoding2d(h, w, c);
  const hwc = e.dataSync();
  e.dispose();
  const out = new Float32Array(hwc.length);
  for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) out[ch * h * w + p] = hwc[p * c + ch];
  return out;
}

export const emitLocalSelfAttention2D: Emitter = (ctx) => {
  const layer = ctx.layer as LocalSelfAttention2D;
  const g = ctx.graph;
  const name = layer.name;
  const [h, w, cIn] = ctx.inputShapes[0];
  const { filters: f, heads: n, kernelSize: k } = layer;
  const d = f / n;
  const useQK = layer.logits !== 'qr';
  const useQR = layer.logits !== 'qk';
  let x = ctx.inputs[0];
  if (layer.positional === 'absolute') {
    x = g.op('Add', [x, g.floats(`${name}.encoding`, [1, cIn, h, w], encodingNchw(h, w, cIn))], `${name}.positioned`);
  }
  const project = (weight: string, factor = 1) => {
    const data = projectionToConv(weightOf(layer, weight).data, cIn, f, factor);
    return {
      data,
      output: g.op('Conv', [x, g.floats(`${name}.${weight}`, [f, cIn, 1, 1], data)], `${name}.${weight}_proj`),
    };
  };
  const q = project('query_kernel', effectiveScale(f, n, layer.scale)).output;
  const v = project('value_kernel');
  const terms: string[] = [];
  if (useQK) {
    const keys = unfold(g, project('key_kernel').output, k, f, h, w, `${name}.k`);
    const q5 = g.reshape(q, [0, 1, f, h, w], `${name}.q5`);
    const products = g.op('Mul', [q5, keys], `${name}.qk_products`);
    const byHead = g.reshape(products, [0, k * k, n, d, h, w], `${name}.by_head`);
    terms.push(g.op('ReduceSum', [byHead, g.int64s([3])], `${name}.qk`, { keepdims: 0 }));
  }
  if (useQR) {
    const table = relativeLogitWeights(weightOf(layer, 'rel_row').data, weightOf(layer, 'rel_col').data, k, f, n);
    const weights = g.floats(`${name}.relative`, [k * k * n, f, 1, 1], table);
    terms.push(g.reshape(g.op('Conv', [q, weights], `${name}.qr_flat`), [0, k * k, n, h, w], `${name}.qr`));
  }
  let logits = terms.length === 2 ? g.op('Add', terms, `${name}.logits`) : terms[0];
  if (layer.attentionPadding === 'masked') {
    const mask = g.floats(`${name}.mask`, [1, k * k, 1, h, w], outsideMask(k, h, w));
    logits = g.op('Add', [logits, mask], `${name}.masked_logits`);
  }
  const p = g.reshape(g.op('Softmax', [logits], `${name}.p`, { axis: 1 }), [0, k * k, n, 1, h, w], `${name}.p6`);
  const values = g.reshape(unfold(g, v.output, k, f, h, w, `${name}.v`), [0, k * k, n, d, h, w], `${name}.v6`);
  const weighted = g.op('Mul', [p, values], `${name}.weighted`);
  const summed = g.op('ReduceSum', [weighted, g.int64s([1])], `${name}.attended`, { keepdims: 0 });
  let y = g.reshape(summed, [0, f, h, w], `${name}.y`);
  if (layer.strides === 2) {
    y = g.op('AveragePool', [y], `${name}.pool`, {
      kernel_shape: [2, 2],
      strides: [2, 2],
      pads: samePads(h, w, 2, 2),
      count_include_pad: 0,
    });
  }
  const out = y;
  const fold = (scale: Float32Array, shift: Float32Array) => {
    scaleRows(v.data, scale);
    return addChannelShift(ctx, out, shift, name);
  };
  return { output: y, fold };
};
