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
    // Batches of the training size: a larger evaluation batch (in-memory sources default to 256) raised
    // the run's peak memory by its activations, all held until the batch's tidy ends, and left
    // buffers of sizes training never asks for in the buffer pool (issue 19; bench/eval_memory.ts).
    const batches = run.prepared.evalBatches(split, { batchSize: run.options.batchSize });
    const r = await evaluateBatches(model, batches, shape);
    for (const f of r.skipped) onSkip(f, split);
    return r;
  } finally {
    restore?.();
  }
}
