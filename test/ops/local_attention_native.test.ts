/**
 * The native fused local-attention kernels against the pure-TypeScript kernels, reporting the max
 * abs error of the output and of every gradient: on larger shapes (every variant, k up to 13,
 * windows wider than a SIMD vector, batch > 1, odd sizes), and on small images, which take the
 * kernels' image-parallel path; and that the thread count changes no bit of the larger shapes'
 * results.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { loadAddon } from '../../src/backend/addon.js';
import { localAttentionBackward, localAttentionForward } from '../../src/ops/local_attention/kernel_ts.js';
import {
  type LogitsMode,
  MAX_KERNEL_SIZE,
  type PaddingMode,
  resolveGeometry,
} from '../../src/ops/local_attention/options.js';
import * as tf from '../../src/tf.js';
import { assertClose, describeNative, FAST, randArray, setup } from '../helpers.js';

interface Case {
  shape: [number, number, number, number];
  k: number;
  heads: number;
  scale?: number;
}

const cases: Case[] = FAST
  ? [{ shape: [2, 13, 19, 16], k: 5, heads: 4 }]
  : [
      { shape: [2, 13, 19, 16], k: 5, heads: 4 },
      { shape: [1, 9, 37, 24], k: 7, heads: 3 },
      { shape: [3, 7, 5, 8], k: 9, heads: 2 },
      { shape: [1, 11, 17, 12], k: 3, heads: 6 },
      { shape: [1, 6, 21, 8], k: 13, heads: 2 },
    ];

/**
 * Small images (H·W <= 100) take the kernels' image-parallel path: sizes from 1×1 to the
 * 10×10 limit, windows smaller and larger than the image, heads that straddle the row and column
 * halves of the channels (C/2 not a multiple of C/heads), head sizes below and above a SIMD
 * vector, a custom scale, batches large enough to split unevenly across threads, and batch 1 (one thread).
 */
const smallCases: Case[] = FAST
  ? [
      { shape: [300, 4, 4, 16], k: 7, heads: 4 },
      { shape: [5, 2, 3, 12], k: 3, heads: 3 },
      { shape: [1, 4, 4, 16], k: 7, heads: 4 },
    ]
  : [
      { shape: [3, 1, 1, 8], k: 3, heads: 2 },
      { shape: [4, 3, 3, 4], k: 1, heads: 2 },
      { shape: [5, 2, 3, 12], k: 3, heads: 3 },
      { shape: [300, 4, 4, 16], k: 7, heads: 4 },
      { shape: [7, 4, 4, 6], k: 9, heads: 2, scale: 0.37 },
      { shape: [4, 5, 7, 20], k: 9, heads: 5 },
      { shape: [3, 5, 7, 40], k: 3, heads: 2 },
      { shape: [2, 8, 8, 24], k: 7, heads: 3 },
      { shape: [2, 10, 10, 16], k: 5, heads: 2 },
      { shape: [1001, 2, 3, 4], k: 3, heads: 1 },
      { shape: [1, 4, 4, 16], k: 7, heads: 4 },
      { shape: [1, 8, 8, 24], k: 7, heads: 3 },
    ];

/** The inputs of a case and the native kernels' outputs (forward, then backward on dy). */
function runNative(c: Case, logits: LogitsMode, padding: PaddingMode) {
  const addon = loadAddon().addon;
  if (!addon) throw new Error('addon missing');
  const [B, H, W, C] = c.shape;
  const n = B * H * W * C;
  const useQK = logits !== 'qr';
  const useQR = logits !== 'qk';
  const table = c.k * (C / 2);
  const x = {
    q: randArray(n, 1),
    k: useQK ? randArray(n, 2) : null,
    v: randArray(n, 3),
    relRow: useQR ? randArray(table, 4, -0.5, 0.5) : null,
    relCol: useQR ? randArray(table, 5, -0.5, 0.5) : null,
  };
  const g = resolveGeometry(
    {
      q: c.shape,
      k: useQK ? c.shape : null,
      v: c.shape,
      relRow: useQR ? [c.k, C / 2] : null,
      relCol: useQR ? [c.k, C / 2] : null,
    },
    { kernelSize: c.k, heads: c.heads, logits, padding, scale: c.scale },
  );
  const dy = randArray(n, 6);
  const empty = new Float32Array(0);
  const geometry = {
    batch: B,
    height: H,
    width: W,
    channels: C,
    kernelSize: c.k,
    heads: c.heads,
    masked: padding === 'masked',
    useQK,
    useQR,
    scale: g.scale,
  };
  const y = new Float32Array(n);
  const lse = new Float32Array(B * H * W * c.heads);
  const f = (a: Float32Array | null) => a ?? empty;
  addon.localAttentionForward(x.q, f(x.k), x.v, f(x.relRow), f(x.relCol), y, lse, geometry);
  const dq = new Float32Array(n);
  const dk = new Float32Array(useQK ? n : 0);
  const dv = new Float32Array(n);
  const dRelRow = new Float32Array(useQR ? table : 0);
  const dRelCol = new Float32Array(useQR ? table : 0);
  addon.localAttentionBackward(
    dy,
    x.q,
    f(x.k),
    x.v,
    f(x.relRow),
    f(x.relCol),
    lse,
    dq,
    dk,
    dv,
    dRelRow,
    dRelCol,
    geometry,
  );
  return { x, g, dy, outputs: { y, lse, dq, dk, dv, dRelRow, dRelCol } };
}

