/**
 * AttentionStem → standard operators on s×s blocks (x NCHW [B, C_in, H, W], Hb = H/s, Wb = W/s,
 * F filters, N heads, D = F/N):
 *   blocks(t) [B, Hb, Wb, s², c] = Reshape → Transpose → Reshape of t [B, c, H, W]
 *   q, k = blocks(x)·W_Q (× scale), blocks(x)·W_K as [B, Hb, Wb, N, s², D]; values: 'mixture' one
 *     matrix per position in the block, W_V(a, b) = Σ_m p(a,b,m) W_V^m (a batched MatMul), 'plain'
 *     W_V, 'conv' a 'same' Conv of the image cut into blocks
 *   logits [B, Hb, Wb, N, s², s²] = q·kᵀ (+ q·R', R' [N, s², D, s²] the relative tables per
 *     (query, key) position in the block: concat(relRow, relCol)[a' - a + s - 1, b' - b + s - 1])
 *   y = Softmax(logits)·v, back to [B, F, H, W]; then the batch norm (scale folded into the value
 *   weights, shift an Add), MaxPool pool×pool / pool, Relu.
 */
import type { AttentionStem } from '../../../layers/attention_stem.js';
import type { OnnxGraphBuilder } from '../graph.js';
import { batchNormAffine } from './batch_norm.js';
import {
  addChannelShift,
  convKernelToOnnx,
  type EmitContext,
  type Emitter,
  samePads,
  scaleColumns,
  scaleRows,
  weightOf,
} from './emitter.js';

interface Geometry {
  s: number;
  hb: number;
  wb: number;
  n: number;
  d: number;
  f: number;
}

/** t [B, c, H, W] → [B, Hb, Wb, s², c]. */
function toBlocks(g: OnnxGraphBuilder, t: string, c: number, geo: Geometry, hint: string): string {
  const { s, hb, wb } = geo;
  const split = g.reshape(t, [0, c, hb, s, wb, s], `${hint}.split`);
  const moved = g.transpose(split, [0, 2, 4, 3, 5, 1], `${hint}.moved`);
  return g.reshape(moved, [0, hb, wb, s * s, c], `${hint}.blocks`);
}

/** [B, Hb, Wb, s², F] → [B, Hb, Wb, N, s², D]. */
function toHeads(g: OnnxGraphBuilder, t: string, geo: Geometry, hint: string): string {
  const { s, hb, wb, n, d } = geo;
  return g.transpose(
    g.reshape(t, [0, hb, wb, s * s, n, d], `${hint}.split_heads`),
    [0, 1, 2, 4, 3, 5],
    `${hint}.heads`,
  );
}

/** R' [N, s², D, s²] (query position, key position) from the relative tables [2s-1, F/2]. */
function relativeByPosition(relRow: Float32Array, relCol: Float32Array, geo: Geometry): Float32Array {
  const { s, n, d, f } = geo;
  const half = f / 2;
  const out = new Float32Array(n * s * s * d * s * s);
  for (let head = 0; head < n; head++)
    for (let qp = 0; qp < s * s; qp++)
      for (let dd = 0; dd < d; dd++)
        for (let kp = 0; kp < s * s; kp++) {
          const c = head * d + dd;
          const da = Math.floor(kp / s) - Math.floor(qp / s) + s - 1;
          const db = (kp % s) - (qp % s) + s - 1;
          const value = c < half ? relRow[da * half + c] : relCol[db * half + c - half];
          out[((head * s * s + qp) * d + dd) * s * s + kp] = value;
        }
  return out;
}

