/**
 * `sasa demo`: trains a small full-attention network and its convolutional twin (same widths,
 * depths and budget; 3×3 convolutions instead of attention, conv stem instead of the attention
 * stem) on the embedded Fashion-MNIST subset — or the full data set when Debian's
 * dataset-fashion-mnist is installed or --data names one — and prints accuracy, parameters and
 * FLOPs side by side.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { openData, parseDataSpec } from '../data/spec.js';
import type { ModelConfig } from '../models/config.js';
import { countModel } from '../models/count.js';
import { modelConfig } from '../models/registry.js';
import { CurvesWriter } from '../tasks/classification/curves.js';
import type { Metrics } from '../tasks/classification/evaluate.js';
import { train } from '../tasks/classification/trainer.js';
import { checkOutFolder, refuseEarlierRun } from '../tasks/training/run_folder.js';
import { positiveInt } from './args.js';
import { type BackendFlags, startBackend, withBackendOptions } from './backend_option.js';
import { type ChildRun, trainSideBySide } from './side_by_side.js';
import { type TrainDefaults, type TrainFlags, trainOptionsFromFlags, withTrainOptions } from './train.js';
import { TrainingProgress } from './training_progress.js';

/**
 * The demo's budget: a few minutes on 2 cores on the embedded subset. Short runs learn faster with a
 * higher peak rate and a short warm-up than with `sasa train`'s defaults.
 */
export const DEMO_DEFAULTS: TrainDefaults = { epochs: 2, lr: 0.2, warmupEpochs: 0.2 };

/** The demo's pair: registry names, labels and output folders. */
const DEMO_MODELS = [
  { model: 'sasa_resnet26_demo', label: 'attention', dir: 'attention' },
  { model: 'resnet26_demo', label: 'conv twin', dir: 'conv' },
] as const;

/** The demo's pair (registry: sasa_resnet26_demo, resnet26_demo) fitted to the data. */
export function demoConfigs(data: { size: number; channels: number; classes: number }): ModelConfig[] {
  const fit = { inputSize: data.size, inputChannels: data.channels, classes: data.classes };
  return DEMO_MODELS.map(({ model, label }) => ({ ...modelConfig(model, fit), name: `${label} (${model})` }));
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

interface DemoFlags extends TrainFlags, BackendFlags {
  jobs: number;
}

interface RunResult {
  test: Metrics | null;
  seconds: number;
  steps: number;
}

/** `sasa train` arguments that repeat the demo's training flags for one model. */
function trainArgs(flags: DemoFlags, model: string, out: string): string[] {
  const args = [
    ...['--model', model, '--data', flags.data, '--out', out],
    ...['--epochs', flags.epochs, '--batch-size', flags.batchSize, '--lr', flags.lr],
    ...['--warmup-epochs', flags.warmupEpochs, '--momentum', flags.momentum, '--weight-decay', flags.weightDecay],
    ...['--label-smoothing', flags.labelSmoothing, '--ema-decay', flags.emaDecay, '--seed', flags.seed],
    ...['--validation', flags.validation, '--checkpoint-every', flags.checkpointEvery],
  ].map(String);
  if (flags.imageSize) args.push('--image-size', String(flags.imageSize));
  if (flags.strict) args.push('--strict');
  if (!flags.augment) args.push('--no-augment');
  if (flags.backend) args.push('--backend', flags.backend);
  if (flags.requireNative) args.push('--require-native');
  return args;
}

/** Both models at once, one child process each with half the threads. */
async function trainInParallel(flags: DemoFlags, trainCount: number, threads: number): Promise<RunResult[]> {
  const perEpoch = Math.floor((trainCount - Math.round(flags.validation * trainCount)) / flags.batchSize);
  const runs: ChildRun[] = DEMO_MODELS.map(({ model, label, dir }) => {
    const out = join(flags.out, dir);
    return { label, out, args: trainArgs(flags, model, out), totalSteps: perEpoch * flags.epochs };
  });
  await trainSideBySide(runs, Math.max(1, Math.floor(threads / runs.length)));
  return runs.map((r) => JSON.parse(readFileSync(join(r.out, 'summary.json'), 'utf8')) as RunResult);
}

export function registerDemo(program: Command): void {
  withTrainOptions(withBackendOptions(program.command('demo')), DEMO_DEFAULTS)
    .description('train a small attention network and its convolutional twin and compare them (the main job)')
    .option('--out <dir>', 'output directory (one folder per model)', 'sasa-demo')
    .option(
      '--jobs <n>',
      'models trained at once, each in its own process (default: 2 with 2 or more cores)',
      positiveInt('--jobs'),
      availableParallelism() >= 2 ? 2 : 1,
    )
    .action(async (flags: DemoFlags) => {
      const started = performance.now();
      checkOutFolder(flags.out);
      for (const { dir } of DEMO_MODELS) {
        checkOutFolder(join(flags.out, dir));
        refuseEarlierRun(join(flags.out, dir), 'choose another --out, or remove the folder');
      }
      const status = await startBackend(flags);
      const data = await openData(parseDataSpec(flags.data), { imageSize: flags.imageSize, strict: flags.strict });
      const { size, channels, classes } = data;
      const configs = demoConfigs({ size, channels, classes });
      const threads = status.info?.threads ?? 1;
      const parallel = flags.jobs >= 2;
      console.log(
        `sasa demo on ${data.name}: ${data.counts.train} training and ${data.counts.test} test images, ` +
          `${flags.epochs} epochs, backend ${status.backend}, ` +
          (parallel
            ? `both models at once (${plural(Math.max(1, Math.floor(threads / 2)), 'thread')} each)`
            : `one model after the other (${plural(threads, 'thread')})`),
      );
      for (const config of configs) {
        const counts = countModel(config);
        console.log(
          `  ${config.name}: ${(counts.params / 1e6).toFixed(2)} M params, ${(counts.flops / 1e6).toFixed(1)} M FLOPs`,
        );
      }
      let results: RunResult[];
      if (parallel) results = await trainInParallel(flags, data.counts.train, threads);
      else {
        results = [];
        for (const [i, config] of configs.entries()) {
          console.log(`\n[${i + 1}/2] ${config.name}`);
          const out = join(flags.out, DEMO_MODELS[i].dir);
          const callbacks = [new TrainingProgress(), new CurvesWriter(out)];
          const r = await train(trainOptionsFromFlags(flags, config), data, out, { callbacks });
          r.model.dispose();
          results.push(r);
        }
      }
      const rows = configs.map((config, i) => {
        const counts = countModel(config);
        const r = results[i];
        return [
          config.name ?? '',
          `${(counts.params / 1e6).toFixed(2)} M`,
          `${(counts.flops / 1e6).toFixed(1)} M`,
          r.test ? `${(100 * r.test.top1).toFixed(2)} %` : 'n/a',
          `${r.steps}`,
          `${r.seconds.toFixed(0)} s`,
        ];
      });
      const head = ['model', 'params', 'FLOPs/image', 'test top-1', 'steps', 'train time'];
      const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
      const line = (cells: string[]) =>
        cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ');
      console.log(`\n${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}`);
      console.log(
        `\ndemo took ${((performance.now() - started) / 1000).toFixed(0)} s; ` +
          `curves, checkpoints and models: ${flags.out}/attention, ${flags.out}/conv`,
      );
    });
}
