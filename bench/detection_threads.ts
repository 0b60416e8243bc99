/**
 * How well one RetinaNet training step of `sasa bench detection --train` uses its threads, kernel by kernel:
 * every kernel registered on the native backend is wrapped to add its wall and process CPU time
 * (process.cpuUsage: user + system, all threads) and the main thread's CPU time (/proc/thread-self/schedstat;
 * the rest is the OpenMP workers', spinning included) to its group (kernel name and input shapes); kernels
 * a kernel runs inside itself count in the outer one. The step's time outside kernels (tfjs's dispatch,
 * the gradient tape, JS loops such as the anchors' matching) is its own line. One warm-up step, then
 * --steps steps summed; the --top groups by wall time, with CPU / wall (2.0 = two busy threads, 1.0 = one), and
 * the kernel calls per step; --by-name adds the sums per kernel name, most calls first.
 *   npx tsx bench/detection_threads.ts [--fpn attention] [--batch 1] [--size 256] [--steps 2] [--top 40] [--by-name]
 */
import { readFileSync } from 'node:fs';
import { initBackend } from '../src/backend/native.js';
import { prepareDetectionBench } from '../src/bench/detection_case.js';
import * as tf from '../src/tf.js';
import { arg, detectionTrainCase, flag } from './args.js';

await initBackend({ backend: 'native' });
const spent = new Map<string, { wall: number; cpu: number; main: number; n: number }>();
let depth = 0;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** The main thread's time on a CPU, ms (/proc/thread-self/schedstat: nanoseconds). */
const mainMs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
for (const k of tf.getKernelsForBackend('native')) {
  const inner = k.kernelFunc;
  (k as { kernelFunc: typeof inner }).kernelFunc = (args) => {
    if (depth > 0) return inner(args);
    depth++;
    const w0 = performance.now();
    const c0 = cpuMs();
    const m0 = mainMs();
    try {
      return inner(args);
    } finally {
      depth--;
      const shapes = Object.values(args.inputs).map((t) => `[${(t as tf.TensorInfo | undefined)?.shape ?? ''}]`);
      const key = `${k.kernelName} ${shapes.join('')}`;
      const e = spent.get(key) ?? { wall: 0, cpu: 0, main: 0, n: 0 };
      e.wall += performance.now() - w0;
      e.cpu += cpuMs() - c0;
      e.main += mainMs() - m0;
      e.n++;
      spent.set(key, e);
    }
  };
}

const bench = prepareDetectionBench(detectionTrainCase({ fpn: 'attention', batch: 1, size: 256 }));
bench.step();
spent.clear();
const steps = Number(arg('steps', '2'));
const w0 = performance.now();
const c0 = cpuMs();
const m0 = mainMs();
for (let i = 0; i < steps; i++) bench.step();
const wall = performance.now() - w0;
const cpu = cpuMs() - c0;
const main = mainMs() - m0;
bench.dispose();

const rows = [...spent].sort((a, b) => b[1].wall - a[1].wall);
const kWall = rows.reduce((s, [, e]) => s + e.wall, 0);
const kCpu = rows.reduce((s, [, e]) => s + e.cpu, 0);
const kMain = rows.reduce((s, [, e]) => s + e.main, 0);
const line = (name: string, w: number, c: number, m: number, n: number | string) =>
  console.log(
    `${name.slice(0, 80).padEnd(80)} ${[w, c, m, c - m].map((v) => (v / steps).toFixed(1).padStart(7)).join(' ')} ${(c / Math.max(w, 1e-9)).toFixed(2).padStart(5)} ${String(n).padStart(6)}`,
  );
console.log(
  `per step: wall ${(wall / steps).toFixed(0)} ms, CPU ${(cpu / steps).toFixed(0)} ms (main thread ${(main / steps).toFixed(0)})`,
);
console.log(`${'ms per step'.padEnd(80)}    wall     cpu    main  others cpu/wall calls`);
line('all kernels', kWall, kCpu, kMain, rows.reduce((s, [, e]) => s + e.n, 0) / steps);
line('outside kernels', wall - kWall, cpu - kCpu, main - kMain, '');
if (flag('by-name')) {
  const byName = new Map<string, { wall: number; cpu: number; main: number; n: number }>();
  for (const [key, e] of rows) {
    const name = key.split(' ')[0];
    const sum = byName.get(name) ?? { wall: 0, cpu: 0, main: 0, n: 0 };
    sum.wall += e.wall;
    sum.cpu += e.cpu;
    sum.main += e.main;
    sum.n += e.n;
    byName.set(name, sum);
  }
  for (const [name, e] of [...byName].sort((a, b) => b[1].n - a[1].n)) line(name, e.wall, e.cpu, e.main, e.n / steps);
}
for (const [name, e] of rows.slice(0, Number(arg('top', '40')))) line(name, e.wall, e.cpu, e.main, e.n / steps);
