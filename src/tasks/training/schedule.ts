/**
 * Learning-rate schedule of SASA.md §5: linear warm-up from 0 to `base` over `warmupSteps`, then
 * cosine decay to 0 at `totalSteps`:
 *   lr(t) = base · (t + 1) / warmup                                   t < warmup
 *   lr(t) = base · ½ (1 + cos(π (t - warmup) / (total - warmup)))     otherwise
 * (t counts from 0; warm-up reaches `base` at its last step).
 */
export interface Schedule {
  base: number;
  warmupSteps: number;
  totalSteps: number;
}

export function checkSchedule(s: Schedule): void {
  if (!(s.base > 0 && Number.isFinite(s.base)))
    throw new Error(`learning rate must be a positive number, got ${s.base}`);
  if (!Number.isInteger(s.totalSteps) || s.totalSteps < 1) {
    throw new Error(`total steps must be a positive integer, got ${s.totalSteps}`);
  }
  if (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0 || s.warmupSteps > s.totalSteps) {
    throw new Error(`warm-up steps must be an integer from 0 to the total steps ${s.totalSteps}, got ${s.warmupSteps}`);
  }
}

/**
 * The schedule of a run of `o.epochs` epochs of `stepsPerEpoch` steps, peak `o.lr` after `o.warmupEpochs`
 * epochs of warm-up (rounded to whole steps): warmupSteps = round(warmupEpochs · stepsPerEpoch),
 * totalSteps = epochs · stepsPerEpoch; checked (checkSchedule).
 */
export function epochSchedule(
  o: { lr: number; warmupEpochs: number; epochs: number },
  stepsPerEpoch: number,
): Schedule {
  const schedule = {
    base: o.lr,
    warmupSteps: Math.round(o.warmupEpochs * stepsPerEpoch),
    totalSteps: o.epochs * stepsPerEpoch,
  };
  checkSchedule(schedule);
  return schedule;
}

/** lr(t) of the warm-up + cosine schedule `s` at step t = `step` (0-based). */
export function learningRate(s: Schedule, step: number): number {
  if (step < s.warmupSteps) return (s.base * (step + 1)) / s.warmupSteps;
  const span = s.totalSteps - s.warmupSteps;
  if (span <= 0) return s.base;
  const progress = Math.min(1, (step - s.warmupSteps) / span);
  return 0.5 * s.base * (1 + Math.cos(Math.PI * progress));
}
