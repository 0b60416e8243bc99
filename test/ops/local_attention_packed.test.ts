/**
 * localAttention2dPacked: the native kernels on strided views of packed q|k|v against the op's
 * tf.split + localAttention2d composition on tfjs's cpu backend, values and gradients; the inference kernel
 * (bias and ReLU as y is written, no lse) against relu(y + bias) composed; localAttention2dPackedPooled (the
 * 2×2 average pool fused, training) against its composition on cpu, against avgPool of the packed op on native,
 * and its native gradients against float64 central differences of the TypeScript float64 forward.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { avgPool } from '../../src/ops/avg_pool.js';
import { localAttentionForward } from '../../src/ops/local_attention/kernel_ts.js';
import { localAttention2d } from '../../src/ops/local_attention/op.js';
import { type LocalAttentionOptions, resolveGeometry } from '../../src/ops/local_attention/options.js';
import {
  localAttention2dPacked,
  localAttention2dPackedInference,
  localAttention2dPackedPooled,
} from '../../src/ops/local_attention/packed.js';
import * as tf from '../../src/tf.js';
import {
  assertClose,
  compareOnBackends,
  describeNative,
  numericGradient,
  randTensor,
  setup,
  useBackend,
  weightedSum,
} from '../helpers.js';

interface Case {
  shape: [number, number, number, number];
  options: LocalAttentionOptions;
}

const CASES: Case[] = [
  { shape: [2, 9, 11, 8], options: { kernelSize: 5, heads: 2 } },
  { shape: [1, 11, 12, 8], options: { kernelSize: 5, heads: 2 } },
  { shape: [1, 10, 13, 4], options: { kernelSize: 3, heads: 1, logits: 'qk', padding: 'masked' } },
  { shape: [1, 12, 10, 12], options: { kernelSize: 3, heads: 3, logits: 'qr', padding: 'masked' } },
  { shape: [2, 7, 6, 8], options: { kernelSize: 7, heads: 4, logits: 'qk' } },
  { shape: [3, 4, 4, 8], options: { kernelSize: 7, heads: 2, padding: 'masked' } },
  { shape: [2, 3, 5, 6], options: { kernelSize: 3, heads: 3, logits: 'qr' } },
  // the block-lane path (k 7, 8 or 16 channels a head, qk+qr, zeros, whole 4×4 blocks)
  { shape: [2, 8, 16, 32], options: { kernelSize: 7, heads: 2 } },
  { shape: [1, 12, 12, 32], options: { kernelSize: 7, heads: 4 } },
];

function inputs(c: Case) {
  const [b, h, w, ch] = c.shape;
  const parts = c.options.logits === 'qr' ? 2 : 3;
  const rel = c.options.logits !== 'qk';
  return {
    qkv: randTensor([b, h, w, parts * ch], 11) as tf.Tensor4D,
    relRow: rel ? (randTensor([c.options.kernelSize, ch / 2], 12) as tf.Tensor2D) : null,
    relCol: rel ? (randTensor([c.options.kernelSize, ch / 2], 13) as tf.Tensor2D) : null,
  };
}

describeNative('localAttention2dPacked: native strided kernels vs the composition on cpu', () => {
  before(setup);
  for (const c of CASES) {
    it(`[${c.shape}] ${JSON.stringify(c.options)}: y and the gradients of qkv and the tables`, async () => {
      await compareOnBackends(
        () => {
          const i = inputs(c);
          const tables = i.relRow ? [i.relRow, i.relCol as tf.Tensor2D] : [];
          const f = (qkv: tf.Tensor, ...t: tf.Tensor[]) =>
            weightedSum(
              localAttention2dPacked(
                qkv as tf.Tensor4D,
                (t[0] as tf.Tensor2D) ?? null,
                (t[1] as tf.Tensor2D) ?? null,
                c.options,
              ),
            );
          const y = localAttention2dPacked(i.qkv, i.relRow, i.relCol, c.options);
          return [y, ...tf.grads(f)([i.qkv, ...tables])];
        },
        { tol: 2e-5 },
      );
    });
  }

  it('equals localAttention2d on the split tensors on the native backend, bit for bit', () => {
    const c = CASES[0];
    tf.tidy(() => {
      const i = inputs(c);
      const packed = localAttention2dPacked(i.qkv, i.relRow, i.relCol, c.options);
      const [q, k, v] = tf.split(i.qkv, 3, 3) as tf.Tensor4D[];
      const apart = localAttention2d(q, k, v, i.relRow, i.relCol, c.options);
      assert.deepEqual(Array.from(packed.dataSync()), Array.from(apart.dataSync()));
    });
  });
});

describeNative('localAttention2dPackedInference: the native kernel vs relu?(y + bias) composed on cpu', () => {
  before(setup);
  for (const [n, c] of CASES.entries()) {
    for (const relu of [true, false]) {
      const bias = n % 2 === 0 ? 'a bias' : 'no bias';
      it(`[${c.shape}] ${JSON.stringify(c.options)}, ${bias}, relu ${relu}`, async () => {
        await compareOnBackends(
          () => {
            const i = inputs(c);
            const channels = c.shape[3];
            const b = n % 2 === 0 ? (randTensor([channels], 14) as tf.Tensor1D) : null;
            return [localAttention2dPackedInference(i.qkv, i.relRow, i.relCol, c.options, { bias: b, relu })];
          },
          { tol: 2e-5 },
        );
      });
    }
  }

  const POOL_CASES: Case[] = [
    { shape: [1, 12, 14, 8], options: { kernelSize: 5, heads: 2 } },
    ...CASES.filter((c) => c.shape[1] % 2 === 0 && c.shape[2] % 2 === 0),
  ];
  for (const c of POOL_CASES) {
    it(`[${c.shape}] ${JSON.stringify(c.options)}, 2×2 average pooled, a bias, relu`, async () => {
      await compareOnBackends(
        () => {
          const i = inputs(c);
          const bias = randTensor([c.shape[3]], 16) as tf.Tensor1D;
          const epilogue = { bias, relu: true, pool: true };
          const y = localAttention2dPackedInference(i.qkv, i.relRow, i.relCol, c.options, epilogue);
          const [b, h, w, ch] = c.shape;
          assert.deepEqual(y.shape, [b, h / 2, w / 2, ch]);
          return [y];
        },
        { tol: 2e-5 },
      );
    });
  }

  it('pooling an odd side is refused, naming the sizes', () => {
    const c = CASES[0];
    const i = inputs(c);
    assert.throws(
      () =>
        localAttention2dPackedInference(i.qkv, i.relRow, i.relCol, c.options, { bias: null, relu: false, pool: true }),
      /pool needs an even height and width, got 9×11/,
    );
    tf.dispose([i.qkv, i.relRow, i.relCol]);
  });

  it('equals relu(localAttention2dPacked + bias) on the native backend, bit for bit', () => {
    const c = CASES[0];
    tf.tidy(() => {
      const i = inputs(c);
      const bias = randTensor([c.shape[3]], 15) as tf.Tensor1D;
      const fused = localAttention2dPackedInference(i.qkv, i.relRow, i.relCol, c.options, { bias, relu: true });
      const apart = tf.relu(tf.add(localAttention2dPacked(i.qkv, i.relRow, i.relCol, c.options), bias));
      assert.ok(apart.dataSync().some((v) => v === 0) && apart.dataSync().some((v) => v > 0), 'the ReLU bites');
      assert.deepEqual(Array.from(fused.dataSync()), Array.from(apart.dataSync()));
    });
  });

  it('a bias of the wrong size is named', () => {
    const c = CASES[0];
    const i = inputs(c);
    const bias = tf.zeros([3]) as tf.Tensor1D;
    assert.throws(
      () => localAttention2dPackedInference(i.qkv, i.relRow, i.relCol, c.options, { bias, relu: false }),
      /bias must be \[8\], got \[3\]/,
    );
    tf.dispose([i.qkv, i.relRow, i.relCol, bias]);
  });
});

const POOLED_CASES: Case[] = [
  { shape: [2, 8, 10, 8], options: { kernelSize: 5, heads: 2 } },
  { shape: [1, 12, 14, 8], options: { kernelSize: 7, heads: 2, logits: 'qk' } },
  { shape: [1, 10, 12, 12], options: { kernelSize: 3, heads: 3, logits: 'qr', padding: 'masked' } },
  { shape: [3, 4, 4, 8], options: { kernelSize: 7, heads: 2, padding: 'masked' } },
  // the block-lane path, D 16 and D 8
  { shape: [2, 8, 16, 32], options: { kernelSize: 7, heads: 2 } },
  { shape: [1, 12, 12, 32], options: { kernelSize: 7, heads: 4 } },
];

/** The pooled op's y and its gradients w.r.t. qkv and the tables (weightedSum loss). */
function pooledWithGrads(c: Case): tf.Tensor[] {
  const i = inputs(c);
  const tables = i.relRow ? [i.relRow, i.relCol as tf.Tensor2D] : [];
  const f = (qkv: tf.Tensor, ...t: tf.Tensor[]) =>
    weightedSum(
      localAttention2dPackedPooled(
        qkv as tf.Tensor4D,
        (t[0] as tf.Tensor2D) ?? null,
        (t[1] as tf.Tensor2D) ?? null,
        c.options,
      ),
    );
  return [localAttention2dPackedPooled(i.qkv, i.relRow, i.relCol, c.options), ...tf.grads(f)([i.qkv, ...tables])];
}

