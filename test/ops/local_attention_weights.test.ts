/**
 * localAttentionWeights (the softmax weights of chosen pixels, for attention maps) against an independent
 * float64 computation written here (the relative embedding built whole, r = concat(relRow[da], relCol[db]),
 * and dotted with the head's slice of q), for every logits × padding variant; each head's weights sum to 1;
 * Σ w·v reproduces localAttention2d's output at the pixel; bad pixels are named.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { localAttention2d } from '../../src/ops/local_attention/op.js';
import type { LogitsMode, PaddingMode } from '../../src/ops/local_attention/options.js';
import { localAttentionWeights, type QueryPixel } from '../../src/ops/local_attention/weights.js';
import * as tf from '../../src/tf.js';
import { assertClose, randArray, setup } from '../helpers.js';

const [B, H, W, C, N, K] = [2, 5, 6, 8, 2, 5];

interface Inputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  relRow: Float32Array;
  relCol: Float32Array;
}

const inputs: Inputs = {
  q: randArray(B * H * W * C, 1, -2, 2),
  k: randArray(B * H * W * C, 2, -2, 2),
  v: randArray(B * H * W * C, 3),
  relRow: randArray(K * (C / 2), 4),
  relCol: randArray(K * (C / 2), 5),
};

/** Float64 weights [N][K][K] of one pixel: logits built from the whole relative vector, then softmax. */
function weightsRef(x: Inputs, [b, i, j]: QueryPixel, logits: LogitsMode, padding: PaddingMode): number[][][] {
  const d = C / N;
  const scale = d ** -0.5;
  const h = (K - 1) / 2;
  const at = (t: Float32Array, bb: number, a: number, c: number, ch: number) => t[((bb * H + a) * W + c) * C + ch];
  return Array.from({ length: N }, (_, n) => {
    const raw: number[] = [];
    for (let da = 0; da < K; da++) {
      for (let db = 0; db < K; db++) {
        const [a, c] = [i + da - h, j + db - h];
        const inside = a >= 0 && a < H && c >= 0 && c < W;
        if (!inside && padding === 'masked') {
          raw.push(Number.NEGATIVE_INFINITY);
          continue;
        }
        const r = [
          ...x.relRow.slice(da * (C / 2), (da + 1) * (C / 2)),
          ...x.relCol.slice(db * (C / 2), (db + 1) * (C / 2)),
        ];
        let l = 0;
        for (let ch = n * d; ch < (n + 1) * d; ch++) {
          const qs = scale * at(x.q, b, i, j, ch);
          if (logits !== 'qr' && inside) l += qs * at(x.k, b, a, c, ch);
          if (logits !== 'qk') l += qs * r[ch];
        }
        raw.push(l);
      }
    }
    const m = Math.max(...raw);
    const e = raw.map((l) => Math.exp(l - m));
    const sum = e.reduce((s, v) => s + v, 0);
    return Array.from({ length: K }, (_, da) => e.slice(da * K, (da + 1) * K).map((v) => v / sum));
  });
}

const PIXELS: QueryPixel[] = [
  [0, 0, 0],
  [1, 2, 3],
  [1, 4, 5],
  [0, 3, 1],
];

function run(logits: LogitsMode, padding: PaddingMode, pixels = PIXELS) {
  return tf.tidy(() => {
    const t4 = (a: Float32Array) => tf.tensor4d(a, [B, H, W, C]);
    const t2 = (a: Float32Array) => tf.tensor2d(a, [K, C / 2]);
    const rel = logits !== 'qk';
    return localAttentionWeights(
      t4(inputs.q),
      logits === 'qr' ? null : t4(inputs.k),
      rel ? t2(inputs.relRow) : null,
      rel ? t2(inputs.relCol) : null,
      pixels,
      { kernelSize: K, heads: N, logits, padding },
    ).arraySync();
  });
}

describe('localAttentionWeights', () => {
  before(setup);

  for (const logits of ['qk+qr', 'qr', 'qk'] as const) {
    for (const padding of ['zeros', 'masked'] as const) {
      it(`matches the float64 softmax and sums to 1 per head (${logits}, ${padding})`, () => {
        const got = run(logits, padding);
        assert.deepEqual([got.length, got[0].length, got[0][0].length, got[0][0][0].length], [PIXELS.length, N, K, K]);
        PIXELS.forEach((p, index) => {
          const want = weightsRef(inputs, p, logits, padding);
          assertClose(got[index].flat(2), want.flat(2), { tol: 1e-5, label: 'weights' });
          for (const head of got[index]) assert.ok(Math.abs(head.flat().reduce((s, v) => s + v, 0) - 1) < 1e-5);
        });
      });
    }
  }

  it("Σ w·v is localAttention2d's output at the pixel", () => {
    const weights = run('qk+qr', 'zeros');
    const y = tf.tidy(() => {
      const t4 = (a: Float32Array) => tf.tensor4d(a, [B, H, W, C]);
      const t2 = (a: Float32Array) => tf.tensor2d(a, [K, C / 2]);
      const options = { kernelSize: K, heads: N };
      return localAttention2d(
        t4(inputs.q),
        t4(inputs.k),
        t4(inputs.v),
        t2(inputs.relRow),
        t2(inputs.relCol),
        options,
      ).arraySync();
    });
    const h = (K - 1) / 2;
    PIXELS.forEach(([b, i, j], index) => {
      const sum = new Float64Array(C);
      for (let n = 0; n < N; n++) {
        for (let da = 0; da < K; da++) {
          for (let db = 0; db < K; db++) {
            const [a, c] = [i + da - h, j + db - h];
            if (a < 0 || a >= H || c < 0 || c >= W) continue;
            for (let ch = n * (C / N); ch < (n + 1) * (C / N); ch++) {
              sum[ch] += weights[index][n][da][db] * inputs.v[((b * H + a) * W + c) * C + ch];
            }
          }
        }
      }
      assertClose(y[b][i][j], sum, { tol: 1e-5, label: 'y' });
    });
  });

  it('names a pixel outside q and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    assert.throws(
      () =>
        run('qk', 'zeros', [
          [0, 0, 0],
          [0, H, 0],
        ]),
      /localAttentionWeights: pixels\[1\] = \[0,5,0\]/,
    );
    assert.throws(() => run('qk', 'zeros', []), /pixels must be a non-empty list/);
    assert.equal(tf.memory().numTensors, before);
  });
});
