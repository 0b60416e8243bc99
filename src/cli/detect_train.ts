/**
 * `sasa detect train`: trains a RetinaNet (tasks/detection/trainer.ts) on a detection source, choosing the
 * detector by registered name (--model) or by backbone and FPN (--backbone, --fpn).
 */
import type { Command } from 'commander';
import type { DetectorConfig } from '../models/detection/config.js';
import { FPN_TYPES, type FpnType, resolveDetectorConfig } from '../models/detection/config.js';
import { detectorConfig } from '../models/detection/registry.js';
import { LOGITS_MODES, type LogitsMode, PADDING_MODES, type PaddingMode } from '../ops/local_attention/options.js';
import {
  DETECTION_OPTIMIZERS,
  DETECTOR_TRAIN_DEFAULTS,
  type DetectionOptimizer,
  type DetectorTrainOptions,
} from '../tasks/detection/train_options.js';
import { trainDetector } from '../tasks/detection/trainer.js';
import { SGD_RUN_OPTIONS, type SgdRunOptions, sgdRunOptionsOf } from '../tasks/training/run_options.js';
import { nonNegativeNumber, oneOf, positiveInt } from './args.js';
import { type BackendFlags, startBackend, withBackendOptions } from './backend_option.js';
import { openDetection } from './detect_data.js';
import { DetectionProgress } from './detection_progress.js';
import { withSgdRunFlags } from './sgd_run_flags.js';

export interface DetectTrainFlags extends BackendFlags, SgdRunOptions {
  model?: string;
  backbone?: string;
  fpn?: FpnType;
  heads?: FpnType;
  optimizer: DetectionOptimizer;
  data: string;
  out: string;
  clipNorm: number;
  size?: number;
  resume?: boolean;
  strict?: boolean;
  frozenBn?: boolean;
  levelBn?: boolean;
  attentionPadding?: PaddingMode;
  attentionLogits?: LogitsMode;
  backboneWeights?: string;
}

/** The demo detectors, by the kind of their subnets (the attention demo's subnet σ is for attention subnets). */
export const DEMO_DETECTORS: Record<FpnType, string> = { conv: 'retinanet_demo', attention: 'retinanet_demo_attnfpn' };

/** `{ attention }` with the options --attention-padding and --attention-logits give, or `{}` without either. */
function attentionFlags(flags: DetectTrainFlags): { attention?: { padding?: PaddingMode; logits?: LogitsMode } } {
  const attention = {
    ...(flags.attentionPadding ? { padding: flags.attentionPadding } : {}),
    ...(flags.attentionLogits ? { logits: flags.attentionLogits } : {}),
  };
  return Object.keys(attention).length ? { attention } : {};
}

/** The detector the flags name, with `classes` classes. */
export function flagsDetector(flags: DetectTrainFlags, classes: number): DetectorConfig {
  const norms = {
    ...(flags.frozenBn ? { frozenBatchNorm: true } : {}),
    ...(flags.levelBn ? { levelBatchNorm: true } : {}),
    ...(flags.heads ? { heads: flags.heads } : {}),
    ...attentionFlags(flags),
  };
  if (flags.model && flags.backbone) throw new Error('give --model or --backbone, not both');
  if (flags.backbone) {
    const fpn = flags.fpn ?? 'conv';
    const name = `retinanet_${flags.backbone}${fpn === 'attention' ? '_attnfpn' : ''}`;
    return { name, backbone: { name: flags.backbone }, fpn, classes, ...norms };
  }
  const name = flags.model ?? DEMO_DETECTORS[flags.heads ?? flags.fpn ?? 'conv'];
  try {
    const fpn = flags.fpn ?? (flags.model ? undefined : 'conv');
    return detectorConfig(name, { classes, ...(fpn ? { fpn } : {}), ...norms });
  } catch (err) {
    throw new Error(`--model: ${(err as Error).message}`);
  }
}

const FLAG_OPTIONS: Record<string, keyof DetectorTrainOptions> = {
  model: 'detector',
  backbone: 'detector',
  fpn: 'detector',
  heads: 'detector',
  frozenBn: 'detector',
  levelBn: 'detector',
  attentionPadding: 'detector',
  attentionLogits: 'detector',
  ...Object.fromEntries(SGD_RUN_OPTIONS.map((k) => [k, k])),
  optimizer: 'optimizer',
  clipNorm: 'clipNorm',
  size: 'size',
  backboneWeights: 'backboneWeights',
};

/** The options whose flags were given on the command line. */
function givenOptions(cmd: Command): (keyof DetectorTrainOptions)[] {
  const given = new Set<keyof DetectorTrainOptions>();
  for (const [flag, option] of Object.entries(FLAG_OPTIONS)) {
    if (cmd.getOptionValueSource(flag) === 'cli') given.add(option);
  }
  return [...given];
}

