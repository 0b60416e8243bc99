/** `sasa eval` (top-1, top-5, per-class accuracy, confusion matrix PNG) and `sasa predict` (top-5 per image). */
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadData, parseDataSpec } from '../data/spec.js';
import { loadTrainedModel, predictFile } from '../tasks/classification/trained_model.js';
import { evaluate } from '../tasks/classification/trainer.js';
import { confusionMatrixPlot, writePng } from '../viz/plots.js';
import { positiveInt } from './args.js';
import { type BackendFlags, startBackend, withBackendOptions } from './backend_option.js';

interface EvalFlags extends BackendFlags {
  modelDir: string;
  data?: string;
  split: 'test' | 'train';
  out?: string;
  json?: boolean;
}

export function registerEvaluate(program: Command): void {
  withBackendOptions(program.command('eval'))
    .description('evaluate a trained model: top-1, top-5, per-class accuracy and a confusion matrix (PNG)')
    .requiredOption('--model-dir <dir>', 'a model written by sasa train (<out>/model)')
    .option('--data <spec>', 'data source (default: the one the model was trained on)')
    .option('--split <name>', "'test' (default) or 'train'", 'test')
    .option('--out <dir>', 'where to write confusion.png (default: --model-dir)')
    .option('--json', 'print the metrics as one JSON object')
    .action(async (flags: EvalFlags) => {
      await startBackend(flags);
      const trained = await loadTrainedModel(flags.modelDir);
      const named = ['fashion-mnist', 'fashion-mnist-subset'].includes(trained.data) ? trained.data : undefined;
      const spec = flags.data ?? named;
      if (!spec) throw new Error(`--data is needed: the model was trained on '${trained.data}'`);
      const data = await loadData(parseDataSpec(spec));
      const ds = flags.split === 'train' ? data.train : data.test;
      if (!ds) throw new Error(`--data ${spec} has no ${flags.split} split`);
      const [size, , channels] = trained.inputShape;
      if (ds.height !== size || ds.width !== size || ds.channels !== channels) {
        throw new Error(
          `--data ${spec}: images are ${ds.height}×${ds.width}×${ds.channels}, the model takes ${size}×${size}×${channels}`,
        );
      }
      const m = evaluate(trained.model, ds, trained.normalization);
      const png = join(flags.out ?? flags.modelDir, 'confusion.png');
      await writePng(
        png,
        confusionMatrixPlot({
          title: `${trained.config.name ?? 'model'} on ${data.name} (${flags.split})`,
          labels: trained.classNames,
          matrix: m.confusion,
        }),
      );
      if (flags.json) {
        console.log(JSON.stringify({ data: data.name, split: flags.split, ...m, confusionPng: png }));
        return;
      }
      console.log(`${data.name} ${flags.split}: ${m.count} images`);
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
    .description('print the top classes of image files (JPEG, PNG) with a trained model')
    .requiredOption('--model-dir <dir>', 'a model written by sasa train (<out>/model)')
    .option('--top <k>', 'classes to print', positiveInt('--top'), 5)
    .option('--json', 'print one JSON object per image')
    .argument('<images...>', 'image files')
    .action(async (images: string[], flags: BackendFlags & { modelDir: string; top: number; json?: boolean }) => {
      await startBackend(flags);
      const trained = await loadTrainedModel(flags.modelDir);
      for (const path of images) {
        const p = await predictFile(trained, path, flags.top);
        if (flags.json) console.log(JSON.stringify(p));
        else {
          console.log(path);
          for (const t of p.top) console.log(`  ${(100 * t.probability).toFixed(1).padStart(5)} %  ${t.label}`);
        }
      }
    });
}
