/**
 * Times the native BatchMatMul (addon.batchMatMul, what tf.matMul runs on the native backend) at
 * the shapes that matter: median and best ms of --runs after warm-ups. SASA_NATIVE_ADDON picks
 * another build of the addon, so two builds can be compared in one sitting:
 *
 *   npx tsx bench/matmul.ts [--runs 20]
 *   SASA_NATIVE_ADDON=/tmp/old/sasa_native.node npx tsx bench/matmul.ts
 */
import { loadAddon } from '../src/backend/addon.js';
import { seededUniform } from './random.js';

interface Case {
  name: string;
  batch: number;
  m: number;
  n: number;
  k: number;
  ta?: boolean;
  tb?: boolean;
}

/** The packed q|k|v projection x·[W_Q|W_K|W_V] of an attention layer (m pixels, c channels), its dx and dW. */
const qkvCases = (m: number, c: number, at: string): Case[] => [
  { name: `[${m},${c}]×[${c},${3 * c}] (q|k|v, ${at} batch 8)`, batch: 1, m, n: 3 * c, k: c },
  { name: `  its dx: [${m},${3 * c}]×[${c},${3 * c}]ᵀ`, batch: 1, m, n: c, k: 3 * c, tb: true },
  { name: `  its dW: [${m},${c}]ᵀ×[${m},${3 * c}]`, batch: 1, m: c, n: 3 * c, k: m, ta: true },
];

const cases: Case[] = [
  { name: '1024³', batch: 1, m: 1024, n: 1024, k: 1024 },
  { name: '[256,16]×[16,16]', batch: 1, m: 256, n: 16, k: 16 },
  { name: '[25088,64]×[64,64] (projection, 56×56 batch 8)', batch: 1, m: 25088, n: 64, k: 64 },
  ...qkvCases(25088, 128, '56×56'),
  ...qkvCases(6272, 256, '28×28'),
  ...qkvCases(1568, 512, '14×14'),
  { name: '  its dx: [25088,64]×[64,64]ᵀ (transposeB)', batch: 1, m: 25088, n: 64, k: 64, tb: true },
  { name: '  its dW: [25088,64]ᵀ×[25088,64] (transposeA)', batch: 1, m: 64, n: 64, k: 25088, ta: true },
  { name: '64 × ([16,16]×[16,16])', batch: 64, m: 16, n: 16, k: 16 },
  { name: '[16,1024]×[1024,16] (small m, n; k 1024)', batch: 1, m: 16, n: 16, k: 1024 },
];

const argRuns = process.argv.indexOf('--runs');
const runs = argRuns >= 0 ? Number(process.argv[argRuns + 1]) : 20;
const load = loadAddon();
if (!load.addon) throw new Error(load.reason);
const addon = load.addon;
console.log(`addon: ${load.path}`);

/** Values in [-1, 1). */
const fill = (n: number, seed: number) => seededUniform(n, seed, 2);

for (const c of cases) {
  const a = fill(c.batch * c.m * c.k, 1);
  const b = fill(c.batch * c.k * c.n, 2);
  const y = new Float32Array(c.batch * c.m * c.n);
  const geometry = Int32Array.from([c.batch, c.batch, c.batch, c.m, c.n, c.k, c.ta ? 1 : 0, c.tb ? 1 : 0]);
  const flop = 2 * c.batch * c.m * c.n * c.k;
  const inner = Math.max(1, Math.min(200, Math.round(2e8 / flop)));
  for (let i = 0; i < 3; i++) addon.batchMatMul(a, b, y, geometry);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) addon.batchMatMul(a, b, y, geometry);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6 / inner);
  }
  times.sort((p, q) => p - q);
  const median = times[Math.floor(times.length / 2)];
  const gflops = flop / (times[0] * 1e6);
  console.log(
    `${c.name.padEnd(52)} median ${median.toFixed(4).padStart(9)} ms  best ${times[0].toFixed(4).padStart(9)} ms  ${gflops.toFixed(1)} GFLOP/s`,
  );
}
