/** Tiny IDX image/label files for training tests: class c's images have brightness around c·step, plus noise. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { rng } from '../../src/data/random.js';

/** Writes `<name>-images[.gz]` and `<name>-labels` into `dir` (label of image i: i % classes); returns their paths. */
export function writeIdxPair(
  dir: string,
  name: string,
  {
    count,
    side,
    classes,
    seed,
    gzip = false,
  }: { count: number; side: number; classes: number; seed: number; gzip?: boolean },
): [string, string] {
  const r = rng(seed);
  const step = Math.floor(240 / classes);
  const images = Buffer.alloc(16 + count * side * side);
  images.writeUInt32BE(0x803, 0);
  images.writeUInt32BE(count, 4);
  images.writeUInt32BE(side, 8);
  images.writeUInt32BE(side, 12);
  const labels = Buffer.alloc(8 + count);
  labels.writeUInt32BE(0x801, 0);
  labels.writeUInt32BE(count, 4);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    labels[8 + i] = c;
    for (let p = 0; p < side * side; p++) images[16 + i * side * side + p] = c * step + Math.floor(r() * step);
  }
  const paths: [string, string] = [join(dir, `${name}-images${gzip ? '.gz' : ''}`), join(dir, `${name}-labels`)];
  writeFileSync(paths[0], gzip ? gzipSync(images) : images);
  writeFileSync(paths[1], labels);
  return paths;
}
