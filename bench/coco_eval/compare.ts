/**
 * `sasa coco-eval` against pycocotools on the same synthetic set (make_set.ts: 5 000 images, 40 000
 * ground truths, 400 000 detections, 80 categories), one process at a time, each under /usr/bin/time -v
 * (peak RSS; without it, the children's getrusage). Three processes:
 *   1. the built CLI, `node dist/cli/main.js coco-eval --json` (tsx if dist/ is absent): end to end;
 *   2. time_sasa.ts: our load (read + validate both files) and cocoEvaluate, timed apart;
 *   3. pycocotools_peer.py: load (COCO(gt) + json.load), loadRes, evaluate, accumulate, summarize.
 * "Without loading" compares cocoEvaluate with loadRes + evaluate + accumulate + summarize (both start
 * from parsed JSON in memory); "with loading" adds reading the two files on both sides.
 *
 *   npm run build && npx tsx bench/coco_eval/compare.ts [--dir DIR] [--runs 5]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface Measured {
  stdout: string;
  wallSeconds: number;
  peakRssMB: number;
}

const TIME = '/usr/bin/time';

function measure(command: string, args: string[]): Measured {
  const timed = existsSync(TIME);
  const started = performance.now();
  const r = timed
    ? spawnSync(TIME, ['-v', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 })
    : spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallSeconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const rss = timed
    ? Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]) / 1024
    : process.resourceUsage().maxRSS / 1024;
  return { stdout: r.stdout, wallSeconds, peakRssMB: rss };
}

function main(): void {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, runs: { type: 'string', default: '5' } } });
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'coco-bench-'));
  if (!existsSync(join(dir, 'dt.json')))
    measure(process.execPath, ['--import', 'tsx', 'bench/coco_eval/make_set.ts', dir]);
  const gt = join(dir, 'gt.json');
  const dt = join(dir, 'dt.json');
  const built = existsSync('dist/cli/main.js');
  const cli = measure(process.execPath, [
    ...(built ? ['dist/cli/main.js'] : ['--import', 'tsx', 'src/cli/main.ts']),
    'coco-eval',
    '--gt',
    gt,
    '--dt',
    dt,
    '--json',
  ]);
  const ours = measure(process.execPath, [
    '--import',
    'tsx',
    'bench/coco_eval/time_sasa.ts',
    dir,
    '--runs',
    values.runs as string,
  ]);
  const peer = measure('python3', ['bench/coco_eval/pycocotools_peer.py', dir]);
  const o = JSON.parse(ours.stdout) as {
    loadSeconds: number;
    evaluateSeconds: number;
    evaluateBestSeconds: number;
    stats: number[];
  };
  const p = JSON.parse(peer.stdout) as { seconds: Record<string, number>; stats: number[] };
  const cliStats = (JSON.parse(cli.stdout) as { stats: number[] }).stats;
  const s = p.seconds;
  const peerEval = s.loadRes + s.evaluate + s.accumulate + s.summarize;
  const maxDiff = Math.max(...p.stats.map((x, i) => Math.max(Math.abs(x - o.stats[i]), Math.abs(x - cliStats[i]))));
  const row = (name: string, a: number, b: number) =>
    `| ${name} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(b / a).toFixed(1)}× |`;
  console.log(`set: ${dir}; CLI run as ${built ? 'node dist/cli/main.js' : 'tsx src/cli/main.ts'}`);
  console.log('| what | sasa s | pycocotools s | pycocotools / sasa |\n| --- | ---: | ---: | ---: |');
  const noLoading = 'evaluation, no file loading: cocoEvaluate vs loadRes + evaluate + accumulate + summarize';
  console.log(row(`${noLoading} (our median of ${values.runs})`, o.evaluateSeconds, peerEval));
  console.log(row(`${noLoading} (our best)`, o.evaluateBestSeconds, peerEval));
  console.log(row('loading + evaluation, in process', o.loadSeconds + o.evaluateSeconds, s.load + peerEval));
  console.log(row('whole process (sasa: the CLI; pycocotools: the peer script)', cli.wallSeconds, peer.wallSeconds));
  console.log(
    `peak RSS MB: sasa CLI ${cli.peakRssMB.toFixed(0)}, sasa in-process timer ${ours.peakRssMB.toFixed(0)}, pycocotools ${peer.peakRssMB.toFixed(0)}`,
  );
  console.log(`sasa load ${o.loadSeconds.toFixed(2)} s; pycocotools stages ${JSON.stringify(s)}`);
  console.log(
    `largest |stats difference| sasa vs pycocotools: ${maxDiff.toExponential(2)} (6 decimals: ${maxDiff < 5e-7})`,
  );
}

main();
