/**
 * `sasa ablate --study groups|k|encoding|logits|stem --data SPEC`: trains every configuration of an
 * ablation study (SASA.md §6) under the same budget and writes results.md, results.json and
 * results.png (a bar plot of test accuracy) into --out, one training folder per configuration.
 * The study's ResNet-50 is scaled to the data with --width-multiplier and --blocks (defaults:
 * ×0.25, one block per group); on small images the stems are the small ones.
 */
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { openData, parseDataSpec } from '../data/spec.js';
import type { ModelConfig, StemType } from '../models/config.js';
import { countModel } from '../models/count.js';
import { STUDIES, type Study, studyConfigs } from '../models/studies.js';
import { CurvesWriter } from '../tasks/classification/curves.js';
import { train } from '../tasks/classification/trainer.js';
import { barPlot, writePng } from '../viz/plots.js';
import { positiveInt, positiveNumber } from './args.js';
import { type BackendFlags, startBackend, withBackendOptions } from './backend_option.js';
import { earlierRun, type RunSummary } from './earlier_run.js';
import { type TrainFlags, trainOptionsFromFlags, withTrainOptions } from './train.js';
import { TrainingProgress } from './training_progress.js';

const ABLATIONS = STUDIES.filter((s) => s !== 'paper');

interface AblateFlags extends TrainFlags, BackendFlags {
  study: Study;
  widthMultiplier: number;
  blocks: number[];
  heads: number;
  resume?: boolean;
  configs?: number[];
}

/** The study's configurations fitted to the data (size, channels, classes, small stems, scale). */
export function ablationConfigs(
  study: Study,
  data: { size: number; channels: number; classes: number },
  scale: { widthMultiplier: number; blocks: number[]; heads: number },
): { label: string; config: ModelConfig }[] {
  const small = data.size <= 64;
  const base: Partial<ModelConfig> = {
    inputSize: data.size,
    inputChannels: data.channels,
    classes: data.classes,
    widthMultiplier: scale.widthMultiplier,
    blocks: scale.blocks,
    attention: { heads: scale.heads },
  };
  return studyConfigs(study, base).map(({ label, config }) => {
    const type: StemType = small
      ? config.stem.type === 'attention'
        ? 'small_attention'
        : 'small_conv'
      : config.stem.type;
    return { label, config: { ...config, stem: { ...config.stem, type } } };
  });
}

