/**
 * The native local-attention kernels alone (no TensorFlow.js): one forward and one backward call on
 * packed q|k|v [B, H, W, 3C] (pixel stride 3C, as the layer calls them), k 7, 8 heads, 'zeros'
 * padding, q·k + q·r logits; median of `runs` calls after 2 warm-ups, per shape:
 *   npx tsx bench/attention_kernel_calls.ts [--shapes 8,56,56,64;8,28,28,128] [--runs 7] [--only fwd|bwd]
 * Also the roofline inputs: multiply-adds and the bytes each call must read and write at least.
 * SASA_NATIVE_ADDON picks another build (A/B); `--only` lets perf record one kernel.
 */

import { loadAddon } from '../src/backend/addon.js';
import { median } from '../src/bench/timing.js';
import { arg } from './args.js';
import { seededUniform } from './random.js';

const { addon, reason } = loadAddon();
if (!addon) throw new Error(`attention_kernel_calls: no addon (${reason})`);
const runs = Number(arg('runs', '7'));
const only = arg('only', '');
/** Median wall ms and median CPU ms (user + system, all threads: less sensitive to shared cores). */
const time = (f: () => void) => {
  f();
  f();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu), cpuMin: Math.min(...cpu) };
};
const K = 7;
const N = 8;
for (const spec of arg('shapes', '8,56,56,64;8,28,28,128').split(';')) {
  const [B, H, W, C] = spec.split(',').map(Number);
  const P = B * H * W;
  const qkv = seededUniform(P * 3 * C, 1);
  const [q, k, v] = [0, 1, 2].map((part) => qkv.subarray(part * C));
  const relRow = seededUniform(K * (C / 2), 2);
  const relCol = seededUniform(K * (C / 2), 3);
  const y = new Float32Array(P * C);
  const lse = new Float32Array(P * N);
  const dy = seededUniform(P * C, 4);
  const dqkv = new Float32Array(P * 3 * C);
  const [dq, dk, dv] = [0, 1, 2].map((part) => dqkv.subarray(part * C));
  const dRelRow = new Float32Array(K * (C / 2));
  const dRelCol = new Float32Array(K * (C / 2));
  const geometry = {
    ...{ batch: B, height: H, width: W, channels: C, kernelSize: K, heads: N },
    ...{ masked: false, useQK: true, useQR: true, scale: 1 / Math.sqrt(C / N), pixelStride: 3 * C },
  };
  const forward = () => addon.localAttentionForward(q, k, v, relRow, relCol, y, lse, geometry);
  const backward = () =>
    addon.localAttentionBackward(dy, q, k, v, relRow, relCol, lse, dq, dk, dv, dRelRow, dRelCol, geometry);
  forward();
  const none = { wall: Number.NaN, cpu: Number.NaN, cpuMin: Number.NaN };
  const fwd = only === 'bwd' ? none : time(forward);
  const bwd = only === 'fwd' ? none : time(backward);
  // multiply-adds: forward q·k and p·v (K² · C each per pixel); backward dy·v, dS·k, dS·q, P·dy, and q·k again
  const macs = P * K * K * C;
  const mb = (floats: number) => (floats * 4) / 1e6;
  const gflop = (2 * 2 * macs) / 1e9;
  const gflopBack = (5 * 2 * macs) / 1e9;
  const rate = (g: number, ms: number) => (g / ms) * 1e3;
  console.log(
    `[${spec}] forward ${fwd.wall.toFixed(2)} ms wall, ${fwd.cpu.toFixed(2)} ms CPU (min ${fwd.cpuMin.toFixed(2)}) ` +
      `(${gflop.toFixed(2)} GFLOP: ${rate(gflop, fwd.wall).toFixed(1)} GFLOP/s; >= ${mb(P * (4 * C + N)).toFixed(0)} MB)`,
  );
  console.log(
    `[${spec}] backward ${bwd.wall.toFixed(2)} ms wall, ${bwd.cpu.toFixed(2)} ms CPU (min ${bwd.cpuMin.toFixed(2)}) ` +
      `(${gflopBack.toFixed(2)} GFLOP: ${rate(gflopBack, bwd.wall).toFixed(1)} GFLOP/s; >= ${mb(P * (8 * C + N)).toFixed(0)} MB)`,
  );
}
