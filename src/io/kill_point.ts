/**
 * A test-only hook for the crash-safety test (test/cli/crash_safety.test.ts): with
 * `SASA_TEST_KILL_AT=<point>[@<n>]` in the environment, the process kills itself with SIGKILL the n-th
 * time (default the first) it reaches the write point named `<point>` — half-way through writing
 * `checkpoint.safetensors`, `weights.bin`, `model.json`, `summary.json`, a curve, a `metrics.jsonl`
 * line, or between the renames that replace the `model` folder. Without the variable it does nothing.
 */

export const KILL_AT_VARIABLE = 'SASA_TEST_KILL_AT';

/** How many times each point was reached in this process. */
const reached = new Map<string, number>();

/** SIGKILLs this process when SASA_TEST_KILL_AT names `point` and this is the n-th time it is reached. */
export function killPoint(point: string): void {
  const wanted = process.env[KILL_AT_VARIABLE];
  if (!wanted) return;
  const [name, nth = '1'] = wanted.split('@');
  if (name !== point) return;
  const count = (reached.get(point) ?? 0) + 1;
  reached.set(point, count);
  if (count === Number(nth)) process.kill(process.pid, 'SIGKILL');
}
