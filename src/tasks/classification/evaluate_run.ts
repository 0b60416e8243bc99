/** The evaluation of a run's model on one of its splits, with the evaluation weights (the average, when kept). */
import type { Split } from '../../data/source.js';
import type { OnSkip } from './callbacks.js';
import { evaluateBatches } from './evaluate.js';
import type { Run } from './prepare.js';

/** Metrics of `split` with the weight average swapped in (when the run keeps one and it is not in place already); skipped files go to `onSkip`. */
export async function evaluateRun(run: Run, split: Split, onSkip: OnSkip, averaged = true) {
  const { data, model } = run;
  const restore = averaged ? run.ema?.swapIn() : undefined;
  try {
    const shape = { size: data.size, channels: data.channels, classes: data.classes };
    const r = await evaluateBatches(model, run.prepared.evalBatches(split), shape);
    for (const f of r.skipped) onSkip(f, split);
    return r;
  } finally {
    restore?.();
  }
}
