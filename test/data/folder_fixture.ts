/**
 * A tiny image folder for training tests: root/<class>/<image>, classes coloured red, green and blue
 * (plus seeded noise), PNG and JPEG alternating, and optionally one corrupt file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { rng } from '../../src/data/random.js';

export const FOLDER_CLASSES = ['blue', 'green', 'red'];
const COLOURS: Record<string, [number, number, number]> = {
  blue: [30, 40, 210],
  green: [40, 200, 50],
  red: [210, 40, 30],
};

/** Writes one `side`×`side` image of `colour` with noise (±`noise` levels). */
export async function writeColourImage(
  path: string,
  colour: readonly number[],
  side: number,
  seed: number,
  noise = 30,
): Promise<void> {
  const r = rng(seed);
  const raw = Buffer.alloc(side * side * 3);
  for (let i = 0; i < raw.length; i++) {
    raw[i] = Math.max(0, Math.min(255, colour[i % 3] + Math.round((r() - 0.5) * 2 * noise)));
  }
  const img = sharp(raw, { raw: { width: side, height: side, channels: 3 } });
  await (path.endsWith('.png') ? img.png() : img.jpeg({ quality: 90 })).toFile(path);
}

/**
 * Writes `perClass` images of `side` pixels per class under `root`, and with `corrupt` the file
 * root/green/corrupt.jpg (bytes that are no image); returns the corrupt file's path (or null).
 */
export async function writeImageFolder(
  root: string,
  {
    perClass = 6,
    side = 40,
    corrupt = false,
    seed = 0,
  }: { perClass?: number; side?: number; corrupt?: boolean; seed?: number },
): Promise<string | null> {
  for (const [c, name] of FOLDER_CLASSES.entries()) {
    await mkdir(join(root, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const ext = i % 2 ? 'jpg' : 'png';
      await writeColourImage(join(root, name, `${i}.${ext}`), COLOURS[name], side, seed * 1000 + c * 100 + i);
    }
  }
  if (!corrupt) return null;
  const path = join(root, 'green', 'corrupt.jpg');
  await writeFile(path, Buffer.from('this is not a JPEG file, whatever its name says'));
  return path;
}
