/**
 * `sasa bench detection` against its PyTorch peer in alternating rounds, one process at a time (peak
 * memory is per process): each round runs ours, then the peer, on every case; prints each run's JSON
 * line and, at the end, each side's median and min of the per-round medians, the median of the per-round CPU
 * times (cpu_ms: the process's user + system time of the median step, all threads; NaN where a peer does not
 * report it) and the load average.
 *
 *   npx tsx bench/detection_rounds.ts [--cases train,infer,attention] [--rounds 2] [--runs 1] [--warmup 1]
 *                                     [--attention-size 128]
 *
 * train:     ours --fpn conv --batch 2 --size 512 --train vs bench/retinanet_peer.py --train
 * infer:     ours --fpn conv --batch 1 --size 512 vs bench/retinanet_peer.py (eval, post-processing included)
 * attention: ours --fpn attention --batch 1 --size S --train vs bench/attention_fpn_peer.py (unfold), S from
 *            --attention-size (a multiple of 128; at batch 2, 512 x 512 the unfold peer needs more memory
 *            than this machine's 23 GB, at 256 x 256 ~4 GB)
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { median } from '../src/bench/timing.js';

const { values: opt } = parseArgs({
  options: {
    cases: { type: 'string', default: 'train,infer' },
    rounds: { type: 'string', default: '2' },
    runs: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '1' },
    'attention-size': { type: 'string', default: '128' },
  },
});
const runs = ['--runs', opt.runs, '--warmup', opt.warmup];
const CASES: Record<string, { ours: string[]; peer: string[] }> = {
  train: {
    ours: ['--fpn', 'conv', '--batch', '2', '--size', '512', '--train'],
    peer: ['bench/retinanet_peer.py', '--batch', '2', '--size', '512', '--train'],
  },
  infer: {
    ours: ['--fpn', 'conv', '--batch', '1', '--size', '512'],
    peer: ['bench/retinanet_peer.py', '--batch', '1', '--size', '512'],
  },
  attention: {
    ours: ['--fpn', 'attention', '--batch', '1', '--size', opt['attention-size'], '--train'],
    peer: ['bench/attention_fpn_peer.py', '--batch', '1', '--size', opt['attention-size']],
  },
};

type Run = { median_ms: number; min_ms: number; cpu_ms?: number; peak_rss_mb: number };

function run(cmd: string, args: string[]): Run {
  const out = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (out.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${out.stderr}`);
  const line = out.stdout.trim().split('\n').at(-1) ?? '';
  console.log(line);
  return JSON.parse(line) as Run;
}

const names = opt.cases.split(',');
const results: Record<string, { sasa: Run[]; torch: Run[]; load: number[] }> = {};
for (let r = 0; r < Number(opt.rounds); r++) {
  for (const name of names) {
    const c = CASES[name];
    if (!c) throw new Error(`unknown case '${name}'; known: ${Object.keys(CASES).join(', ')}`);
    results[name] ??= { sasa: [], torch: [], load: [] };
    const into = results[name];
    into.load.push(loadavg()[0]);
    into.sasa.push(
      run('npx', [
        'tsx',
        'src/cli/main.ts',
        'bench',
        'detection',
        '--backbone',
        'resnet50',
        ...c.ours,
        ...runs,
        '--warmup-ms',
        '0',
        '--json',
      ]),
    );
    into.torch.push(run('/usr/bin/python3', [...c.peer, ...runs]));
  }
}
for (const [name, { sasa, torch, load }] of Object.entries(results)) {
  const summary = (rs: Run[]) => ({
    median_ms: median(rs.map((x) => x.median_ms)),
    min_ms: Math.min(...rs.map((x) => x.min_ms)),
    cpu_ms: median(rs.map((x) => x.cpu_ms ?? Number.NaN)),
    peak_rss_mb: Math.max(...rs.map((x) => x.peak_rss_mb)),
  });
  const s = summary(sasa);
  const t = summary(torch);
  console.log(
    JSON.stringify({
      case: name,
      sasa: s,
      torch: t,
      time_ratio_median: s.median_ms / t.median_ms,
      time_ratio_min: s.min_ms / t.min_ms,
      cpu_ratio_median: s.cpu_ms / t.cpu_ms,
      memory_ratio: s.peak_rss_mb / t.peak_rss_mb,
      load_average_1min: load,
    }),
  );
}
