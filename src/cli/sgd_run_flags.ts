/**
 * The flags of the SGD options every training command has (`SgdRunOptions`, tasks/training/run_options.ts):
 * one declaration and one check per flag; a command gives its defaults and the help texts that differ.
 */
import type { Command } from 'commander';
import type { SgdRunOptions } from '../tasks/training/run_options.js';
import { fraction, nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber } from './args.js';

/** The help texts a command words its own way (the learning-rate rule, Nesterov or not, what is seeded or augmented). */
export interface SgdFlagHelp {
  lr: string;
  momentum: string;
  seed: string;
  noAugment: string;
}

/** Adds --epochs … --no-augment to `cmd` with `defaults` (augment is on unless --no-augment). */
export function withSgdRunFlags(cmd: Command, defaults: Omit<SgdRunOptions, 'augment'>, help: SgdFlagHelp): Command {
  const d = defaults;
  return cmd
    .option('--epochs <n>', 'epochs', positiveInt('--epochs'), d.epochs)
    .option('--batch-size <n>', 'images per step', positiveInt('--batch-size'), d.batchSize)
    .option('--lr <x>', help.lr, positiveNumber('--lr'), d.lr)
    .option(
      '--warmup-epochs <n>',
      'linear warm-up epochs before the cosine decay',
      nonNegativeNumber('--warmup-epochs'),
      d.warmupEpochs,
    )
    .option('--momentum <m>', help.momentum, fraction('--momentum'), d.momentum)
    .option(
      '--weight-decay <x>',
      'L2 weight decay (not on batch norm or biases)',
      fraction('--weight-decay'),
      d.weightDecay,
    )
    .option('--seed <n>', help.seed, nonNegativeInt('--seed'), d.seed)
    .option(
      '--checkpoint-every <steps>',
      'steps between checkpoints',
      positiveInt('--checkpoint-every'),
      d.checkpointEvery,
    )
    .option('--no-augment', help.noAugment);
}
