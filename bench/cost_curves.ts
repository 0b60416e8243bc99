/**
 * How the attention layer's cost grows (issue 18, item 4): time and peak memory of one forward +
 * backward pass against the window k and against the resolution, for three sides measured in one
 * sitting — ours (`sasa bench attention`, the built CLI), our 3×3 conv of the same width
 * (`sasa bench conv --kernel 3`) and PyTorch's unfold layer (`bench/torch_peer.py attention`,
 * glibc malloc told to keep freed memory, as bench/compare.mjs times it; OMP_WAIT_POLICY=passive).
 *   npm run build && npx tsx bench/cost_curves.ts [--k-shape 2,28,28,64] [--ks 3,5,7,9,11,13,15]
 *       [--channels 32] [--sizes 28,56,112,224] [--res-k 7] [--heads 8] [--runs 5] [--threads 2]
 *       [--python /usr/bin/python3] [--out bench/results/cost_curves]
 * Each point is a fresh process: median of --runs timed runs after one warm-up run and 300 ms of
 * warm-up. Memory is the process's peak RSS (ru_maxrss) and, as the layer's own share, that peak less
 * the same runner's peak on a tiny case ([1,8,8,8], k 3, forward): the runtime's floor.
 * Writes OUT.json and four charts (OUT_{k,res}_{time,memory}.png + .vl.json, src/viz): median ms and
 * peak RSS, log y (the floors are in OUT.json's meta).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { linePlot, writePng } from '../src/viz/plots.js';
import { arg } from './args.js';

const numbers = (s: string) => s.split(',').map(Number);

const kShape = numbers(arg('k-shape', '2,28,28,64'));
const ks = numbers(arg('ks', '3,5,7,9,11,13,15'));
const channels = Number(arg('channels', '32'));
const sizes = numbers(arg('sizes', '28,56,112,224'));
const resK = Number(arg('res-k', '7'));
const heads = arg('heads', '8');
const runs = arg('runs', '5');
const threads = arg('threads', '2');
const python = arg('python', '/usr/bin/python3');
const outBase = arg('out', 'bench/results/cost_curves');

/**
 * PyTorch's OpenMP threads sleep at once instead of spinning, as sasa's addon sets for its own
 * (src/backend/addon.ts): on shared cores libgomp's spinning made every region wait for a core
 * (BENCHMARKS.md, "Batch-1 inference"); measured here, k 7: 276 ms passive against 948 ms spinning.
 */
const TORCH_ENV = { OMP_NUM_THREADS: threads, OMP_WAIT_POLICY: 'passive' };

type Side = 'sasa' | 'sasa-conv' | 'pytorch-unfold';
const SIDES: readonly Side[] = ['sasa', 'sasa-conv', 'pytorch-unfold'];
const TIMING = ['--runs', runs, '--warmup', '1', '--warmup-ms', '300', '--json'];

interface Measured {
  median_ms: number;
  min_ms: number;
  peak_rss_mb: number;
}

/** One bench process's JSON line (the last line of its stdout). */
function runBench(side: Side, shape: number[], k: number, backward = true): Measured {
  const pass = backward ? ['--backward'] : [];
  const attention = ['attention', '--shape', shape.join(','), '--k', String(k), '--heads', heads, ...pass];
  const [cmd, args, env] =
    side === 'pytorch-unfold'
      ? [python, ['bench/torch_peer.py', ...attention, '--malloc', 'retain'], TORCH_ENV]
      : side === 'sasa'
        ? [process.execPath, ['dist/cli/main.js', 'bench', ...attention], { SASA_NUM_THREADS: threads }]
        : [
            process.execPath,
            ['dist/cli/main.js', 'bench', 'conv', '--shape', shape.join(','), '--filters', String(shape[3])],
            { SASA_NUM_THREADS: threads },
          ];
  const extra = side === 'sasa-conv' ? ['--kernel', '3', ...pass] : [];
  const r = spawnSync(cmd, [...args, ...extra, ...TIMING], {
    env: { ...process.env, ...env, OPENBLAS_NUM_THREADS: threads },
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) throw new Error(`cost_curves: ${side} [${shape}] k ${k} failed: ${r.stderr || r.stdout}`);
  const record = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Measured;
  return { median_ms: record.median_ms, min_ms: record.min_ms, peak_rss_mb: record.peak_rss_mb };
}

interface Point extends Measured {
  side: Side;
  shape: number[];
  k: number;
  layer_peak_mb: number;
}

const floorMb = Object.fromEntries(SIDES.map((s) => [s, runBench(s, [1, 8, 8, 8], 3, false).peak_rss_mb]));
function measure(shape: number[], k: number): Point[] {
  return SIDES.map((side) => {
    const m = runBench(side, shape, k);
    const point = { side, shape, k, ...m, layer_peak_mb: Math.max(0, m.peak_rss_mb - floorMb[side]) };
    console.error(
      `${side} [${shape}] k ${k}: ${m.median_ms.toFixed(1)} ms (min ${m.min_ms.toFixed(1)}), peak ${m.peak_rss_mb.toFixed(0)} MB`,
    );
    return point;
  });
}

const start = performance.now();
const kPoints = ks.flatMap((k) => measure(kShape, k));
const resPoints = sizes.flatMap((s) => measure([1, s, s, channels], resK));
const seconds = Math.round((performance.now() - start) / 1000);

const LABEL: Record<Side, string> = {
  sasa: 'sasa attention (native)',
  'sasa-conv': 'sasa 3×3 conv (same width)',
  'pytorch-unfold': 'PyTorch unfold attention',
};
const series = (points: Point[], x: (p: Point) => number, y: (p: Point) => number) =>
  SIDES.map((side) => ({
    name: LABEL[side],
    points: points.filter((p) => p.side === side).map((p) => [x(p), y(p)] as [number, number]),
    dashed: side === 'sasa-conv',
  }));
const kTitle = `[${kShape}], ${heads} heads, forward + backward`;
const resTitle = `[1, H, H, ${channels}], k ${resK}, ${heads} heads, forward + backward`;
const charts = [
  { name: 'k_time', x: 'k', title: kTitle, points: kPoints, xOf: (p: Point) => p.k, time: true },
  { name: 'k_memory', x: 'k', title: kTitle, points: kPoints, xOf: (p: Point) => p.k, time: false },
  {
    name: 'res_time',
    x: 'resolution H = W',
    title: resTitle,
    points: resPoints,
    xOf: (p: Point) => p.shape[1],
    time: true,
  },
  {
    name: 'res_memory',
    x: 'resolution H = W',
    title: resTitle,
    points: resPoints,
    xOf: (p: Point) => p.shape[1],
    time: false,
  },
];
mkdirSync(dirname(outBase), { recursive: true });
for (const c of charts) {
  await writePng(
    `${outBase}_${c.name}.png`,
    linePlot({
      title: `${c.time ? 'Time' : 'Peak RSS of the process'}: ${c.title}`,
      xLabel: c.x,
      yLabel: c.time ? 'median ms (log)' : 'MB (log)',
      series: series(c.points, c.xOf, (p) => (c.time ? p.median_ms : p.peak_rss_mb)),
      logY: true,
    }),
  );
}
const meta = { threads: Number(threads), runs: Number(runs), heads: Number(heads), seconds, floorMb };
writeFileSync(`${outBase}.json`, `${JSON.stringify({ meta, k: kPoints, resolution: resPoints }, null, 2)}\n`);
console.log(JSON.stringify(meta));
