/**
 * What one training (or inference) step of each model spends per kernel, side by side, and each model's
 * difference from the first (the numbers behind BENCHMARKS.md's per-kernel diff of the attention networks
 * against resnet26):
 *   npx tsx bench/profile_diff.ts [--models resnet26,sasa_resnet26_convstem,sasa_resnet26] [--batch 8]
 *     [--size 224] [--train] [--rounds 3] [--top 40] [--shapes] [--no-profile]
 * All models live in one process; each round profiles one step of each model in turn (after one warm-up
 * step each), so load drifts hit them alike. Per kernel group: the median over the rounds of its summed
 * kernel time in a step. Groups: the kernel's name, local-attention and pooling kernels split by their
 * input's spatial size; with --shapes every kernel by its input shapes. Also each step's wall and CPU time
 * (process.cpuUsage, user + system, all threads) per round, unprofiled, and each model's wall time over the
 * first's per round (the models' steps interleaved, so a drift of the host's speed hits both sides of a ratio
 * alike) with their median; --no-profile prints only those (an A/B runs the script in two checkouts alternately).
 */

import { initBackend } from '../src/backend/native.js';
import { prepareModelBench } from '../src/bench/cases.js';
import { median } from '../src/bench/timing.js';
import * as tf from '../src/tf.js';
import { arg, flag } from './args.js';

await initBackend({ backend: arg('backend', 'native') });
const models = arg('models', 'resnet26,sasa_resnet26_convstem,sasa_resnet26').split(',');
const batch = Number(arg('batch', '8'));
const size = Number(arg('size', '224'));
const train = flag('train');
const rounds = Number(arg('rounds', '3'));
const top = Number(arg('top', '40'));

type Profile = Awaited<ReturnType<typeof tf.profile>>;
type ProfiledKernel = Profile['kernels'][number];

function label(k: ProfiledKernel): string {
  if (flag('shapes')) return `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('')}`;
  if (/Attention|Pool/.test(k.name)) {
    const s = k.inputShapes[0] as number[];
    return `${k.name} ${s[1]}x${s[2]}`;
  }
  return k.name;
}

function grouped(profile: Profile): Map<string, { ms: number; n: number }> {
  const groups = new Map<string, { ms: number; n: number }>();
  for (const k of profile.kernels) {
    const g = groups.get(label(k)) ?? { ms: 0, n: 0 };
    g.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : Number.NaN;
    g.n++;
    groups.set(label(k), g);
  }
  return groups;
}

const benches = models.map((model) => prepareModelBench({ model, batch, size, classes: 1000, train }));
for (const b of benches) b.step();
const samples = models.map(() => ({
  wall: [] as number[],
  cpu: [] as number[],
  groups: [] as Map<string, { ms: number; n: number }>[],
}));
for (let r = 0; r < rounds; r++) {
  benches.forEach((b, i) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    b.step();
    samples[i].wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    samples[i].cpu.push((c.user + c.system) / 1000);
  });
  if (flag('no-profile')) continue;
  for (let i = 0; i < benches.length; i++) samples[i].groups.push(grouped(await tf.profile(benches[i].step)));
}

const names = new Set(samples.flatMap((s) => s.groups.flatMap((g) => [...g.keys()])));
const rows = [...names].map((name) => {
  const ms = samples.map((s) => median(s.groups.map((g) => g.get(name)?.ms ?? 0)));
  const calls = samples.map((s) => s.groups[0].get(name)?.n ?? 0);
  return { name, ms, calls };
});
const width = Math.max(...rows.map((r) => r.name.length), 12);
const cell = (v: number) => v.toFixed(1).padStart(9);
console.log(`${train ? 'train' : 'inference'} step, batch ${batch}, ${size}², ${rounds} rounds (medians)`);
for (const [i, m] of models.entries()) {
  const s = samples[i];
  const kernels = s.groups.length ? median(s.groups.map((g) => [...g.values()].reduce((t, e) => t + e.ms, 0))) : 0;
  console.log(
    `${m}: wall ${s.wall.map((v) => v.toFixed(0)).join(', ')} ms; CPU ${s.cpu.map((v) => v.toFixed(0)).join(', ')} ms; kernels ${kernels.toFixed(0)} ms`,
  );
}
for (const [i, m] of models.entries()) {
  if (i === 0) continue;
  const ratios = samples[i].wall.map((v, r) => v / samples[0].wall[r]);
  console.log(
    `${m} / ${models[0]}, wall per round: ${ratios.map((v) => v.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(3)}`,
  );
}
if (flag('no-profile')) {
  for (const b of benches) b.dispose();
  process.exit(0);
}
console.log(`${'kernel'.padEnd(width)} ${models.map((m, i) => (i === 0 ? m : `${m} (Δ)`).padStart(24)).join(' ')}`);
const delta = (r: (typeof rows)[number]) => Math.max(...r.ms.slice(1).map((v) => Math.abs(v - r.ms[0])), r.ms[0]);
for (const r of rows.sort((a, b) => delta(b) - delta(a)).slice(0, top)) {
  const cols = r.ms.map((v, i) => {
    const d = i === 0 ? '' : ` (${(v - r.ms[0] >= 0 ? '+' : '') + (v - r.ms[0]).toFixed(1)})`;
    return `${cell(v)} ×${r.calls[i]}${d}`.padStart(24);
  });
  console.log(`${r.name.padEnd(width)} ${cols.join(' ')}`);
}
for (const b of benches) b.dispose();
