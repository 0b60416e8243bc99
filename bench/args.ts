/** The bench scripts' command-line reading: `--name value` options and `--name` switches. */
import type { DetectionCase, FpnKind } from '../src/bench/detection_case.js';

/** The value after `--name` on the command line, or `def` when the option is absent. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

/** Whether the switch `--name` is on the command line. */
export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** A RetinaNet training-step case from --backbone, --fpn, --batch, --size, --classes over the script's defaults. */
export function detectionTrainCase(defaults: { fpn: FpnKind; batch: number; size: number }): DetectionCase {
  return {
    backbone: arg('backbone', 'resnet50'),
    fpn: arg('fpn', defaults.fpn) as FpnKind,
    batch: Number(arg('batch', String(defaults.batch))),
    size: Number(arg('size', String(defaults.size))),
    classes: Number(arg('classes', '91')),
    train: true,
  };
}
