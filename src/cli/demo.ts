/**
 * `sasa demo`: trains a small full-attention network and its convolutional twin (same widths,
 * depths and budget; 3×3 convolutions instead of attention, conv stem instead of the attention
 * stem) on the embedded Fashion-MNIST subset — or the full data set when Debian's
 * dataset-fashion-mnist is installed or --data names one — and prints accuracy, parameters and
 * FLOPs side by side.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { openData, parseDataSpec } from '../data/spec.js';
import type { ModelConfig } from '../models/config.js';
import { countModel } from '../models/count.js';
import { modelConfig } from '../models/registry.js';
import { writeCurves } from '../tasks/classification/curves.js';
import { METRICS, train } from '../tasks/classification/trainer.js';
import { type BackendFlags, startBackend, withBackendOptions } from './backend_option.js';
import { trainingProgress } from './progress.js';
import { type TrainFlags, trainOptionsFromFlags, withTrainOptions } from './train.js';

/** Epochs of the demo by default: a few minutes on 2 cores on the embedded subset. */
export const DEMO_EPOCHS = 3;

/** The demo's pair (registry: sasa_resnet26_demo, resnet26_demo) fitted to the data. */
export function demoConfigs(data: { size: number; channels: number; classes: number }): ModelConfig[] {
  const fit = { inputSize: data.size, inputChannels: data.channels, classes: data.classes };
  return [
    { ...modelConfig('sasa_resnet26_demo', fit), name: 'attention (sasa_resnet26_demo)' },
    { ...modelConfig('resnet26_demo', fit), name: 'conv twin (resnet26_demo)' },
  ];
}

export function registerDemo(program: Command): void {
  withTrainOptions(withBackendOptions(program.command('demo')), { epochs: DEMO_EPOCHS })
    .description('train a small attention network and its convolutional twin and compare them (the main job)')
    .option('--out <dir>', 'output directory (one folder per model)', 'sasa-demo')
    .action(async (flags: TrainFlags & BackendFlags) => {
      const status = await startBackend(flags);
      const data = await openData(parseDataSpec(flags.data), { imageSize: flags.imageSize, strict: flags.strict });
      const { size, channels, classes } = data;
      console.log(
        `sasa demo on ${data.name}: ${data.counts.train} training and ${data.counts.test} test images, ` +
          `${flags.epochs} epochs, backend ${status.backend} (${status.info?.threads ?? 1} threads)`,
      );
      const rows: string[][] = [];
      for (const [i, config] of demoConfigs({ size, channels, classes }).entries()) {
        const counts = countModel(config);
        console.log(
          `\n[${i + 1}/2] ${config.name}: ${(counts.params / 1e6).toFixed(2)} M params, ${(counts.flops / 1e6).toFixed(1)} M FLOPs`,
        );
        const out = join(flags.out, i === 0 ? 'attention' : 'conv');
        const progress = trainingProgress();
        const r = await train(trainOptionsFromFlags(flags, config), data, out, { hooks: progress.hooks });
        progress.stop();
        await writeCurves(join(out, METRICS), out, config.name ?? 'model');
        rows.push([
          config.name ?? '',
          `${(counts.params / 1e6).toFixed(2)} M`,
          `${(counts.flops / 1e6).toFixed(1)} M`,
          r.test ? `${(100 * r.test.top1).toFixed(2)} %` : 'n/a',
          `${r.seconds.toFixed(0)} s`,
        ]);
        console.log(`test top-1 ${rows.at(-1)?.[3]} after ${r.steps} steps in ${r.seconds.toFixed(0)} s`);
        r.model.dispose();
      }
      const head = ['model', 'params', 'FLOPs/image', 'test top-1', 'train time'];
      const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
      const line = (cells: string[]) =>
        cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ');
      console.log(`\n${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}`);
      console.log(`\ncurves, checkpoints and models: ${flags.out}/attention, ${flags.out}/conv`);
    });
}
