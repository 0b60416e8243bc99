/** The `sasa` command line's program: every command registered (run by main.ts). */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerAblate } from './ablate.js';
import { registerAttentionMap } from './attention_map.js';
import { registerBench } from './bench.js';
import { registerCocoEval } from './coco_eval.js';
import { registerDemo } from './demo.js';
import { registerDetect } from './detect.js';
import { registerDoctor } from './doctor.js';
import { registerEvaluate } from './evaluate.js';
import { registerExport } from './export.js';
import { registerModels } from './models.js';
import { registerServe } from './serve.js';
import { registerShapes } from './shapes.js';
import { registerTable } from './table.js';
import { registerTrain } from './train.js';

/** The commander program with every command. */
export function sasaProgram(): Command {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const program = new Command()
    .name('sasa')
    .description('Stand-alone self-attention vision models (Ramachandran et al., NeurIPS 2019) on TensorFlow.js')
    .version(pkg.version)
    // Commander's own errors (an unknown option, a value an option refuses) read as ours: `sasa: error: …`.
    .configureOutput({ outputError: (message, write) => write(`sasa: ${message}`) });
  registerDemo(program);
  registerAblate(program);
  registerDoctor(program);
  registerBench(program);
  registerTable(program);
  registerModels(program);
  registerTrain(program);
  registerEvaluate(program);
  registerExport(program);
  registerShapes(program);
  registerCocoEval(program);
  registerDetect(program);
  registerAttentionMap(program);
  registerServe(program);
  return program;
}