export function registerAblate(program: Command): void {
  withTrainOptions(withBackendOptions(program.command('ablate')))
    .description('train every configuration of an ablation study under the same budget; write a results table and plot')
    .requiredOption('--study <name>', ABLATIONS.join(', '), (v: string) => {
      if (!(ABLATIONS as readonly string[]).includes(v)) {
        throw new InvalidArgumentError(`--study must be one of ${ABLATIONS.join(', ')}, got '${v}'`);
      }
      return v;
    })
    .option('--out <dir>', 'output directory', 'sasa-ablate')
    .option(
      '--width-multiplier <x>',
      "scale of the study's ResNet-50 widths",
      positiveNumber('--width-multiplier'),
      0.25,
    )
    .option(
      '--blocks <list>',
      'blocks per group',
      (v: string) => v.split(',').map((s) => positiveInt('--blocks')(s.trim())),
      [1, 1, 1, 1],
    )
    .option('--heads <n>', 'attention heads', positiveInt('--heads'), 4)
    .option(
      '--configs <list>',
      'train only these configurations (1-based, e.g. 1,3), to split a study over processes that share --out',
      (v: string) => v.split(',').map((s) => positiveInt('--configs')(s.trim())),
    )
    .option(
      '--resume',
      'continue an interrupted study in --out: finished configurations are kept, an interrupted one continues from its checkpoint',
    )
    .action(async (flags: AblateFlags) => {
      const status = await startBackend(flags);
      const data = await openData(parseDataSpec(flags.data), { imageSize: flags.imageSize, strict: flags.strict });
      const { size, channels, classes } = data;
      const entries = ablationConfigs(flags.study, { size, channels, classes }, flags);
      console.log(
        `study '${flags.study}' on ${data.name}: ${entries.length} configurations, ${flags.epochs} epochs each, backend ${status.backend}`,
      );
      const results: Record<string, unknown>[] = [];
      const bad = (flags.configs ?? []).filter((c) => c > entries.length);
      if (bad.length) {
        throw new Error(
          `--configs ${bad.join(',')}: study '${flags.study}' has ${entries.length} configurations (${entries.map((e, i) => `${i + 1}: ${e.label}`).join('; ')})`,
        );
      }
      for (const [i, { label, config }] of entries.entries()) {
        if (flags.configs && !flags.configs.includes(i + 1)) continue;
        const counts = countModel(config);
        console.log(
          `\n[${i + 1}/${entries.length}] ${label}: ${(counts.params / 1e6).toFixed(2)} M params, ${(counts.flops / 1e6).toFixed(1)} M FLOPs`,
        );
        const out = join(flags.out, `${i + 1}-${label.replace(/[^A-Za-z0-9=+.,-]+/g, '_')}`);
        const options = trainOptionsFromFlags(flags, config);
        const earlier = flags.resume ? await earlierRun(out, options, data.name) : { kind: 'none' as const };
        let r: Pick<RunSummary, 'test' | 'validation' | 'seconds' | 'steps'>;
        if (earlier.kind === 'done') {
          console.log(`already trained in ${out}`);
          r = earlier.summary;
        } else {
          const callbacks = [new TrainingProgress(), new CurvesWriter(out, label)];
          const run = await train(options, data, out, { callbacks, resume: earlier.kind === 'checkpoint' });
          run.model.dispose();
          r = run;
        }
        results.push({
          label,
          params: counts.params,
          flops: counts.flops,
          test_top1: r.test?.top1 ?? null,
          test_top5: r.test?.top5 ?? null,
          validation_top1: r.validation?.top1 ?? null,
          seconds: r.seconds,
          steps: r.steps,
          dir: relative(flags.out, out),
          config,
        });
        if (!flags.configs) writeResults(flags, data.name, results);
        console.log(`test top-1 ${r.test ? (100 * r.test.top1).toFixed(2) : 'n/a'} % in ${r.seconds.toFixed(0)} s`);
      }
      if (flags.configs) {
        console.log(
          `\n${markdownTable(results)}\n--configs: the study's results were not written; ` +
            `once every configuration is trained, run the study again with --resume and without --configs to tabulate it`,
        );
        return;
      }
      const png = join(flags.out, 'results.png');
      const bars = results.map((r) => ({
        label: r.label as string,
        value: 100 * ((r.test_top1 as number | null) ?? 0),
      }));
      await writePng(
        png,
        barPlot({
          title: `${flags.study} study on ${data.name}: test top-1`,
          yLabel: 'top-1 %',
          bars,
          yRange: zoomedRange(bars.map((b) => b.value)),
        }),
      );
      console.log(`\n${markdownTable(results)}\nresults: ${join(flags.out, 'results.md')}, results.json, ${png}`);
    });
}

/**
 * The y range of the results plot: whole percents from 2 below the lowest bar to 1 above the highest
 * (within 0–100), so that differences of a fraction of a point stay visible.
 */
export function zoomedRange(values: number[]): [number, number] {
  const lo = Math.max(0, Math.floor(Math.min(...values)) - 2);
  return [lo, Math.min(100, Math.max(lo + 1, Math.ceil(Math.max(...values)) + 1))];
}

function markdownTable(results: Record<string, unknown>[]): string {
  const pct = (x: unknown) => (typeof x === 'number' ? `${(100 * x).toFixed(2)} %` : 'n/a');
  const rows = results.map(
    (r) =>
      `| ${r.label} | ${((r.params as number) / 1e6).toFixed(2)} M | ${((r.flops as number) / 1e6).toFixed(1)} M | ${pct(r.test_top1)} | ${pct(r.validation_top1)} | ${(r.seconds as number).toFixed(0)} s |`,
  );
  return [
    '| configuration | params | FLOPs | test top-1 | validation top-1 | time |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

/** results.md and results.json, rewritten after every configuration so an interrupted study keeps what it finished. */
function writeResults(flags: AblateFlags, dataName: string, results: Record<string, unknown>[]): void {
  const command = `sasa ablate ${process.argv.slice(3).join(' ')}`;
  writeFileSync(
    join(flags.out, 'results.json'),
    `${JSON.stringify({ study: flags.study, data: dataName, command, results }, null, 2)}\n`,
  );
  writeFileSync(
    join(flags.out, 'results.md'),
    `# ${flags.study} study on ${dataName}\n\nCommand: \`${command}\`\n\n${markdownTable(results)}\n`,
  );
}
