/**
 * The local self-attention layer (k 7, 8 heads, projections included, d_in = d_out = C) against
 * our 3×3 convolution of the same width at the large ResNet stages, forward + backward, in one
 * process, alternating the cases each round; also the localAttention2d op alone (forward, and
 * forward + backward), so layer − op is the projections' share:
 *   npx tsx bench/attention_stages.ts [--shapes 8,56,56,64;8,28,28,128] [--rounds 3] [--runs 5]
 * Prints per round the median wall ms of each case and the attention / conv ratio, then the same
 * in CPU ms (user + system over all threads, between consecutive runs: on shared, loaded cores the
 * wall time mostly measures the other processes). SASA_NATIVE_ADDON picks another addon build (an
 * A/B runs this alternately with two builds).
 */

import { initBackend, NATIVE_BACKEND } from '../src/backend/native.js';
import { benchAttention, benchAttentionOp, benchConv } from '../src/bench/cases.js';
import { median, type Timing, type TimingOptions } from '../src/bench/timing.js';
import { arg } from './args.js';

await initBackend({ backend: NATIVE_BACKEND, require: true });
const shapes = arg('shapes', '8,56,56,64;8,28,28,128')
  .split(';')
  .map((s) => s.split(',').map(Number) as [number, number, number, number]);
const runs = Number(arg('runs', '5'));
/** Runs `bench` with CPU time taken after each run; returns its timing and the median CPU ms per run. */
const withCpu = (bench: (o: TimingOptions) => Timing) => {
  const marks: number[] = [];
  const mark = () => {
    const c = process.cpuUsage();
    marks.push((c.user + c.system) / 1000);
  };
  const t = bench({ runs: runs + 1, warmup: 2, warmupMs: 500, onRun: mark });
  return { wall: t.median_ms, cpu: median(marks.slice(1).map((m, i) => m - marks[i])) };
};
const rounds = Number(arg('rounds', '3'));
const fmt = (x: number) => x.toFixed(1).padStart(6);
console.log('shape             round  conv fb  layer fb  op fwd  op fb  layer/conv   (wall ms | CPU ms)');
for (let r = 0; r < rounds; r++) {
  for (const shape of shapes) {
    const conv = withCpu((o) =>
      benchConv({ shape, filters: shape[3], kernel: 3, stride: 1, backward: true, inputs: 5 }, o),
    );
    const layer = withCpu((o) => benchAttention({ shape, kernelSize: 7, heads: 8, backward: true }, o));
    const op = (backward: boolean) =>
      withCpu((o) =>
        benchAttentionOp({ shape, kernelSize: 7, heads: 8, padding: 'zeros', logits: 'qk+qr', backward }, o),
      );
    const fwd = op(false);
    const fb = op(true);
    for (const key of ['wall', 'cpu'] as const) {
      const ratio = (layer[key] / conv[key]).toFixed(2);
      console.log(
        `${shape.join(',').padEnd(16)}  ${String(r + 1).padStart(5)}  ${fmt(conv[key])}  ${fmt(layer[key])}    ${fmt(fwd[key])} ${fmt(fb[key])}  ${ratio} ${key}`,
      );
    }
  }
}
