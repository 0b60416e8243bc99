/**
 * What a run folder holds from an earlier, interrupted command (`sasa ablate --resume`): a finished run
 * (summary.json), a checkpoint to continue from, or nothing. A folder trained with other options is
 * refused, naming the first field that differs; models are compared resolved and without their display
 * name, so one configuration reached from two studies counts as the same run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCheckpoint } from '../tasks/classification/checkpoint.js';
import type { Metrics } from '../tasks/classification/evaluate.js';
import { comparableModel } from '../tasks/classification/options.js';
import type { TrainOptions } from '../tasks/classification/trainer.js';
import { firstDifference } from '../tasks/training/json_difference.js';
import { CHECKPOINT, SUMMARY } from '../tasks/training/run_folder.js';

export interface RunSummary {
  data: string;
  steps: number;
  seconds: number;
  validation: Metrics | null;
  test: Metrics | null;
  options: TrainOptions;
}

export type EarlierRun = { kind: 'none' } | { kind: 'checkpoint' } | { kind: 'done'; summary: RunSummary };

/** The options as compared: the model resolved (defaults filled in, so {k: 7} equals {}), without its name. */
function comparable(o: TrainOptions): unknown {
  return { ...o, model: comparableModel(o.model) };
}

function checkSame(
  dir: string,
  what: string,
  earlier: { options: TrainOptions; data: string },
  o: TrainOptions,
  data: string,
) {
  if (earlier.data !== data) throw new Error(`${dir}: the ${what} trained on '${earlier.data}', not '${data}'`);
  const d = firstDifference(comparable(earlier.options), comparable(o));
  if (d) {
    throw new Error(
      `${dir}: the ${what} was trained with other options (first difference: ${d}); remove the folder or choose another --out`,
    );
  }
}

/** Looks in `dir` for an earlier run of the same options on the same data. */
export async function earlierRun(dir: string, options: TrainOptions, data: string): Promise<EarlierRun> {
  const summaryPath = join(dir, SUMMARY);
  if (existsSync(summaryPath)) {
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as RunSummary;
    checkSame(summaryPath, 'finished run', summary, options, data);
    return { kind: 'done', summary };
  }
  const checkpointPath = join(dir, CHECKPOINT);
  if (existsSync(checkpointPath)) {
    const { state } = await readCheckpoint(checkpointPath);
    checkSame(
      checkpointPath,
      'checkpoint',
      { options: state.run.options as TrainOptions, data: String(state.run.data) },
      options,
      data,
    );
    return { kind: 'checkpoint' };
  }
  return { kind: 'none' };
}
