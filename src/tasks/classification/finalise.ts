/**
 * The last part of a classification run: the evaluation weights put in place, the test split
 * evaluated, the model exported to `model/` and `summary.json` written. A run resumed after its
 * last epoch (killed while finishing) validates first, as its last epoch did, so its summary is
 * the uninterrupted run's.
 */
import { join } from 'node:path';
import { writeFileAtomic, writing } from '../../io/files.js';
import { saveModelFiles } from '../../io/model_files.js';
import { MODEL_DIR, SUMMARY } from '../training/run_folder.js';
import type { OnSkip, TrainResult } from './callbacks.js';
import type { Metrics } from './evaluate.js';
import { evaluateRun } from './evaluate_run.js';
import type { Run } from './prepare.js';

/**
 * `validation`: the last epoch's validation metrics, or undefined when no epoch ended in this
 * process. `seconds`: the training time of this process.
 */
export async function finaliseRun(
  run: Run,
  validation: Metrics | null | undefined,
  seconds: number,
  onSkip: OnSkip,
): Promise<TrainResult> {
  const { data, model, ema, state, options } = run;
  const hasValidation = run.prepared.splits.includes('validation');
  const validated =
    validation !== undefined
      ? validation
      : hasValidation
        ? (await evaluateRun(run, 'validation', onSkip)).metrics
        : null;
  if (ema) model.setWeights(ema.shadow);
  ema?.dispose();
  run.step.optimizer.dispose();
  const tested = run.prepared.splits.includes('test') ? await evaluateRun(run, 'test', onSkip, false) : null;
  const test = tested?.metrics ?? null;
  const stats = run.prepared.normalization;
  const metadata = { config: options.model, classNames: data.classNames, normalization: stats, data: data.name };
  const modelDir = join(run.outDir, MODEL_DIR);
  await writing(modelDir, 'the model', () => saveModelFiles(model, modelDir, metadata));
  const summary = {
    data: data.name,
    steps: state.step,
    seconds,
    validation: validated,
    test,
    options,
    ...(state.run.changes ? { changes: state.run.changes } : {}),
    ...(data.streamed && tested ? { test_skipped: tested.skipped.length } : {}),
  };
  const summaryPath = join(run.outDir, SUMMARY);
  const text = `${JSON.stringify(summary, null, 2)}\n`;
  await writing(summaryPath, 'the summary', () => writeFileAtomic(summaryPath, [Buffer.from(text)]));
  return { model, test, validation: validated, steps: state.step, seconds, stats };
}
