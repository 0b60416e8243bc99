/** `sasa bench conv|matmul`: time kernels the way bench/torch_peer.py times PyTorch. */
import type { Command } from 'commander';
import { benchAttention, benchConv, benchMatmul } from '../bench/cases.js';
import type { Timing } from '../bench/timing.js';
import { nonNegativeInt, positiveInt, shapeOf } from './args.js';
import { type BackendFlags, startBackend, withBackendOptions } from './backend_option.js';
import { progressBar } from './progress.js';

interface CommonFlags extends BackendFlags {
  runs: number;
  warmup: number;
  warmupMs: number;
  json?: boolean;
}

function report(flags: CommonFlags, fields: Record<string, unknown>, timing: Timing, label: string): void {
  const record = { ...fields, ...timing };
  if (flags.json) console.log(JSON.stringify(record));
  else
    console.log(
      `${label}: median ${timing.median_ms.toFixed(2)} ms (min ${timing.min_ms.toFixed(2)}, ${timing.runs} runs), peak RSS ${timing.peak_rss_mb.toFixed(0)} MB`,
    );
}

function common(cmd: Command): Command {
  return withBackendOptions(cmd)
    .option('--runs <n>', 'timed runs', positiveInt('--runs'), 10)
    .option('--warmup <n>', 'untimed warm-up runs (at least)', nonNegativeInt('--warmup'), 3)
    .option('--warmup-ms <ms>', 'untimed warm-up time (at least)', nonNegativeInt('--warmup-ms'), 1000)
    .option('--json', 'print one JSON object per case (median_ms, peak_rss_mb, ...)');
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmark kernels and layers (median of N runs after warm-up)');

  common(bench.command('conv'))
    .description('2-D convolution, same padding, NHWC')
    .requiredOption('--shape <B,H,W,C>', 'input shape', shapeOf('--shape', 4))
    .option('--filters <n>', 'output channels', positiveInt('--filters'), 64)
    .option('--kernel <k>', 'kernel size k (k×k)', positiveInt('--kernel'), 3)
    .option('--stride <s>', 'stride', positiveInt('--stride'), 1)
    .option('--backward', 'forward + gradients w.r.t. input and filter')
    .action(
      async (
        flags: CommonFlags & { shape: number[]; filters: number; kernel: number; stride: number; backward?: boolean },
      ) => {
        const status = await startBackend(flags);
        const c = {
          shape: flags.shape as [number, number, number, number],
          filters: flags.filters,
          kernel: flags.kernel,
          stride: flags.stride,
          backward: Boolean(flags.backward),
        };
        const bar = progressBar('conv', flags.runs, !flags.json && process.stderr.isTTY);
        const timing = benchConv(c, {
          runs: flags.runs,
          warmup: flags.warmup,
          warmupMs: flags.warmupMs,
          onRun: () => bar.tick(),
        });
        bar.stop();
        const label = `conv ${c.kernel}x${c.kernel} ${c.shape[3]}->${c.filters} [${c.shape}] stride ${c.stride} ${c.backward ? 'fwd+bwd' : 'fwd'} on ${status.backend}`;
        report(
          flags,
          { bench: 'conv', impl: 'sasa', backend: status.backend, threads: status.info?.threads ?? 1, ...c },
          timing,
          label,
        );
      },
    );

  common(bench.command('attention'))
    .description('the LocalSelfAttention2D layer (projections included, d_out = C), NHWC')
    .requiredOption('--shape <B,H,W,C>', 'input shape', shapeOf('--shape', 4))
    .option('--k <k>', 'memory block size k (odd)', positiveInt('--k'), 7)
    .option('--heads <n>', 'attention heads', positiveInt('--heads'), 8)
    .option('--backward', 'forward + gradients w.r.t. input and weights')
    .action(async (flags: CommonFlags & { shape: number[]; k: number; heads: number; backward?: boolean }) => {
      const status = await startBackend(flags);
      const c = {
        shape: flags.shape as [number, number, number, number],
        kernelSize: flags.k,
        heads: flags.heads,
        backward: Boolean(flags.backward),
      };
      const bar = progressBar('attention', flags.runs, !flags.json && process.stderr.isTTY);
      const timing = benchAttention(c, {
        runs: flags.runs,
        warmup: flags.warmup,
        warmupMs: flags.warmupMs,
        onRun: () => bar.tick(),
      });
      bar.stop();
      const label = `attention k=${c.kernelSize} heads=${c.heads} [${c.shape}] ${c.backward ? 'fwd+bwd' : 'fwd'} on ${status.backend}`;
      report(
        flags,
        {
          bench: 'attention',
          impl: 'sasa',
          backend: status.backend,
          threads: status.info?.threads ?? 1,
          shape: c.shape,
          k: c.kernelSize,
          heads: c.heads,
          backward: c.backward,
        },
        timing,
        label,
      );
    });

  common(bench.command('matmul'))
    .description('n×n by n×n float32 matrix product')
    .option('--size <n>', 'matrix size n', positiveInt('--size'), 1024)
    .action(async (flags: CommonFlags & { size: number }) => {
      const status = await startBackend(flags);
      const timing = benchMatmul(flags.size, { runs: flags.runs, warmup: flags.warmup, warmupMs: flags.warmupMs });
      const label = `matmul ${flags.size}^3 on ${status.backend}`;
      report(
        flags,
        {
          bench: 'matmul',
          impl: 'sasa',
          backend: status.backend,
          threads: status.info?.threads ?? 1,
          size: flags.size,
        },
        timing,
        label,
      );
    });
}
