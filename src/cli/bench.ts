/** `sasa bench conv|attention|matmul|model|detection`: time kernels and layers the way bench/torch_peer.py times PyTorch. */
import type { Command } from 'commander';
import {
  benchAttention,
  benchAttentionOp,
  benchConv,
  benchMatmul,
  benchModel,
  MODEL_BENCH_OPTIMIZER,
} from '../bench/cases.js';
import { benchDetection, DETECTION_BENCH_OPTIMIZER, type FpnKind } from '../bench/detection_case.js';
import type { Timing, TimingOptions } from '../bench/timing.js';
import {
  ATTENTION_DEFAULTS,
  LOGITS_MODES,
  type LogitsMode,
  PADDING_MODES,
  type PaddingMode,
} from '../ops/local_attention/options.js';
import { nonNegativeInt, oneOf, positiveInt, shapeOf } from './args.js';
import { type BackendFlags, startBackend, withBackendOptions } from './backend_option.js';
import { kernelSizeArg } from './model_options.js';
import { progressBar } from './progress.js';

interface CommonFlags extends BackendFlags {
  runs: number;
  warmup: number;
  warmupMs: number;
  json?: boolean;
}

function common(cmd: Command): Command {
  return withBackendOptions(cmd)
    .option('--runs <n>', 'timed runs', positiveInt('--runs'), 10)
    .option('--warmup <n>', 'untimed warm-up runs (at least)', nonNegativeInt('--warmup'), 3)
    .option('--warmup-ms <ms>', 'untimed warm-up time (at least)', nonNegativeInt('--warmup-ms'), 1000)
    .option('--json', 'print one JSON object per case (median_ms, peak_rss_mb, ...)');
}

/**
 * Starts the backend, times `measure` with a progress bar (terminal only), and prints one
 * line or, with --json, one JSON object of `fields` plus the timing.
 */
async function runBench(
  flags: CommonFlags,
  bench: string,
  fields: Record<string, unknown>,
  label: string,
  measure: (options: TimingOptions) => Timing & { images_per_s?: number },
): Promise<void> {
  const status = await startBackend(flags);
  const bar = progressBar(bench, flags.runs, !flags.json && process.stderr.isTTY);
  const timing = measure({ runs: flags.runs, warmup: flags.warmup, warmupMs: flags.warmupMs, onRun: () => bar.tick() });
  bar.stop();
  const record = {
    bench,
    impl: 'sasa',
    backend: status.backend,
    threads: status.info?.threads ?? 1,
    ...fields,
    ...timing,
  };
  if (flags.json) console.log(JSON.stringify(record));
  else {
    console.log(
      `${label} on ${status.backend}: median ${timing.median_ms.toFixed(2)} ms (min ${timing.min_ms.toFixed(2)}, ${timing.runs} runs)${timing.images_per_s === undefined ? '' : `, ${timing.images_per_s.toFixed(1)} images/s`}, peak RSS ${timing.peak_rss_mb.toFixed(0)} MB`,
    );
  }
}

const FPN_KINDS: readonly FpnKind[] = ['conv', 'attention'];

