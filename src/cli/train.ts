/** `sasa train`: train a classifier on a data source, with checkpoints, resume, metrics and curves. */
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadData, parseDataSpec } from '../data/spec.js';
import { countModel } from '../models/count.js';
import { writeCurves } from '../tasks/classification/curves.js';
import { METRICS, type TrainOptions, train } from '../tasks/classification/trainer.js';
import { fraction, nonNegativeInt, positiveInt, positiveNumber } from './args.js';
import { type BackendFlags, startBackend, withBackendOptions } from './backend_option.js';
import { configFromFlags, type ModelFlags, withModelOptions } from './model_options.js';
import { trainingProgress } from './progress.js';

export interface TrainFlags
  extends BackendFlags,
    ModelFlags,
    Omit<TrainOptions, 'model' | 'validationFraction' | 'checkpointEvery'> {
  data: string;
  out: string;
  validation: number;
  checkpointEvery: number;
  resume?: boolean;
}

/** The training options (SASA.md §5 defaults, scaled to small data sets). */
export function withTrainOptions(cmd: Command, defaults: { epochs: number } = { epochs: 10 }): Command {
  return cmd
    .option(
      '--data <spec>',
      'data source (fashion-mnist, fashion-mnist-subset, fashion-mnist:DIR, idx:…, cifar10:DIR, …)',
      'fashion-mnist',
    )
    .option('--epochs <n>', 'epochs', positiveInt('--epochs'), defaults.epochs)
    .option('--batch-size <n>', 'images per step', positiveInt('--batch-size'), 64)
    .option('--lr <x>', 'peak learning rate (the paper: 0.1 per 256 images)', positiveNumber('--lr'), 0.1)
    .option('--warmup-epochs <n>', 'linear warm-up epochs before the cosine decay', fraction('--warmup-epochs', 1e9), 1)
    .option('--momentum <m>', 'Nesterov momentum', fraction('--momentum'), 0.9)
    .option('--weight-decay <x>', 'L2 weight decay (not on BN and biases)', fraction('--weight-decay'), 1e-4)
    .option('--label-smoothing <x>', 'label smoothing', fraction('--label-smoothing'), 0.1)
    .option(
      '--ema-decay <d>',
      'decay of the weight average used for evaluation (0: off)',
      fraction('--ema-decay'),
      0.999,
    )
    .option('--seed <n>', 'seed of the initial weights, data order and augmentation', nonNegativeInt('--seed'), 0)
    .option(
      '--validation <fraction>',
      'training images held out for validation (the paper: 0.04)',
      fraction('--validation'),
      0.04,
    )
    .option('--checkpoint-every <steps>', 'steps between checkpoints', positiveInt('--checkpoint-every'), 200)
    .option('--no-augment', 'no pad-and-crop and flip augmentation');
}

export function trainOptionsFromFlags(flags: TrainFlags, model: TrainOptions['model']): TrainOptions {
  return {
    model,
    epochs: flags.epochs,
    batchSize: flags.batchSize,
    lr: flags.lr,
    warmupEpochs: flags.warmupEpochs,
    momentum: flags.momentum,
    weightDecay: flags.weightDecay,
    labelSmoothing: flags.labelSmoothing,
    emaDecay: flags.emaDecay,
    seed: flags.seed,
    validationFraction: flags.validation,
    checkpointEvery: flags.checkpointEvery,
    augment: flags.augment,
  };
}

export function registerTrain(program: Command): void {
  withTrainOptions(withModelOptions(withBackendOptions(program.command('train'))))
    .description('train a classifier; checkpoints, metrics.jsonl, loss/accuracy curves and the final model go to --out')
    .requiredOption('--out <dir>', 'output directory')
    .option('--resume', 'continue from --out/checkpoint.safetensors exactly where it stopped')
    .action(async (flags: TrainFlags) => {
      const status = await startBackend(flags);
      const data = await loadData(parseDataSpec(flags.data));
      const { height, width, channels, classes } = data.train;
      if (height !== width)
        throw new Error(`--data ${flags.data}: images are ${height}×${width}; square images are needed`);
      const model = configFromFlags(flags, { size: height, channels, classes });
      const options = trainOptionsFromFlags(flags, model);
      const counts = countModel(model);
      console.log(
        `${model.name} on ${data.name} (${data.train.count} training images, ${height}×${width}×${channels}, ${classes} classes), ` +
          `${(counts.params / 1e6).toFixed(2)} M params, ${(counts.flops / 1e6).toFixed(1)} M FLOPs per image, backend ${status.backend}`,
      );
      const progress = trainingProgress();
      const result = await train(options, data, flags.out, { resume: flags.resume, hooks: progress.hooks });
      progress.stop();
      const curves = await writeCurves(join(flags.out, METRICS), flags.out, model.name ?? 'model');
      const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(100 * x).toFixed(2)} %`);
      console.log(
        `done: ${result.steps} steps in ${result.seconds.toFixed(0)} s; validation top-1 ${pct(result.validation?.top1)}, ` +
          `test top-1 ${pct(result.test?.top1)}, top-5 ${pct(result.test?.top5)}`,
      );
      console.log(`model: ${join(flags.out, 'model')}; curves: ${curves.join(', ')}`);
    });
}
