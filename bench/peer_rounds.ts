/**
 * Rounds that alternate our cases with a Python peer run on the same inputs, in one sitting: each round
 * times every case (median of its runs), then runs the peer script once (it prints
 * `{ms: {op: median}, results: {op: values}}` as JSON); each side keeps its best median over the rounds.
 * Shared by the detection benches (bench/detection_boxes.ts, bench/retinanet_loss.ts).
 */
import { spawnSync } from 'node:child_process';
import { timeRuns } from '../src/bench/timing.js';

export type PeerOutput = { ms: Record<string, number>; results: Record<string, number[]> };

export interface BenchCase<T> {
  op: string;
  runs: number;
  run: () => T;
}

export interface RoundsOptions {
  rounds: number;
  /** The peer script (run with Debian's /usr/bin/python3) and its arguments. */
  peerScript: string;
  peerArgs: string[];
  warmup: number;
  warmupMs: number;
}

/** Each side's best median per op, and the peer's last output (its results, to compare). */
export function alternateRounds(
  cases: readonly BenchCase<unknown>[],
  o: RoundsOptions,
): { sasa: Record<string, number>; torch: Record<string, number>; peer: PeerOutput } {
  const best = { sasa: {} as Record<string, number>, torch: {} as Record<string, number> };
  let peer: PeerOutput = { ms: {}, results: {} };
  for (let r = 0; r < o.rounds; r++) {
    for (const { op, runs, run } of cases) {
      const median = timeRuns(run, { runs, warmup: o.warmup, warmupMs: o.warmupMs }).median_ms;
      best.sasa[op] = Math.min(best.sasa[op] ?? Infinity, median);
    }
    const out = spawnSync('/usr/bin/python3', [o.peerScript, ...o.peerArgs], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (out.status !== 0) throw new Error(`${o.peerScript} failed: ${out.stderr}`);
    peer = JSON.parse(out.stdout) as PeerOutput;
    for (const [op, t] of Object.entries(peer.ms)) best.torch[op] = Math.min(best.torch[op] ?? Infinity, t);
  }
  return { ...best, peer };
}

/** The table of both sides' best medians, `digits` decimals. */
export function printRounds(
  cases: readonly { op: string }[],
  best: { sasa: Record<string, number>; torch: Record<string, number> },
  width: number,
  digits: number,
): void {
  console.log('op'.padEnd(width), 'sasa ms'.padStart(9), 'torch ms'.padStart(9));
  for (const { op } of cases) {
    const torch = best.torch[op] ?? Number.NaN;
    console.log(op.padEnd(width), best.sasa[op].toFixed(digits).padStart(9), torch.toFixed(digits).padStart(9));
  }
}