describeNative('localAttention2dPackedPooled: the fused native kernels vs the composition on cpu', () => {
  before(setup);
  for (const c of POOLED_CASES) {
    it(`[${c.shape}] ${JSON.stringify(c.options)}: pooled y and the gradients of qkv and the tables`, async () => {
      const { got } = await compareOnBackends(() => pooledWithGrads(c), { tol: 2e-5 });
      const [b, h, w, ch] = c.shape;
      assert.deepEqual(got[0].shape, [b, h / 2, w / 2, ch]);
    });
  }

  it('equals avgPool(localAttention2dPacked) and its gradients on the native backend', async () => {
    await useBackend('native');
    const c = POOLED_CASES[0];
    tf.tidy(() => {
      const fused = pooledWithGrads(c);
      const i = inputs(c);
      const apart = (qkv: tf.Tensor, t0: tf.Tensor, t1: tf.Tensor) =>
        avgPool(
          localAttention2dPacked(qkv as tf.Tensor4D, t0 as tf.Tensor2D, t1 as tf.Tensor2D, c.options),
          2,
          2,
          'same',
        );
      const tables = [i.relRow as tf.Tensor2D, i.relCol as tf.Tensor2D];
      const reference = [
        apart(i.qkv, tables[0], tables[1]),
        ...tf.grads((q: tf.Tensor, t0: tf.Tensor, t1: tf.Tensor) => weightedSum(apart(q, t0, t1)))([i.qkv, ...tables]),
      ];
      for (const [n, t] of fused.entries()) {
        assertClose(t.dataSync(), reference[n].dataSync(), { tol: 1e-6, label: `output ${n}` });
      }
    });
  });

  it('its native gradients match float64 central differences of the float64 forward', async () => {
    await useBackend('native');
    const c: Case = { shape: [1, 10, 12, 4], options: { kernelSize: 3, heads: 2 } }; // > 100 pixels: the window path
    const [b, h, w, ch] = c.shape;
    const g = resolveGeometry(
      { q: c.shape, k: c.shape, v: c.shape, relRow: [3, ch / 2], relCol: [3, ch / 2] },
      c.options,
    );
    const i = inputs(c);
    const qkv = Float64Array.from(i.qkv.dataSync());
    const relRow = Float64Array.from((i.relRow as tf.Tensor).dataSync());
    const relCol = Float64Array.from((i.relCol as tf.Tensor).dataSync());
    const G = Float64Array.from(randTensor([b, h / 2, w / 2, ch], 987).dataSync());
    /** Σ G·pool(y) in float64, y the TypeScript forward on q, k, v sliced out of qkv. */
    const loss = (packed: Float64Array, rr: Float64Array, rc: Float64Array) => {
      const part = (n: number) =>
        Float64Array.from(
          { length: b * h * w * ch },
          (_, e) => packed[Math.floor(e / ch) * 3 * ch + n * ch + (e % ch)],
        );
      const { y } = localAttentionForward(g, { q: part(0), k: part(1), v: part(2), relRow: rr, relCol: rc });
      let s = 0;
      for (let e = 0; e < G.length; e++) {
        const c0 = e % ch;
        const [pj, pi] = [Math.floor(e / ch) % (w / 2), Math.floor(e / ch / (w / 2))];
        const at = (di: number, dj: number) => y[((2 * pi + di) * w + 2 * pj + dj) * ch + c0];
        s += G[e] * 0.25 * (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1));
      }
      return s;
    };
    const numeric = [
      numericGradient((p) => loss(p, relRow, relCol), qkv),
      numericGradient((p) => loss(qkv, p, relCol), relRow),
      numericGradient((p) => loss(qkv, relRow, p), relCol),
    ];
    const Gt = tf.tensor(Float32Array.from(G), [b, h / 2, w / 2, ch]);
    const f = (q: tf.Tensor, t0: tf.Tensor, t1: tf.Tensor) =>
      tf.sum(
        tf.mul(localAttention2dPackedPooled(q as tf.Tensor4D, t0 as tf.Tensor2D, t1 as tf.Tensor2D, c.options), Gt),
      );
    const grads = tf.grads(f)([i.qkv, i.relRow as tf.Tensor2D, i.relCol as tf.Tensor2D]);
    for (const [n, t] of grads.entries()) assertClose(t.dataSync(), numeric[n], { tol: 1e-4, label: `gradient ${n}` });
    tf.dispose([...grads, Gt, i.qkv, i.relRow, i.relCol]);
  });

  it('an odd side is refused, naming the sizes', () => {
    const c = CASES[0];
    const i = inputs(c);
    assert.throws(
      () => localAttention2dPackedPooled(i.qkv, i.relRow, i.relCol, c.options),
      /pool needs an even height and width, got 9×11/,
    );
    tf.dispose([i.qkv, i.relRow, i.relCol]);
  });
});

