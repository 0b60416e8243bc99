/** `sasa train`: train a classifier on a data source, with checkpoints, resume, metrics and curves. */
import { join } from 'node:path';
import { Command } from 'commander';
import type { DataSource } from '../data/source.js';
import { openData, parseDataSpec } from '../data/spec.js';
import { countModel } from '../models/count.js';
import { listModels } from '../models/registry.js';
import { checkpointModelName } from '../tasks/classification/checkpoint.js';
import { CurvesWriter } from '../tasks/classification/curves.js';
import { type ClassificationCallback, type TrainOptions, train } from '../tasks/classification/trainer.js';
import { CHECKPOINT, MODEL_DIR } from '../tasks/training/run_folder.js';
import { SGD_RUN_OPTIONS, sgdRunOptionsOf } from '../tasks/training/run_options.js';
import { fraction, positiveInt } from './args.js';
import { type BackendFlags, startBackend, withBackendOptions } from './backend_option.js';
import { configFromFlags, type ModelFlags, withModelOptions } from './model_options.js';
import { withSgdRunFlags } from './sgd_run_flags.js';
import { TrainingProgress } from './training_progress.js';

export interface TrainFlags
  extends BackendFlags,
    ModelFlags,
    Omit<TrainOptions, 'model' | 'validationFraction' | 'checkpointEvery'> {
  data: string;
  out: string;
  validation: number;
  checkpointEvery: number;
  imageSize?: number;
  strict?: boolean;
  resume?: boolean;
}

/** The training options (SASA.md §5 defaults, scaled to small data sets). */
export interface TrainDefaults {
  epochs: number;
  lr: number;
  warmupEpochs: number;
}

export const TRAIN_DEFAULTS: TrainDefaults = { epochs: 10, lr: 0.1, warmupEpochs: 1 };

export function withTrainOptions(cmd: Command, defaults: TrainDefaults = TRAIN_DEFAULTS): Command {
  const withClassificationFlags = cmd
    .option(
      '--data <spec>',
      'data source: fashion-mnist, fashion-mnist-subset, fashion-mnist:DIR, mnist:DIR, idx:…, cifar10:DIR, ' +
        'cifar100:DIR, or folder:DIR (DIR/<class>/<image>.jpg|png, or DIR/train and DIR/test or DIR/val of them; ' +
        'streamed from disk)',
      'fashion-mnist',
    )
    .option(
      '--image-size <px>',
      'image folders: side of the crop the model takes (default 224)',
      positiveInt('--image-size'),
    )
    .option(
      '--strict',
      'image folders: fail on the first missing or undecodable image, naming it, instead of skipping it',
    )
    .option('--label-smoothing <x>', 'label smoothing', fraction('--label-smoothing'), 0.1)
    .option(
      '--ema-decay <d>',
      'decay of the weight average used for evaluation (0: off)',
      fraction('--ema-decay'),
      0.999,
    )
    .option(
      '--validation <fraction>',
      'training images held out (seeded) for validation (the paper: 0.04)',
      fraction('--validation'),
      0.04,
    );
  const sgd = { ...defaults, batchSize: 64, momentum: 0.9, weightDecay: 1e-4, seed: 0, checkpointEvery: 200 };
  return withSgdRunFlags(withClassificationFlags, sgd, {
    lr: 'peak learning rate (the paper: 0.1 per 256 images)',
    momentum: 'Nesterov momentum',
    seed: 'seed of the initial weights, data order and augmentation',
    noAugment: 'no augmentation (in-memory data: pad-and-crop and flip; image folders: random-resized crop and flip)',
  });
}

export function trainOptionsFromFlags(flags: TrainFlags, model: TrainOptions['model']): TrainOptions {
  return {
    model,
    ...sgdRunOptionsOf(flags),
    labelSmoothing: flags.labelSmoothing,
    emaDecay: flags.emaDecay,
    validationFraction: flags.validation,
  };
}

/** The training option each training flag (by commander attribute name) sets; every model flag sets `model`. */
const FLAG_OPTIONS: Record<string, keyof TrainOptions> = {
  ...Object.fromEntries(SGD_RUN_OPTIONS.map((k) => [k, k])),
  labelSmoothing: 'labelSmoothing',
  emaDecay: 'emaDecay',
  validation: 'validationFraction',
};

/** The training options whose flags were given on the command line (not left at their defaults). */
export function givenOptions(cmd: Command): (keyof TrainOptions)[] {
  const modelFlags = withModelOptions(new Command()).options.map((o) => o.attributeName());
  const given = new Set<keyof TrainOptions>();
  for (const option of cmd.options) {
    const name = option.attributeName();
    if (cmd.getOptionValueSource(name) !== 'cli') continue;
    if (modelFlags.includes(name)) given.add('model');
    else if (FLAG_OPTIONS[name]) given.add(FLAG_OPTIONS[name]);
  }
  return [...given];
}

/** The banner of a run: its model (on a resume, the stored one), the data, the size, the backend. */
function banner(data: DataSource, backend: string): ClassificationCallback {
  return {
    onTrainBegin({ options: { model } }) {
      const { size, channels, classes } = data;
      const counts = countModel(model);
      const test = data.counts.test ? ` + ${data.counts.test} test` : '';
      console.log(
        `${model.name} on ${data.name} (${data.counts.train} training${test} images, ${size}×${size}×${channels}, ${classes} classes), ` +
          `${(counts.params / 1e6).toFixed(2)} M params, ${(counts.flops / 1e6).toFixed(1)} M FLOPs per image, backend ${backend}`,
      );
    },
  };
}

/**
 * On a resume without --model, the model options given (--width-multiplier, --k, …) are read against
 * the run's own model, not the default one: its name is taken from the checkpoint.
 */
async function resumedModel(flags: TrainFlags, cmd: Command): Promise<void> {
  if (!flags.resume || cmd.getOptionValueSource('model') === 'cli') return;
  const name = await checkpointModelName(join(flags.out, CHECKPOINT));
  if (name && listModels().includes(name)) flags.model = name;
}

export function registerTrain(program: Command): void {
  withTrainOptions(withModelOptions(withBackendOptions(program.command('train'))))
    .description('train a classifier; checkpoints, metrics.jsonl, loss/accuracy curves and the final model go to --out')
    .requiredOption('--out <dir>', 'output directory')
    .option('--resume', 'continue from --out/checkpoint.safetensors exactly where it stopped')
    .action(async (flags: TrainFlags, cmd: Command) => {
      await resumedModel(flags, cmd);
      const status = await startBackend(flags);
      const data = await openData(parseDataSpec(flags.data), { imageSize: flags.imageSize, strict: flags.strict });
      const { size, channels, classes } = data;
      const options = trainOptionsFromFlags(flags, configFromFlags(flags, { size, channels, classes }));
      const curves = new CurvesWriter(flags.out);
      const result = await train(options, data, flags.out, {
        resume: flags.resume,
        given: flags.resume ? givenOptions(cmd) : undefined,
        callbacks: [banner(data, status.backend), new TrainingProgress(), curves],
      });
      const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(100 * x).toFixed(2)} %`);
      console.log(
        `done: ${result.steps} steps in ${result.seconds.toFixed(0)} s; validation top-1 ${pct(result.validation?.top1)}, ` +
          `test top-1 ${pct(result.test?.top1)}, top-5 ${pct(result.test?.top5)}`,
      );
      console.log(`model: ${join(flags.out, MODEL_DIR)}; curves: ${curves.written.join(', ')}`);
    });
}