/** Runs forward and backward natively and in TypeScript; asserts agreement, returns the errors. */
function compare(c: Case, logits: LogitsMode, padding: PaddingMode): string {
  const { x, g, dy, outputs: o } = runNative(c, logits, padding);
  const ref = localAttentionForward(g, x);
  const refGrads = localAttentionBackward(g, x, dy, ref.lse);
  const pairs: [string, Float32Array, ArrayLike<number> | null][] = [
    ['y', o.y, ref.y],
    ['lse', o.lse, ref.lse],
    ['dq', o.dq, refGrads.dq],
    ['dk', o.dk, refGrads.dk],
    ['dv', o.dv, refGrads.dv],
    ['dRelRow', o.dRelRow, refGrads.dRelRow],
    ['dRelCol', o.dRelCol, refGrads.dRelCol],
  ];
  const report: string[] = [];
  for (const [name, got, want] of pairs) {
    if (!want) continue;
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    report.push(`${name} ${worst.toExponential(1)}`);
    assertClose(got, want, { label: name, tol: 2e-5 });
  }
  return `max abs error: ${report.join(', ')}`;
}

/** Runs `body` with the addon's OpenMP thread count set to `n`, restoring it after. */
function withThreads<T>(n: number, body: () => T): T {
  const addon = loadAddon().addon;
  if (!addon) throw new Error('addon missing');
  const threads = addon.info().threads;
  addon.setThreads(n);
  try {
    return body();
  } finally {
    addon.setThreads(threads);
  }
}

function variants(list: Case[]): void {
  for (const c of list) {
    for (const logits of ['qk+qr', 'qr', 'qk'] as LogitsMode[]) {
      for (const padding of ['zeros', 'masked'] as PaddingMode[]) {
        const scale = c.scale === undefined ? '' : ` scale=${c.scale}`;
        it(`[${c.shape}] k=${c.k} heads=${c.heads}${scale} ${logits} ${padding}`, (t) => {
          t.diagnostic(compare(c, logits, padding));
        });
      }
    }
  }
}

describeNative('native local attention kernels agree with the TypeScript kernels', () => {
  before(setup);
  variants(cases);
  it('agree with 3 threads too, bit for bit with 1 thread (uneven split of the image-head tasks)', () => {
    // The planar kernels run one task per (image, head) and sum the table gradients per image in
    // order, so the thread count must not change a single bit.
    const c: Case = { shape: [2, 11, 13, 20], k: 5, heads: 5 };
    for (const padding of ['zeros', 'masked'] as PaddingMode[]) {
      const three = withThreads(3, () => {
        compare(c, 'qk+qr', padding);
        return runNative(c, 'qk+qr', padding).outputs;
      });
      const one = withThreads(1, () => runNative(c, 'qk+qr', padding).outputs);
      assert.deepStrictEqual(three, one, padding);
    }
  });
  it('keep their thread buffers zero around the image from call to call, per geometry', () => {
    // [2,13,19,16] and [2,13,17,16] (k 5) pad to the same buffer sizes, but the first writes the
    // columns that are the second's zero margins: the second must zero its buffers again.
    const wide: Case = { shape: [2, 13, 19, 16], k: 5, heads: 4 };
    const first = runNative(wide, 'qk+qr', 'zeros').outputs;
    compare({ shape: [2, 13, 17, 16], k: 5, heads: 4 }, 'qk+qr', 'zeros');
    compare({ shape: [2, 13, 17, 16], k: 5, heads: 4 }, 'qk', 'zeros');
    assert.deepStrictEqual(runNative(wide, 'qk+qr', 'zeros').outputs, first);
    compare(wide, 'qk', 'zeros');
  });
  it('tf.profile shows the fused kernels running on the native backend', async () => {
    const q = tf.randomNormal([1, 5, 5, 8]) as tf.Tensor4D;
    const rel = tf.randomNormal([3, 4]) as tf.Tensor2D;
    const { localAttention2d } = await import('../../src/ops/local_attention/op.js');
    const profile = await tf.profile(() =>
      tf.grads((a: tf.Tensor) => localAttention2d(a as tf.Tensor4D, q, q, rel, rel, { kernelSize: 3, heads: 2 }))([q]),
    );
    if (
      !profile.kernelNames.includes('SasaLocalAttention') ||
      !profile.kernelNames.includes('SasaLocalAttentionGrad')
    ) {
      throw new Error(`fused kernels not used: ${profile.kernelNames.join(', ')}`);
    }
    tf.dispose([q, rel]);
  });
});