describe('localAttention2dPacked: bad input', () => {
  before(setup);
  it('names the tensor and the shape at fault', () => {
    const o: LocalAttentionOptions = { kernelSize: 3, heads: 2 };
    const t = (shape: number[]) => tf.zeros(shape) as tf.Tensor2D;
    assert.throws(
      () => localAttention2dPacked(tf.zeros([1, 4, 4, 8]) as tf.Tensor4D, t([3, 4]), t([3, 4]), o),
      /localAttention2dPacked: qkv must be \[B, H, W, 3·C\] \(q\|k\|v\), got \[1,4,4,8\]/,
    );
    assert.throws(
      () => localAttention2dPacked(tf.zeros([1, 4, 4, 9]) as tf.Tensor4D, t([3, 4]), t([3, 4]), { ...o, logits: 'qr' }),
      /qkv must be \[B, H, W, 2·C\] \(q\|v for logits 'qr'\)/,
    );
    assert.throws(
      () => localAttention2dPacked(tf.zeros([1, 4, 4, 12]) as tf.Tensor4D, t([3, 3]), t([3, 2]), o),
      /relRow \[3,3\] must be \[kernelSize, C\/2\] = \[3,2\]/,
    );
    assert.throws(
      () => localAttention2dPacked(tf.zeros([1, 4, 4, 12], 'int32') as tf.Tensor4D, null, null, o),
      /localAttention2dPacked: qkv must be float32, got int32/,
    );
  });
});
