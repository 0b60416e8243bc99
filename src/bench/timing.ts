/** Timing helpers for benchmarks: median of N runs after warm-up, and peak resident memory. */

export interface Timing {
  median_ms: number;
  min_ms: number;
  /** Median of the timed runs' process CPU time (user + system, all threads): steadier than wall time on a shared host. */
  cpu_ms: number;
  max_ms: number;
  runs: number;
  peak_rss_mb: number;
}

export interface TimingOptions {
  runs: number;
  /** Untimed runs before timing: at least `warmup` of them and at least `warmupMs` of running. */
  warmup: number;
  warmupMs?: number;
  /** Called after each timed run with its index (progress reporting). */
  onRun?: (i: number) => void;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Warms up, then times `runs` runs of `fn` (which must finish its work synchronously). The
 * time-based warm-up matters here: in a fresh process the first calls fault in new memory pages
 * (expensive on VMs) until the garbage collector starts recycling tfjs's freed buffers.
 */
export function timeRuns(fn: () => void, options: TimingOptions): Timing {
  if (!Number.isInteger(options.runs) || options.runs < 1)
    throw new Error(`runs must be a positive integer, got ${options.runs}`);
  if (!Number.isInteger(options.warmup) || options.warmup < 0) {
    throw new Error(`warmup must be a non-negative integer, got ${options.warmup}`);
  }
  const warmupEnd = performance.now() + (options.warmupMs ?? 0);
  for (let i = 0; i < options.warmup || performance.now() < warmupEnd; i++) fn();
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    fn();
    times.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
    options.onRun?.(i);
  }
  return {
    median_ms: round(median(times)),
    min_ms: round(Math.min(...times)),
    cpu_ms: round(median(cpuTimes)),
    max_ms: round(Math.max(...times)),
    runs: options.runs,
    peak_rss_mb: round(peakRssMb()),
  };
}

/** A prepared step to time: one inference or training step of `batch` images, and what frees its state. */
export interface PreparedStep {
  step: () => void;
  dispose: () => void;
}

/** Times `prepared.step` (timeRuns) and disposes it, even on an error; images_per_s = batch / median time. */
export function timeImageSteps(
  prepared: PreparedStep,
  batch: number,
  options: TimingOptions,
): Timing & { images_per_s: number } {
  try {
    const t = timeRuns(prepared.step, options);
    return { ...t, images_per_s: Math.round((batch * 1e5) / t.median_ms) / 100 };
  } finally {
    prepared.dispose();
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
