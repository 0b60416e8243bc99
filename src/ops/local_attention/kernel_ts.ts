/**
 * Pure-TypeScript local self-attention, forward and backward: the reference the native kernels
 * are tested against, and the implementation on backends without them (the browser's).
 *
 * Per pixel (i, j) and head n (channels [nD, (n+1)D), D = C/N), over the k×k window
 * (a, b) = (i + da - h, j + db - h), h = floor(k/2), with q̂ = scale · q:
 *   logit[da,db] = q̂·k_ab + q̂_row·relRow[da] + q̂_col·relCol[db]
 *   y_ij = Σ softmax(logit) · v_ab,   lse_ij = log Σ exp(logit)
 * where q̂_row / q̂_col are the head's channels below / above C/2 (the relative embedding
 * concat(relRow, relCol) is split across heads like q). Outside the image k = v = 0
 * ('zeros') or the position is left out of the softmax ('masked').
 */
import type { AttentionGeometry } from './options.js';

/** Float32 in tfjs; Float64 for finite-difference checks of the math (outputs follow q's type). */
export type Floats = Float32Array | Float64Array;

export interface AttentionInputs {
  q: Floats;
  k: Floats | null;
  v: Floats;
  relRow: Floats | null;
  relCol: Floats | null;
}

export interface AttentionGrads {
  dq: Floats;
  dk: Floats | null;
  dv: Floats;
  dRelRow: Floats | null;
  dRelCol: Floats | null;
}

function like(x: Floats, n: number): Floats {
  return x instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/** Channel ranges of head n: [lo, hi) overall, and its parts in the row and column halves. */
function headChannels(g: AttentionGeometry, n: number) {
  const d = g.channels / g.heads;
  const half = g.channels / 2;
  const lo = n * d;
  const hi = lo + d;
  return { lo, hi, rowHi: Math.min(hi, half), colLo: Math.max(lo, half), half };
}

/** pixelLogits' buffers: the scaled query qs [C], the relative logits rowL, colL [k], and the logits [k²]. */
interface LogitScratch {
  qs: Float64Array;
  rowL: Float64Array;
  colL: Float64Array;
  logits: Float64Array;
}

/** Fresh pixelLogits buffers for geometry `g`. */
function logitScratch(g: AttentionGeometry): LogitScratch {
  const K = g.kernelSize;
  return {
    qs: new Float64Array(g.channels),
    rowL: new Float64Array(K),
    colL: new Float64Array(K),
    logits: new Float64Array(K * K),
  };
}

/**
 * Logits of one pixel and head into `scratch.logits` (length k²; -Infinity for masked positions), given the
 * scaled query `scratch.qs` (length C, only the head's channels are read).
 */
function pixelLogits(
  g: AttentionGeometry,
  x: AttentionInputs,
  b: number,
  i: number,
  j: number,
  n: number,
  scratch: LogitScratch,
): void {
  const { qs, rowL, colL, logits: out } = scratch;
  const { height: H, width: W, channels: C, kernelSize: K } = g;
  const h = (K - 1) / 2;
  const { lo, hi, rowHi, colLo, half } = headChannels(g, n);
  if (g.useQR && x.relRow && x.relCol) {
    for (let t = 0; t < K; t++) {
      let r = 0;
      for (let c = lo; c < rowHi; c++) r += qs[c] * x.relRow[t * half + c];
      rowL[t] = r;
      let s = 0;
      for (let c = colLo; c < hi; c++) s += qs[c] * x.relCol[t * half + c - half];
      colL[t] = s;
    }
  }
  for (let da = 0; da < K; da++) {
    const a = i + da - h;
    for (let db = 0; db < K; db++) {
      const bb = j + db - h;
      const inside = a >= 0 && a < H && bb >= 0 && bb < W;
      if (!inside && g.masked) {
        out[da * K + db] = Number.NEGATIVE_INFINITY;
        continue;
      }
      let l = g.useQR ? rowL[da] + colL[db] : 0;
      if (g.useQK && inside && x.k) {
        const base = ((b * H + a) * W + bb) * C;
        for (let c = lo; c < hi; c++) l += qs[c] * x.k[base + c];
      }
      out[da * K + db] = l;
    }
  }
}

function scaledQuery(g: AttentionGeometry, q: Floats, base: number, qs: Float64Array): void {
  for (let c = 0; c < g.channels; c++) qs[c] = q[base + c] * g.scale;
}

/**
 * The softmax's numerator in place, logits ← exp(logits − max), max the largest logit (so no exp
 * overflows); returns max and sum = Σ exp(logits − max): softmax = logits / sum, log Σ exp = max + log sum.
 */
function expShifted(logits: Float64Array): { max: number; sum: number } {
  let max = Number.NEGATIVE_INFINITY;
  for (const l of logits) max = Math.max(max, l);
  let sum = 0;
  for (let w = 0; w < logits.length; w++) {
    logits[w] = Math.exp(logits[w] - max);
    sum += logits[w];
  }
  return { max, sum };
}

/** Forward: y [B,H,W,C] and the log-sum-exp of the logits, lse [B,H,W,N]. */
export function localAttentionForward(g: AttentionGeometry, x: AttentionInputs): { y: Floats; lse: Floats } {
  const { batch: B, height: H, width: W, channels: C, kernelSize: K, heads: N } = g;
  const h = (K - 1) / 2;
  const y = like(x.q, B * H * W * C);
  const lse = like(x.q, B * H * W * N);
  const scratch = logitScratch(g);
  const { qs, logits } = scratch;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const pix = (b * H + i) * W + j;
        scaledQuery(g, x.q, pix * C, qs);
        for (let n = 0; n < N; n++) {
          const { lo, hi } = headChannels(g, n);
          pixelLogits(g, x, b, i, j, n, scratch);
          const { max, sum } = expShifted(logits);
          lse[pix * N + n] = max + Math.log(sum);
          for (let da = 0; da < K; da++) {
            const a = i + da - h;
            if (a < 0 || a >= H) continue;
            for (let db = 0; db < K; db++) {
              const bb = j + db - h;
              if (bb < 0 || bb >= W) continue;
              const p = logits[da * K + db] / sum;
              const base = ((b * H + a) * W + bb) * C;
              for (let c = lo; c < hi; c++) y[pix * C + c] += p * x.v[base + c];
            }
          }
        }
      }
    }
  }
  return { y, lse };
}

