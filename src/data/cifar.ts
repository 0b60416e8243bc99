/** CIFAR-10 and CIFAR-100 binary files: records of label byte(s) + 3072 bytes (R, G, B planes of 32×32). */
import type { ImageDataset } from './dataset.js';
import { readMaybeGzip } from './read.js';

/**
 * Which CIFAR binary format {@link parseCifar} and {@link loadCifar} read, and which CIFAR-100 label they
 * keep.
 */
export interface CifarOptions {
  /** 'cifar10': 1 label byte per record (10 classes); 'cifar100': coarse then fine label bytes. Default 'cifar10'. */
  variant?: 'cifar10' | 'cifar100';
  /** CIFAR-100 only: which label to keep, 'fine' (100 classes, default) or 'coarse' (20). */
  label?: 'fine' | 'coarse';
}

const SIDE = 32;
const PIXELS = SIDE * SIDE;

/** Parses one CIFAR binary file into images [count, 32, 32, 3] (HWC, interleaved) and labels [count]. */
export function parseCifar(bytes: Uint8Array, path: string, options: CifarOptions = {}): ImageDataset {
  const variant = options.variant ?? 'cifar10';
  const limits = variant === 'cifar100' ? [20, 100] : [10];
  const names = variant === 'cifar100' ? ['coarse label', 'fine label'] : ['label'];
  const labelBytes = limits.length;
  const which = variant === 'cifar100' && options.label !== 'coarse' ? 1 : 0;
  const classes = limits[which];
  const record = labelBytes + 3 * PIXELS;
  const rest = bytes.length % record;
  if (rest !== 0 || bytes.length === 0) {
    throw new Error(
      `${path}: ${bytes.length} bytes is not a whole number of ${variant} records of ${record} bytes (remainder ${rest})`,
    );
  }
  const count = bytes.length / record;
  const images = new Uint8Array(count * 3 * PIXELS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const r = i * record;
    for (let k = 0; k < labelBytes; k++) {
      if (bytes[r + k] >= limits[k]) {
        throw new Error(`${path}: record ${i} has ${names[k]} ${bytes[r + k]}, expected 0..${limits[k] - 1}`);
      }
    }
    labels[i] = bytes[r + which];
    const src = r + labelBytes;
    const dst = i * 3 * PIXELS;
    for (let p = 0; p < PIXELS; p++) {
      images[dst + 3 * p] = bytes[src + p];
      images[dst + 3 * p + 1] = bytes[src + PIXELS + p];
      images[dst + 3 * p + 2] = bytes[src + 2 * PIXELS + p];
    }
  }
  return { images, labels, count, height: SIDE, width: SIDE, channels: 3, classes };
}

/** Reads one or more CIFAR binary files (e.g. data_batch_1..5.bin), gzipped or raw, concatenated in order. */
export async function loadCifar(paths: string | string[], options: CifarOptions = {}): Promise<ImageDataset> {
  const list = typeof paths === 'string' ? [paths] : paths;
  if (list.length === 0) throw new Error('loadCifar: no files given');
  const parts: ImageDataset[] = [];
  for (const path of list) parts.push(parseCifar(await readMaybeGzip(path), path, options));
  if (parts.length === 1) return parts[0];
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * 3 * PIXELS);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * 3 * PIXELS);
    labels.set(p.labels, at);
    at += p.count;
  }
  return { ...parts[0], images, labels, count };
}
