/**
 * localAttention2d against golden forward and backward values from an independent float64
 * PyTorch implementation (tools/gen_local_attention_golden.py → test/golden/local_attention.json),
 * every variant, on whichever backend is active (native or tfjs's cpu).
 */
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import type { LocalAttentionOptions } from '../../src/ops/local_attention/options.js';
import * as tf from '../../src/tf.js';
import { assertClose, attentionOf, setup } from '../helpers.js';

interface GoldenCase {
  name: string;
  shape: [number, number, number, number];
  kernelSize: number;
  heads: number;
  scale: number | 'none' | null;
  padding: 'zeros' | 'masked';
  logits: 'qk+qr' | 'qr' | 'qk';
  q: number[];
  k: number[] | null;
  v: number[];
  relRow: number[] | null;
  relCol: number[] | null;
  G: number[];
  y: number[];
  dq: number[];
  dk: number[] | null;
  dv: number[];
  dRelRow: number[] | null;
  dRelCol: number[] | null;
}

const golden = JSON.parse(readFileSync(new URL('../golden/local_attention.json', import.meta.url), 'utf8')) as {
  cases: GoldenCase[];
};

describe('localAttention2d matches the PyTorch golden values', () => {
  before(setup);
  for (const c of golden.cases) {
    it(c.name, () => {
      const half = c.shape[3] / 2;
      const options: LocalAttentionOptions = {
        kernelSize: c.kernelSize,
        heads: c.heads,
        padding: c.padding,
        logits: c.logits,
        ...(c.scale === null ? {} : { scale: c.scale }),
      };
      const t4 = (a: number[]) => tf.tensor4d(a, c.shape);
      const table = (a: number[]) => tf.tensor2d(a, [c.kernelSize, half]);
      const names = ['q', 'k', 'v', 'relRow', 'relCol'] as const;
      const used = names.filter((n) => c[n] !== null);
      const tensors = used.map((n) =>
        n === 'relRow' || n === 'relCol' ? table(c[n] as number[]) : t4(c[n] as number[]),
      );
      const f = attentionOf(used, options);
      const y = f(...tensors);
      assertClose(y.dataSync(), c.y, { label: `${c.name} y`, tol: 1e-5 });
      const grads = tf.grads(f)(tensors, t4(c.G));
      const expected = { q: c.dq, k: c.dk, v: c.dv, relRow: c.dRelRow, relCol: c.dRelCol };
      used.forEach((n, i) => {
        assertClose(grads[i].dataSync(), expected[n] as number[], { label: `${c.name} d${n}`, tol: 1e-5 });
      });
      tf.dispose([y, ...grads, ...tensors]);
    });
  }
});
