/** What the memory benches share: the process's resident memory (Linux) and the head of a dataset. */
import { readFileSync } from 'node:fs';
import type { ImageDataset } from '../src/data/dataset.js';

/** A field of /proc/self/status in MB: VmRSS (resident now) or VmHWM (the peak so far). */
function statusMb(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error(`bench: no ${field} in /proc/self/status (Linux only)`);
  return Number(m[1]) / 1024;
}

/** The process's resident set now, in MB. */
export const rssMb = () => statusMb('VmRSS');
/** The process's peak resident set so far, in MB. */
export const peakRssMb = () => statusMb('VmHWM');

/** The first `count` images of `set`. */
export function head(set: ImageDataset, count: number): ImageDataset {
  const n = Math.min(count, set.count);
  const pixels = set.height * set.width * set.channels;
  return { ...set, count: n, images: set.images.subarray(0, n * pixels), labels: set.labels.subarray(0, n) };
}
