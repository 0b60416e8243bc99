/** `sasa eval` (top-1, top-5, per-class accuracy, confusion matrix PNG) and `sasa predict` (top-5 per image). */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Split } from '../data/source.js';
import { openData, parseDataSpec } from '../data/spec.js';
import { writing } from '../io/files.js';
import { evaluateBatches } from '../tasks/classification/evaluate.js';
import { loadTrainedModel, predictFile } from '../tasks/classification/trained_model.js';
import { confusionMatrixPlot, writePng } from '../viz/plots.js';
import { oneOf, positiveInt } from './args.js';
import { type BackendFlags, startBackend, withBackendOptions } from './backend_option.js';

interface EvalFlags extends BackendFlags {
  modelDir: string;
  data?: string;
  split: 'test' | 'train';
  batchSize?: number;
  strict?: boolean;
  out?: string;
  json?: boolean;
}

/**
 * Throws unless the data has the model's classes: as many, and for image folders the same names (a
 * folder's labels are its sorted class-folder names).
 */
function checkClasses(spec: string, data: string[], model: string[], byName: boolean): void {
  if (data.length !== model.length) {
    throw new Error(`--data ${spec} has ${data.length} classes, the model ${model.length}`);
  }
  const differ = data.map((name, i) => [name, model[i]]).filter(([a, b]) => a !== b);
  if (byName && differ.length) {
    const shown = differ
      .slice(0, 5)
      .map(([a, b]) => `'${a}' for '${b}'`)
      .join(', ');
    throw new Error(`--data ${spec}: its class folders are not the model's classes (${shown})`);
  }
}

export function registerEvaluate(program: Command): void {
  withBackendOptions(program.command('eval'))
    .description('evaluate a trained model: top-1, top-5, per-class accuracy and a confusion matrix (PNG)')
    .requiredOption('--model-dir <dir>', 'a model written by sasa train (<out>/model)')
    .option('--data <spec>', 'data source (default: the one the model was trained on)')
    .option(
      '--split <name>',
      "'test' (default) or 'train'; a folder without train/ and test/ (or val/) subfolders is evaluated whole",
      oneOf('--split', ['test', 'train'] as const),
      'test',
    )
    .option('--batch-size <n>', 'images per batch (default 256; image folders 32)', positiveInt('--batch-size'))
    .option('--strict', 'image folders: fail on the first missing or undecodable image instead of skipping it')
    .option('--out <dir>', 'where to write confusion.png (default: --model-dir)')
    .option('--json', 'print the metrics as one JSON object')
    .action(async (flags: EvalFlags) => {
      await startBackend(flags);
      const trained = await loadTrainedModel(flags.modelDir);
      const named = ['fashion-mnist', 'fashion-mnist-subset'].includes(trained.data) ? trained.data : undefined;
      const spec = flags.data ?? named;
      if (!spec) throw new Error(`--data is needed: the model was trained on '${trained.data}'`);
      const parsed = parseDataSpec(spec);
      const [size, , channels] = trained.inputShape;
      const data = await openData(parsed, parsed.kind === 'folder' ? { imageSize: size, strict: flags.strict } : {});
      if (data.size !== size || data.channels !== channels) {
        throw new Error(
          `--data ${spec}: images are ${data.size}×${data.size}×${data.channels}, the model takes ${size}×${size}×${channels}`,
        );
      }
      checkClasses(spec, data.classNames, trained.classNames, data.streamed);
      const prepared = await data.prepare({
        validationFraction: 0,
        seed: 0,
        batchSize: flags.batchSize ?? 32,
        augment: false,
      });
      // A plain class folder has no test part: it is all there is to evaluate.
      const whole = data.streamed && !prepared.splits.includes('test');
      const split: Split = whole ? 'train' : flags.split;
      if (!prepared.splits.includes(split)) throw new Error(`--data ${spec} has no ${flags.split} split`);
      const batches = prepared.evalBatches(split, {
        normalization: trained.normalization,
        ...(flags.batchSize ? { batchSize: flags.batchSize } : {}),
      });
      const { metrics: m, skipped } = await evaluateBatches(trained.model, batches, {
        size,
        channels,
        classes: trained.classNames.length,
      });
      for (const f of skipped) console.error(`skipped ${f.path}: ${f.reason}`);
      const splitName = whole ? 'all images' : flags.split;
      const png = join(flags.out ?? flags.modelDir, 'confusion.png');
      const plot = confusionMatrixPlot({
        title: `${trained.config.name ?? 'model'} on ${data.name} (${splitName})`,
        labels: trained.classNames,
        matrix: m.confusion,
      });
      await writing(png, 'the confusion matrix', () => writePng(png, plot));
      if (flags.json) {
        const files = data.streamed ? { skipped } : {};
        console.log(
          JSON.stringify({ data: data.name, split: whole ? 'all' : flags.split, ...m, ...files, confusionPng: png }),
        );
        return;
      }
      const skips = skipped.length ? ` (${skipped.length} unreadable files skipped)` : '';
      console.log(`${data.name} ${splitName}: ${m.count} images${skips}`);
      console.log(
        `top-1 ${(100 * m.top1).toFixed(2)} %  top-5 ${(100 * m.top5).toFixed(2)} %  loss ${m.loss.toFixed(4)}`,
      );
      const width = Math.max(...trained.classNames.map((n) => n.length));
      m.perClass.forEach((acc, c) => {
        console.log(`  ${trained.classNames[c].padEnd(width)}  ${(100 * acc).toFixed(1).padStart(5)} %`);
      });
      console.log(`confusion matrix: ${png}`);
    });

  withBackendOptions(program.command('predict'))
    .description(
      'print the top classes of image files (JPEG, PNG) with a trained model; a file that cannot be read is named ' +
        'on stderr, the others are still predicted, and the exit code is then 1',
    )
    .requiredOption('--model-dir <dir>', 'a model written by sasa train (<out>/model)')
    .option('--top <k>', 'classes to print', positiveInt('--top'), 5)
    .option('--json', 'print one JSON object per image')
    .argument('<images...>', 'image files')
    .action(async (images: string[], flags: BackendFlags & { modelDir: string; top: number; json?: boolean }) => {
      await startBackend(flags);
      const trained = await loadTrainedModel(flags.modelDir);
      // A bad file does not stop the others: each is named on stderr as it comes, and the exit code says so.
      let failed = 0;
      for (const path of images) {
        const p = await predictFile(trained, path, flags.top).catch((err: Error) => {
          process.stderr.write(`sasa: error: ${err.message}\n`);
          failed++;
          return null;
        });
        if (!p) continue;
        if (flags.json) console.log(JSON.stringify(p));
        else {
          console.log(path);
          for (const t of p.top) console.log(`  ${(100 * t.probability).toFixed(1).padStart(5)} %  ${t.label}`);
        }
      }
      if (failed) process.exitCode = 1;
    });
}