const pass = (backward: boolean) => (backward ? 'fwd+bwd' : 'fwd');

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmark kernels and layers (median of N runs after warm-up)');

  common(bench.command('conv'))
    .description('2-D convolution, same padding, NHWC')
    .requiredOption('--shape <B,H,W,C>', 'input shape', shapeOf('--shape', 4))
    .option('--filters <n>', 'output channels', positiveInt('--filters'), 64)
    .option('--kernel <k>', 'kernel size k (k×k)', positiveInt('--kernel'), 3)
    .option('--stride <s>', 'stride', positiveInt('--stride'), 1)
    .option('--backward', 'forward + gradients w.r.t. input and filter')
    .option('--no-input-grad', "with --backward: the filter's gradient only (a network's first layer)")
    .option(
      '--inputs <n>',
      "cycle through n distinct inputs (n > 4: no reuse of an earlier run's layout conversion of x, as in a network)",
      positiveInt('--inputs'),
      1,
    )
    .action(
      (
        flags: CommonFlags & {
          shape: number[];
          filters: number;
          kernel: number;
          stride: number;
          backward?: boolean;
          inputGrad: boolean;
          inputs: number;
        },
      ) => {
        const c = {
          shape: flags.shape as [number, number, number, number],
          filters: flags.filters,
          kernel: flags.kernel,
          stride: flags.stride,
          backward: Boolean(flags.backward),
          input_grad: Boolean(flags.backward) && flags.inputGrad !== false,
          inputs: flags.inputs,
        };
        const label = `conv ${c.kernel}x${c.kernel} ${c.shape[3]}->${c.filters} [${c.shape}] stride ${c.stride} ${c.backward && !c.input_grad ? 'fwd+dW' : pass(c.backward)}`;
        return runBench(flags, 'conv', c, label, (o) => benchConv({ ...c, inputGrad: c.input_grad }, o));
      },
    );

  common(bench.command('attention'))
    .description('the LocalSelfAttention2D layer (projections included, d_out = C), NHWC; --op: the op alone')
    .requiredOption('--shape <B,H,W,C>', 'input shape', shapeOf('--shape', 4))
    .option('--k <k>', 'memory block size k (odd)', kernelSizeArg('--k'), ATTENTION_DEFAULTS.kernelSize)
    .option('--heads <n>', 'attention heads', positiveInt('--heads'), ATTENTION_DEFAULTS.heads)
    .option('--backward', 'forward + gradients w.r.t. input and weights')
    .option('--op', 'time the localAttention2d op alone on q, k, v of --shape (gradients w.r.t. all its inputs)')
    .option(
      '--padding <mode>',
      `with --op: ${PADDING_MODES.join(' | ')}`,
      oneOf('--padding', PADDING_MODES),
      ATTENTION_DEFAULTS.padding,
    )
    .option(
      '--logits <mode>',
      `with --op: ${LOGITS_MODES.join(' | ')}`,
      oneOf('--logits', LOGITS_MODES),
      ATTENTION_DEFAULTS.logits,
    )
    .action(
      (
        flags: CommonFlags & {
          shape: number[];
          k: number;
          heads: number;
          backward?: boolean;
          op?: boolean;
          padding: PaddingMode;
          logits: LogitsMode;
        },
      ) => {
        const c = {
          shape: flags.shape as [number, number, number, number],
          kernelSize: flags.k,
          heads: flags.heads,
          backward: Boolean(flags.backward),
        };
        const fields = { shape: c.shape, k: c.kernelSize, heads: c.heads, backward: c.backward };
        if (flags.op) {
          const o = { ...c, padding: flags.padding, logits: flags.logits };
          const label = `localAttention2d k=${o.kernelSize} heads=${o.heads} ${o.padding} ${o.logits} [${o.shape}] ${pass(o.backward)}`;
          const opFields = { ...fields, op: true, padding: o.padding, logits: o.logits };
          return runBench(flags, 'attention', opFields, label, (t) => benchAttentionOp(o, t));
        }
        const label = `attention k=${c.kernelSize} heads=${c.heads} [${c.shape}] ${pass(c.backward)}`;
        return runBench(flags, 'attention', fields, label, (o) => benchAttention(c, o));
      },
    );

  common(bench.command('matmul'))
    .description('n×n by n×n float32 matrix product')
    .option('--size <n>', 'matrix size n', positiveInt('--size'), 1024)
    .action((flags: CommonFlags & { size: number }) =>
      runBench(flags, 'matmul', { size: flags.size }, `matmul ${flags.size}^3`, (o) => benchMatmul(flags.size, o)),
    );

  common(bench.command('model'))
    .description('one inference step, or with --train one SGD training step, of a registered model')
    .requiredOption('--model <name>', 'registered model, e.g. resnet26, sasa_resnet26')
    .option('--batch <n>', 'batch size', positiveInt('--batch'), 8)
    .option('--size <n>', 'input height = width', positiveInt('--size'), 224)
    .option('--classes <n>', 'classes of the classifier', positiveInt('--classes'), 1000)
    .option(
      '--train',
      'training step: forward (training mode), softmax cross-entropy, backward, SGD momentum 0.9 update',
    )
    .action((flags: CommonFlags & { model: string; batch: number; size: number; classes: number; train?: boolean }) => {
      const c = {
        model: flags.model,
        batch: flags.batch,
        size: flags.size,
        classes: flags.classes,
        train: Boolean(flags.train),
      };
      const label = `${c.model} [${c.batch},${c.size},${c.size},3] ${c.classes} classes ${c.train ? 'train step' : 'inference'}`;
      const fields = { ...c, ...(c.train ? { optimizer: MODEL_BENCH_OPTIMIZER } : {}) };
      return runBench(flags, 'model', fields, label, (o) => benchModel(c, o));
    });

  common(bench.command('detection'))
    .description('one inference (post-processing included), or with --train one training step, of a RetinaNet')
    .option('--backbone <name>', 'registered paper backbone, e.g. resnet50, sasa_resnet50', 'resnet50')
    .option('--fpn <kind>', 'FPN and subnets: conv | attention', oneOf('--fpn', FPN_KINDS), 'conv')
    .option('--batch <n>', 'batch size', positiveInt('--batch'), 1)
    .option('--size <n>', 'image height = width (a multiple of 128)', positiveInt('--size'), 512)
    .option('--classes <n>', 'object classes', positiveInt('--classes'), 91)
    .option('--train', 'training step: forward (training mode), focal + box loss, backward, SGD momentum update')
    .action(
      (
        flags: CommonFlags & {
          backbone: string;
          fpn: FpnKind;
          batch: number;
          size: number;
          classes: number;
          train?: boolean;
        },
      ) => {
        const c = { ...flags, train: Boolean(flags.train) };
        const fields = {
          backbone: c.backbone,
          fpn: c.fpn,
          batch: c.batch,
          size: c.size,
          classes: c.classes,
          train: c.train,
          ...(c.train ? { optimizer: DETECTION_BENCH_OPTIMIZER } : {}),
        };
        const label = `retinanet ${c.backbone} ${c.fpn} FPN [${c.batch},${c.size},${c.size},3] ${c.train ? 'train step' : 'inference + post-processing'}`;
        return runBench(flags, 'detection', fields, label, (o) => benchDetection(c, o));
      },
    );
}