/** Refuses SGD's --momentum with --optimizer adamw (it would be ignored). */
export function checkOptimizerFlags(cmd: Command, flags: DetectTrainFlags): void {
  if (flags.optimizer === 'adamw' && cmd.getOptionValueSource('momentum') === 'cli') {
    throw new Error('--momentum is SGD’s: --optimizer adamw uses β₁ 0.9 and β₂ 0.999; leave --momentum out');
  }
}

/** The training options of the flags (the size defaults to the detector's input size). */
export function trainOptionsOf(flags: DetectTrainFlags, classes: number): DetectorTrainOptions {
  const detector = flagsDetector(flags, classes);
  return {
    detector,
    optimizer: flags.optimizer,
    ...sgdRunOptionsOf(flags),
    clipNorm: flags.clipNorm,
    size: flags.size ?? resolveDetectorConfig(detector).inputSize,
    backboneWeights: flags.backboneWeights ?? null,
  };
}

/** The training options shared by `detect train` and `detect demo`. */
export function withTrainingOptions(cmd: Command, defaults = DETECTOR_TRAIN_DEFAULTS): Command {
  const d = defaults;
  return withSgdRunFlags(cmd, d, {
    lr: 'peak learning rate (after warm-up)',
    momentum: 'SGD momentum (not Nesterov: torchvision’s detection recipe)',
    seed: 'seeds the weights, the data order and the flips',
    noAugment: 'no random horizontal flips',
  })
    .option(
      '--optimizer <name>',
      `${DETECTION_OPTIMIZERS.join(' or ')}: SGD with --momentum (torchvision’s recipe) or AdamW (β 0.9, 0.999; decoupled --weight-decay)`,
      oneOf('--optimizer', DETECTION_OPTIMIZERS),
      d.optimizer,
    )
    .option(
      '--clip-norm <n>',
      'largest global gradient norm (0: no clipping)',
      nonNegativeNumber('--clip-norm'),
      d.clipNorm,
    )
    .option(
      '--size <pixels>',
      'longer image side, padded square; a multiple of 128 (default: the detector’s)',
      positiveInt('--size'),
    )
    .option('--strict', 'fail on the first bad annotation or unreadable image instead of skipping it')
    .option('--frozen-bn', 'freeze the backbone’s batch norms (moving statistics, no trained gamma/beta)')
    .option('--level-bn', 'batch norm per pyramid level in the FPN and the subnets (Google’s TPU RetinaNet)')
    .option(
      '--heads <kind>',
      `the subnets’ layers: ${FPN_TYPES.join(' or ')} (default: as the FPN; --fpn attention --heads conv: the mixed ablation)`,
      oneOf('--heads', FPN_TYPES),
    )
    .option(
      '--attention-padding <mode>',
      `the attention layers' borders: ${PADDING_MODES.join(' or ')} (keys outside the image are zero vectors, or left out of the softmax; default zeros, SASA.md §1)`,
      oneOf('--attention-padding', PADDING_MODES),
    )
    .option(
      '--attention-logits <mode>',
      `the attention layers' logits: ${LOGITS_MODES.join(', ')} (q·k + q·r, the paper's; q·r alone, its ablation; q·k alone; default qk+qr, SASA.md §1)`,
      oneOf('--attention-logits', LOGITS_MODES),
    );
}

export function registerDetectTrain(detect: Command): void {
  const cmd = detect
    .command('train')
    .description('train a RetinaNet detector; validation = COCO AP of the validation split after every epoch')
    .option(
      '--model <name>',
      'a registered detector (retinanet_{backbone}[_attnfpn], retinanet_demo[_attnfpn]); default retinanet_demo',
    )
    .option('--backbone <name>', 'a registered classification backbone, with --fpn')
    .option('--fpn <kind>', `feature pyramid: ${FPN_TYPES.join(' or ')}`, oneOf('--fpn', FPN_TYPES))
    .requiredOption('--data <spec>', 'shapes, shapes:DIR, coco:ANN.json,IMAGES_DIR or voc100:DIR')
    .requiredOption('--out <dir>', 'run folder: checkpoint, metrics.jsonl, model/, summary.json, curves')
    .option('--resume', 'continue the run in --out from its checkpoint')
    .option('--backbone-weights <dir>', 'start the backbone from a trained classifier’s model/ folder (by layer name)');
  withBackendOptions(withTrainingOptions(cmd)).action(async (flags: DetectTrainFlags) => {
    checkOptimizerFlags(cmd, flags);
    await startBackend(flags);
    const data = await openDetection(flags.data, { strict: flags.strict, seed: flags.seed });
    const options = trainOptionsOf(flags, data.categories.ids.length);
    const result = await trainDetector(options, data, flags.data, flags.out, {
      resume: flags.resume,
      given: flags.resume ? givenOptions(cmd) : undefined,
      strict: flags.strict,
      callbacks: [new DetectionProgress()],
    });
    const ap = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
    console.log(
      `trained ${result.steps} steps in ${result.seconds.toFixed(1)} s; validation AP ${ap(result.ap)}, AP50 ${ap(result.ap50)}; model in ${result.modelDir}`,
    );
  });
}
