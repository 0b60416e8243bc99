/**
 * Independent float64 reference implementations in plain JS (NHWC activations, HWIO filters),
 * used where tfjs's own kernels are not a valid reference and for finite-difference checks.
 */
import * as tf from '../src/tf.js';

export type Shape4 = [number, number, number, number];

export interface Pads {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

export interface Geometry {
  outH: number;
  outW: number;
  pads: Pads;
}

/** Output size and padding of a conv/pool, from tfjs's shape arithmetic (not from any kernel). */
export function convGeometry(
  xShape: Shape4,
  kh: number,
  kw: number,
  strides: [number, number],
  pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]],
): Geometry {
  const info = tf.backend_util.computeConv2DInfo(xShape, [kh, kw, xShape[3], 1], strides, 1, pad);
  const { top, left, bottom, right } = info.padInfo;
  return { outH: info.outHeight, outW: info.outWidth, pads: { top, left, bottom, right } };
}

/** y = conv2d(x, w) with stride and zero padding; x [B,H,W,C], w [kh,kw,C,O]. */
export function conv2dRef(
  x: ArrayLike<number>,
  xShape: Shape4,
  w: ArrayLike<number>,
  wShape: Shape4,
  strides: [number, number],
  g: Geometry,
  dilation = 1,
): { y: Float64Array; shape: Shape4 } {
  const [b, h, wd, c] = xShape;
  const [kh, kw, , o] = wShape;
  const y = new Float64Array(b * g.outH * g.outW * o);
  for (let n = 0; n < b; n++) {
    for (let i = 0; i < g.outH; i++) {
      for (let j = 0; j < g.outW; j++) {
        const yBase = ((n * g.outH + i) * g.outW + j) * o;
        for (let p = 0; p < kh; p++) {
          const r = i * strides[0] - g.pads.top + p * dilation;
          if (r < 0 || r >= h) continue;
          for (let q = 0; q < kw; q++) {
            const s = j * strides[1] - g.pads.left + q * dilation;
            if (s < 0 || s >= wd) continue;
            const xBase = ((n * h + r) * wd + s) * c;
            for (let ci = 0; ci < c; ci++) {
              const xv = x[xBase + ci];
              const wBase = ((p * kw + q) * c + ci) * o;
              for (let oc = 0; oc < o; oc++) y[yBase + oc] += xv * w[wBase + oc];
            }
          }
        }
      }
    }
  }
  return { y, shape: [b, g.outH, g.outW, o] };
}

/** Training batch norm over all axes but the last: biased variance. */
export function batchNormTrainRef(
  x: ArrayLike<number>,
  c: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  eps: number,
): { y: Float64Array; mean: Float64Array; variance: Float64Array } {
  const rows = x.length / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let r = 0; r < rows; r++) for (let j = 0; j < c; j++) mean[j] += x[r * c + j];
  for (let j = 0; j < c; j++) mean[j] /= rows;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < c; j++) {
      const d = x[r * c + j] - mean[j];
      variance[j] += d * d;
    }
  }
  for (let j = 0; j < c; j++) variance[j] /= rows;
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < c; j++) {
      y[r * c + j] = ((x[r * c + j] - mean[j]) / Math.sqrt(variance[j] + eps)) * gamma[j] + beta[j];
    }
  }
  return { y, mean, variance };
}

export function reluRef(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => Math.max(v, 0));
}

/**
 * The gradient of a gather out[q] = x[sources[q]] (x of n elements) at upstream dy, summed in float64: e.g.
 * ResizeNearestNeighbor's, with `sources` the flat input index of each output element, read off the forward
 * op run on an image of indices.
 */
export function gatherGradRef(sources: ArrayLike<number>, dy: ArrayLike<number>, n: number): Float64Array {
  const dx = new Float64Array(n);
  for (let q = 0; q < sources.length; q++) dx[sources[q]] += dy[q];
  return dx;
}

/** Max or average pooling; average divides by the in-image pixels of each window. */
export function poolRef(
  kind: 'max' | 'avg',
  x: ArrayLike<number>,
  xShape: Shape4,
  k: [number, number],
  strides: [number, number],
  g: Geometry,
): { y: Float64Array; shape: Shape4 } {
  const [b, h, w, c] = xShape;
  const y = new Float64Array(b * g.outH * g.outW * c);
  for (let n = 0; n < b; n++) {
    for (let i = 0; i < g.outH; i++) {
      for (let j = 0; j < g.outW; j++) {
        for (let ch = 0; ch < c; ch++) {
          let acc = kind === 'max' ? Number.NEGATIVE_INFINITY : 0;
          let count = 0;
          for (let p = 0; p < k[0]; p++) {
            const r = i * strides[0] - g.pads.top + p;
            if (r < 0 || r >= h) continue;
            for (let q = 0; q < k[1]; q++) {
              const s = j * strides[1] - g.pads.left + q;
              if (s < 0 || s >= w) continue;
              const v = x[((n * h + r) * w + s) * c + ch];
              acc = kind === 'max' ? Math.max(acc, v) : acc + v;
              count++;
            }
          }
          y[((n * g.outH + i) * g.outW + j) * c + ch] = kind === 'max' ? acc : acc / count;
        }
      }
    }
  }
  return { y, shape: [b, g.outH, g.outW, c] };
}

/** Row-major strides of `shape`. */
function stridesOf(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/**
 * Batched matmul with full NumPy-style broadcasting of the batch dimensions:
 * a [...batchA, M, K] (or [..., K, M] transposed), b [...batchB, K, N] (or [..., N, K]).
 */
export function matMulRef(
  a: ArrayLike<number>,
  aShape: number[],
  b: ArrayLike<number>,
  bShape: number[],
  transposeA = false,
  transposeB = false,
): { y: Float64Array; shape: number[] } {
  const ra = aShape.length;
  const rb = bShape.length;
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const k = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const padA = [...new Array<number>(rank - batchA.length).fill(1), ...batchA];
  const padB = [...new Array<number>(rank - batchB.length).fill(1), ...batchB];
  const outBatch = padA.map((d, i) => Math.max(d, padB[i]));
  const sa = stridesOf(padA);
  const sb = stridesOf(padB);
  const so = stridesOf(outBatch);
  const total = outBatch.reduce((p, q) => p * q, 1);
  const y = new Float64Array(total * m * n);
  for (let t = 0; t < total; t++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      const idx = Math.floor(t / so[d]) % outBatch[d];
      if (padA[d] !== 1) ia += idx * sa[d];
      if (padB[d] !== 1) ib += idx * sb[d];
    }
    const aOff = ia * m * k;
    const bOff = ib * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const av = a[aOff + (transposeA ? p * m + i : i * k + p)];
          const bv = b[bOff + (transposeB ? j * k + p : p * n + j)];
          acc += av * bv;
        }
        y[(t * m + i) * n + j] = acc;
      }
    }
  }
  return { y, shape: [...outBatch, m, n] };
}