/** The values [B, Hb, Wb, s², F] and the weights a batch norm's scale multiplies (per output channel). */
function values(ctx: EmitContext, xb: string, geo: Geometry, cIn: number) {
  const layer = ctx.layer as AttentionStem;
  const g = ctx.graph;
  const name = layer.name;
  const { s, hb, wb, f } = geo;
  if (layer.options.values === 'conv') {
    const { data, shape } = weightOf(layer, 'value_kernel');
    const weights = convKernelToOnnx(data, shape);
    const kv = layer.options.valueKernel;
    const kernel = g.floats(`${name}.value_kernel`, [f, cIn, kv, kv], weights);
    const conv = g.op('Conv', [ctx.inputs[0], kernel], `${name}.v_conv`, {
      kernel_shape: [kv, kv],
      strides: [1, 1],
      pads: samePads(hb * s, wb * s, kv, 1),
    });
    return { v: toBlocks(g, conv, f, geo, `${name}.v`), scale: (sc: Float32Array) => scaleRows(weights, sc) };
  }
  const matrices = layer.valueMatrices();
  const data = Float32Array.from(matrices.dataSync());
  const positions = matrices.shape[0];
  matrices.dispose();
  const scale = (sc: Float32Array) => scaleColumns(data, sc);
  if (positions === 1) {
    const wv = g.floats(`${name}.value_kernel`, [cIn, f], data);
    return { v: g.op('MatMul', [xb, wv], `${name}.v_flat`), scale };
  }
  const wv = g.floats(`${name}.value_by_position`, [positions, cIn, f], data);
  const x6 = g.reshape(xb, [0, hb, wb, positions, 1, cIn], `${name}.x6`);
  const v6 = g.op('MatMul', [x6, wv], `${name}.v6`);
  return { v: g.reshape(v6, [0, hb, wb, positions, f], `${name}.v_flat`), scale };
}

export const emitAttentionStem: Emitter = (ctx) => {
  const layer = ctx.layer as AttentionStem;
  const g = ctx.graph;
  const name = layer.name;
  const { filters: f, heads: n, block: s, pool, relu, relative } = layer.options;
  const [h, w, cIn] = ctx.inputShapes[0];
  const geo: Geometry = { s, hb: h / s, wb: w / s, n, d: f / n, f };
  const { hb, wb, d } = geo;
  const xb = toBlocks(g, ctx.inputs[0], cIn, geo, `${name}.x`);
  const projected = (weight: string, factor: number) => {
    const data = weightOf(layer, weight).data.map((v) => v * factor);
    return toHeads(
      g,
      g.op('MatMul', [xb, g.floats(`${name}.${weight}`, [cIn, f], data)], `${name}.${weight}_proj`),
      geo,
      `${name}.${weight}`,
    );
  };
  const q = projected('query_kernel', d ** -0.5);
  const kT = g.transpose(projected('key_kernel', 1), [0, 1, 2, 3, 5, 4], `${name}.kT`);
  let logits = g.op('MatMul', [q, kT], `${name}.qk`);
  if (relative) {
    const table = relativeByPosition(weightOf(layer, 'rel_row').data, weightOf(layer, 'rel_col').data, geo);
    const r = g.floats(`${name}.relative`, [n, s * s, d, s * s], table);
    const q7 = g.reshape(q, [0, hb, wb, n, s * s, 1, d], `${name}.q7`);
    const qr = g.reshape(g.op('MatMul', [q7, r], `${name}.qr7`), [0, hb, wb, n, s * s, s * s], `${name}.qr`);
    logits = g.op('Add', [logits, qr], `${name}.logits`);
  }
  const p = g.op('Softmax', [logits], `${name}.p`, { axis: 5 });
  const v = values(ctx, xb, geo, cIn);
  const attended = g.op('MatMul', [p, toHeads(g, v.v, geo, `${name}.v`)], `${name}.attended`);
  const merged = g.reshape(
    g.transpose(attended, [0, 1, 2, 4, 3, 5], `${name}.unheaded`),
    [0, hb, wb, s, s, f],
    `${name}.merged`,
  );
  const image = g.reshape(g.transpose(merged, [0, 5, 1, 3, 2, 4], `${name}.nchw6`), [0, f, h, w], `${name}.image`);
  const norm = batchNormAffine(layer, layer.batchNormOptions.epsilon, 'bn_');
  v.scale(norm.scale);
  let y = addChannelShift(ctx, image, norm.shift, `${name}.bn`);
  if (pool > 1) y = g.op('MaxPool', [y], `${name}.pool`, { kernel_shape: [pool, pool], strides: [pool, pool] });
  return { output: relu ? g.op('Relu', [y], `${name}.relu`) : y };
};