/**
 * The block-lane path (native/src/block_attention.cc) takes k 7, 8 or 16 channels a head, qk+qr logits and zero
 * padding on images of whole 4×4 blocks: images smaller and larger than a block's 10×10 keys, heads that straddle
 * the row and column halves (D 16, 3 heads), two heads a task (D 8), a custom scale, an odd batch.
 */
const allBlockCases: Case[] = [
  { shape: [2, 12, 16, 64], k: 7, heads: 4 },
  { shape: [3, 8, 20, 32], k: 7, heads: 4 },
  { shape: [2, 12, 12, 48], k: 7, heads: 3 },
  { shape: [1, 16, 12, 128], k: 7, heads: 8, scale: 0.37 },
  { shape: [1, 4, 28, 16], k: 7, heads: 2 },
];
const blockCases = FAST ? allBlockCases.slice(0, 2) : allBlockCases;

describeNative('native local attention block-lane path agrees with the TypeScript kernels', () => {
  before(setup);
  for (const c of blockCases) {
    const scale = c.scale === undefined ? '' : ` scale=${c.scale}`;
    it(`[${c.shape}] k=${c.k} heads=${c.heads}${scale} qk+qr zeros`, (t) => {
      t.diagnostic(compare(c, 'qk+qr', 'zeros'));
    });
  }
  it('bit for bit with 1 and 3 threads (each task owns its channels of dq, dk, dv and dRel)', () => {
    const c: Case = { shape: [3, 8, 12, 32], k: 7, heads: 2 };
    const three = withThreads(3, () => runNative(c, 'qk+qr', 'zeros').outputs);
    const one = withThreads(1, () => runNative(c, 'qk+qr', 'zeros').outputs);
    assert.deepStrictEqual(three, one);
  });
});

describeNative('native local attention kernels on small images agree with the TypeScript kernels', () => {
  before(setup);
  variants(smallCases);
  it('agree with 3 threads too (uneven split of the batch)', (t) => {
    withThreads(3, () => {
      t.diagnostic(compare({ shape: [301, 4, 4, 16], k: 7, heads: 4 }, 'qk+qr', 'masked'));
      t.diagnostic(compare({ shape: [101, 2, 3, 12], k: 3, heads: 3 }, 'qk+qr', 'zeros'));
    });
  });
});

describeNative('the native kernels and the op agree on the kernel size limit', () => {
  before(setup);
  it('info().maxKernelSize is MAX_KERNEL_SIZE, and the addon rejects one more', () => {
    const addon = loadAddon().addon;
    if (!addon) throw new Error('addon missing');
    assert.equal(addon.info().maxKernelSize, MAX_KERNEL_SIZE);
    const k = MAX_KERNEL_SIZE + 2;
    const q = new Float32Array(4);
    const tables = new Float32Array(k);
    const geometry = {
      batch: 1,
      height: 1,
      width: 2,
      channels: 2,
      kernelSize: k,
      heads: 1,
      masked: false,
      useQK: true,
      useQR: true,
      scale: 1,
    };
    const run = () =>
      addon.localAttentionForward(q, q, q, tables, tables, new Float32Array(4), new Float32Array(2), geometry);
    assert.throws(run, new RegExp(`kernelSize <= ${MAX_KERNEL_SIZE}`));
  });
  it('the addon names a missing geometry field', () => {
    const addon = loadAddon().addon;
    if (!addon) throw new Error('addon missing');
    const q = new Float32Array(4);
    const geometry = {
      batch: 1,
      height: 1,
      width: 2,
      channels: 2,
      kernelSize: 1,
      heads: 1,
      masked: false,
      useQK: true,
    };
    const run = () =>
      addon.localAttentionForward(
        q,
        q,
        q,
        q,
        q,
        new Float32Array(4),
        new Float32Array(2),
        geometry as unknown as Parameters<typeof addon.localAttentionForward>[7],
      );
    assert.throws(run, /geometry\.useQR must be a boolean/);
  });
});
