/** Test helpers: PNG bytes decoded by sharp (libvips/libspng, independent of resvg), pixels read out. */
import assert from 'node:assert/strict';
import sharp from 'sharp';

export interface Image {
  width: number;
  height: number;
  channels: number;
  data: Buffer;
}

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Checks the PNG signature and decodes the image to raw 8-bit channels. */
export async function decodePng(png: Uint8Array): Promise<Image> {
  assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE, 'PNG signature');
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data };
}

/** [r, g, b] at (x, y). */
export function pixel(img: Image, x: number, y: number): [number, number, number] {
  const at = (y * img.width + x) * img.channels;
  return [img.data[at], img.data[at + 1], img.data[at + 2]];
}

/** '#rrggbb' of every pixel, counted. */
export function colourCounts(img: Image): Map<string, number> {
  const counts = new Map<string, number>();
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const hex = `#${pixel(img, x, y)
        .map((v) => v.toString(16).padStart(2, '0'))
        .join('')}`;
      counts.set(hex, (counts.get(hex) ?? 0) + 1);
    }
  return counts;
}

/** Pixels darker than `threshold` (mean of r, g, b) in the box [x0, x1) × [y0, y1), and their x extent. */
export function ink(img: Image, box: { x0: number; y0: number; x1: number; y1: number }, threshold = 128) {
  let count = 0;
  let left = Number.POSITIVE_INFINITY;
  let right = Number.NEGATIVE_INFINITY;
  for (let y = box.y0; y < box.y1; y++)
    for (let x = box.x0; x < box.x1; x++) {
      const [r, g, b] = pixel(img, x, y);
      if ((r + g + b) / 3 >= threshold) continue;
      count++;
      left = Math.min(left, x);
      right = Math.max(right, x);
    }
  return { count, left, right };
}
