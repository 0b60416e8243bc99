/**
 * The `sasa` program as a function: `runCli(argv)` parses and runs one command line and returns its
 * exit code (0 or 1) instead of exiting, so the CLI can be driven in-process (tests, the bad-input
 * corpus). A thrown error prints one line `sasa: error: <message>` (plus its stack with SASA_DEBUG=1).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
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

/** A fresh program (commander keeps parsed values on its commands, so one per command line). */
export function createProgram(): Command {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const program = new Command()
    .name('sasa')
    .description('Stand-alone self-attention vision models (Ramachandran et al., NeurIPS 2019) on TensorFlow.js')
    .version(pkg.version)
    // Commander's own errors (an unknown option, a value an option refuses) read as ours: `sasa: error: …`;
    // they are thrown (exitOverride, inherited by every command registered below) rather than exiting.
    .configureOutput({ outputError: (message, write) => write(`sasa: ${message}`) })
    .exitOverride();
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

/**
 * Runs the command line `argv` (as process.argv: node, script, args…); resolves to its exit code. A
 * command that reports a failure without throwing (predict's unreadable files) sets process.exitCode,
 * which is read and cleared here.
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  const before = process.exitCode;
  process.exitCode = undefined;
  let code = 0;
  try {
    await createProgram().parseAsync([...argv]);
  } catch (err) {
    // commander has already printed its own message (or the help, or the version: exit code 0)
    if (err instanceof CommanderError) code = err.exitCode;
    else {
      process.stderr.write(`sasa: error: ${(err as Error).message}\n`);
      if (process.env.SASA_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
      code = 1;
    }
  }
  const set = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return code || set;
}
