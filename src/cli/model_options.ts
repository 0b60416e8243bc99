/**
 * Model options shared by train, ablate and demo: a registered model plus overrides, fitted to the
 * data (input size, channels and classes come from the data). `--stem auto` (the default) uses the
 * small-image stems (small_conv / small_attention, SASA.md §2 note) for inputs of 64 pixels or less.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { ConfigError, type ModelConfig, resolveConfig, type StemType } from '../models/config.js';
import { modelConfig } from '../models/registry.js';
import {
  kernelSizeProblem,
  LOGITS_MODES,
  type LogitsMode,
  MAX_KERNEL_SIZE,
  POSITIONAL_ENCODINGS,
  type PositionalEncoding,
} from '../ops/local_attention/options.js';
import { oneOf, positiveInt, positiveNumber } from './args.js';

export interface ModelFlags {
  model: string;
  widthMultiplier?: number;
  blocks?: number[];
  stem: string;
  k?: number;
  heads?: number;
  positional?: PositionalEncoding;
  logits?: LogitsMode;
  bnDecay?: number;
}

/** The flag that sets each configuration field (a field that is not here, or a flag not given, keeps its name). */
const FLAG_OF_FIELD: Record<string, keyof ModelFlags> = {
  'attention.kernelSize': 'k',
  'attention.heads': 'heads',
  'attention.positional': 'positional',
  'attention.logits': 'logits',
  widthMultiplier: 'widthMultiplier',
  blocks: 'blocks',
  'stem.type': 'stem',
  bnDecay: 'bnDecay',
};

/** Parses a kernel-size flag, checked as the op checks it (ops/local_attention/options.ts). */
export function kernelSizeArg(flag: string): (value: string) => number {
  return (value: string) => {
    const k = /^\d+$/.test(value.trim()) ? Number(value) : value;
    const problem = kernelSizeProblem(k);
    if (problem) throw new InvalidArgumentError(`${flag} ${problem}`);
    return k as number;
  };
}

const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

const STEMS = ['auto', 'conv', 'attention', 'small_conv', 'small_attention'] as const;

/** The registered models have 4 groups of blocks (widths 64, 128, 256, 512 before the multiplier). */
const GROUPS = 4;

/** --blocks: one positive block count per group. */
function blockCounts(value: string): number[] {
  const counts = value.split(',').map((s) => positiveInt('--blocks')(s.trim()));
  if (counts.length !== GROUPS) {
    throw new InvalidArgumentError(
      `--blocks must be ${GROUPS} comma-separated block counts, one per group (e.g. 1,1,1,1; the paper's ResNet-26: 1,2,4,1), got ${counts.length}`,
    );
  }
  return counts;
}

export function withModelOptions(cmd: Command, defaultModel = 'sasa_resnet26'): Command {
  return cmd
    .option('--model <name>', 'registered model (sasa models lists them)', defaultModel)
    .option(
      '--width-multiplier <x>',
      'multiply every width (rounded to multiples of 8)',
      positiveNumber('--width-multiplier'),
    )
    .option('--blocks <list>', 'blocks in each of the 4 groups, e.g. 1,1,1,1', blockCounts)
    .option(
      '--stem <type>',
      `stem: ${STEMS.join(', ')} (auto: small stems for inputs <= 64 px)`,
      oneOf('--stem', STEMS),
      'auto',
    )
    .option('--k <k>', `attention memory block size (odd, at most ${MAX_KERNEL_SIZE})`, kernelSizeArg('--k'))
    .option('--heads <n>', 'attention heads', positiveInt('--heads'))
    .option('--positional <kind>', POSITIONAL_ENCODINGS.join(', '), oneOf('--positional', POSITIONAL_ENCODINGS))
    .option('--logits <kind>', LOGITS_MODES.join(', '), oneOf('--logits', LOGITS_MODES))
    .option('--bn-decay <d>', 'batch-norm moving-average decay', positiveNumber('--bn-decay'));
}

/** The configuration the flags describe, fitted to square images of `size` with `channels` and `classes`. */
export function configFromFlags(
  flags: ModelFlags,
  data: { size: number; channels: number; classes: number },
  base: Partial<ModelConfig> = {},
): ModelConfig {
  const registered = modelConfig(flags.model, base);
  const small = data.size <= 64;
  const attentionStem = registered.stem.type === 'attention' || registered.stem.type === 'small_attention';
  const stem: StemType =
    flags.stem === 'auto'
      ? small
        ? attentionStem
          ? 'small_attention'
          : 'small_conv'
        : registered.stem.type
      : (flags.stem as StemType);
  const attention = {
    ...registered.attention,
    ...(flags.k ? { kernelSize: flags.k } : {}),
    ...(flags.heads ? { heads: flags.heads } : {}),
    ...(flags.positional ? { positional: flags.positional } : {}),
    ...(flags.logits ? { logits: flags.logits } : {}),
  };
  return checked(flags, {
    ...registered,
    inputSize: data.size,
    inputChannels: data.channels,
    classes: data.classes,
    stem: { ...registered.stem, type: stem },
    attention,
    ...(flags.widthMultiplier ? { widthMultiplier: flags.widthMultiplier } : {}),
    ...(flags.blocks ? { blocks: flags.blocks } : {}),
    ...(flags.bnDecay ? { bnDecay: flags.bnDecay } : {}),
  });
}

/**
 * The configuration, checked; a fault in a field that a given flag set is reported against the flag
 * (`--k must be an odd integer from 1 to 31, got 4`), any other as the configuration's.
 */
function checked(flags: ModelFlags, config: ModelConfig): ModelConfig {
  try {
    resolveConfig(config);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const key = FLAG_OF_FIELD[e.field.replace(/\[\d+\]$/, '')];
    if (key === undefined || flags[key] === undefined) throw e;
    throw new Error(`${flagName(key)} ${e.problem} (model '${e.model}', ${e.field})`);
  }
  return config;
}