/**
 * The softmax weights of chosen pixels, [P, N, k, k] (0 at masked positions): pixels holds (batch,
 * row, column) triples. x.v is not read.
 */
export function attentionWeightsAt(g: AttentionGeometry, x: AttentionInputs, pixels: ArrayLike<number>): Floats {
  const { channels: C, kernelSize: K, heads: N } = g;
  const count = pixels.length / 3;
  const weights = like(x.q, count * N * K * K);
  const scratch = logitScratch(g);
  const { qs, logits } = scratch;
  for (let p = 0; p < count; p++) {
    const [b, i, j] = [pixels[3 * p], pixels[3 * p + 1], pixels[3 * p + 2]];
    scaledQuery(g, x.q, ((b * g.height + i) * g.width + j) * C, qs);
    for (let n = 0; n < N; n++) {
      pixelLogits(g, x, b, i, j, n, scratch);
      const { sum } = expShifted(logits);
      const base = (p * N + n) * K * K;
      for (let w = 0; w < K * K; w++) weights[base + w] = logits[w] / sum;
    }
  }
  return weights;
}

/** Backward: gradients of Σ dy·y with respect to every input, from the forward's lse. */
export function localAttentionBackward(
  g: AttentionGeometry,
  x: AttentionInputs,
  dy: Floats,
  lse: Floats,
): AttentionGrads {
  const { batch: B, height: H, width: W, channels: C, kernelSize: K, heads: N } = g;
  const h = (K - 1) / 2;
  const grads: AttentionGrads = {
    dq: like(x.q, x.q.length),
    dk: g.useQK ? like(x.q, x.q.length) : null,
    dv: like(x.q, x.v.length),
    dRelRow: g.useQR ? like(x.q, K * (C / 2)) : null,
    dRelCol: g.useQR ? like(x.q, K * (C / 2)) : null,
  };
  const dRelRow = new Float64Array(g.useQR ? K * (C / 2) : 0);
  const dRelCol = new Float64Array(g.useQR ? K * (C / 2) : 0);
  const scratch = logitScratch(g);
  const { qs, logits: p } = scratch;
  const dS = new Float64Array(K * K);
  const rowS = new Float64Array(K);
  const colS = new Float64Array(K);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const pix = (b * H + i) * W + j;
        scaledQuery(g, x.q, pix * C, qs);
        for (let n = 0; n < N; n++) {
          const { lo, hi, rowHi, colLo, half } = headChannels(g, n);
          pixelLogits(g, x, b, i, j, n, scratch);
          const l = lse[pix * N + n];
          let delta = 0;
          for (let da = 0; da < K; da++) {
            const a = i + da - h;
            for (let db = 0; db < K; db++) {
              const bb = j + db - h;
              const w = da * K + db;
              p[w] = Math.exp(p[w] - l);
              let dP = 0;
              if (a >= 0 && a < H && bb >= 0 && bb < W) {
                const base = ((b * H + a) * W + bb) * C;
                for (let c = lo; c < hi; c++) dP += dy[pix * C + c] * x.v[base + c];
              }
              dS[w] = dP;
              delta += p[w] * dP;
            }
          }
          rowS.fill(0);
          colS.fill(0);
          for (let da = 0; da < K; da++) {
            const a = i + da - h;
            for (let db = 0; db < K; db++) {
              const bb = j + db - h;
              const w = da * K + db;
              const ds = p[w] * (dS[w] - delta);
              rowS[da] += ds;
              colS[db] += ds;
              if (a < 0 || a >= H || bb < 0 || bb >= W) continue;
              const base = ((b * H + a) * W + bb) * C;
              for (let c = lo; c < hi; c++) {
                grads.dv[base + c] += p[w] * dy[pix * C + c];
                if (grads.dk && x.k) {
                  grads.dk[base + c] += ds * qs[c];
                  grads.dq[pix * C + c] += g.scale * ds * x.k[base + c];
                }
              }
            }
          }
          if (g.useQR && x.relRow && x.relCol) {
            for (let t = 0; t < K; t++) {
              for (let c = lo; c < rowHi; c++) {
                grads.dq[pix * C + c] += g.scale * rowS[t] * x.relRow[t * half + c];
                dRelRow[t * half + c] += rowS[t] * qs[c];
              }
              for (let c = colLo; c < hi; c++) {
                grads.dq[pix * C + c] += g.scale * colS[t] * x.relCol[t * half + c - half];
                dRelCol[t * half + c - half] += colS[t] * qs[c];
              }
            }
          }
        }
      }
    }
  }
  grads.dRelRow?.set(dRelRow);
  grads.dRelCol?.set(dRelCol);
  return grads;
}
