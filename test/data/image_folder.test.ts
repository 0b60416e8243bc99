/** Image folders: scanning, split, streamed batches decoded with sharp (augmentation, skipping, prefetch). */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { splitTrainValidation } from '../../src/data/dataset.js';
import { decodeImageForEval } from '../../src/data/image_folder/decode.js';
import { type ImageFile, scanImageFolder, splitFileList } from '../../src/data/image_folder/scan.js';
import {
  type ImageFolderBatch,
  type ImageFolderBatchOptions,
  imageFolderBatches,
} from '../../src/data/image_folder/stream.js';
import { evalResizeCrop, imageAugmentParams, randomResizedCropRegion } from '../../src/data/image_folder/transforms.js';
import { rng } from '../../src/data/random.js';

type Rgb = [number, number, number];

/** Writes a w×h image from a pixel function (channels values per pixel) with sharp. */
async function writeImage(
  path: string,
  w: number,
  h: number,
  channels: 1 | 2 | 3 | 4,
  pixel: (x: number, y: number) => number[],
  format: 'png' | 'jpeg',
  orientation?: number,
): Promise<void> {
  const raw = Buffer.alloc(w * h * channels);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(pixel(x, y), (y * w + x) * channels);
  let img = sharp(raw, { raw: { width: w, height: h, channels } });
  if (channels <= 2) img = img.toColourspace('b-w');
  img = format === 'png' ? img.png() : img.jpeg({ quality: 95 });
  if (orientation) img = img.withMetadata({ orientation });
  await img.toFile(path);
}

const solid =
  (c: number[]) =>
  (_x: number, _y: number): number[] =>
    c;
const gradient = (w: number, h: number) => (x: number, y: number) => [
  Math.round((255 * x) / (w - 1)),
  Math.round((255 * y) / (h - 1)),
  128,
];

async function collect(gen: AsyncGenerator<ImageFolderBatch>): Promise<ImageFolderBatch[]> {
  const out: ImageFolderBatch[] = [];
  for await (const b of gen) out.push(b);
  return out;
}

const RED: Rgb = [200, 100, 50];
const MEAN = [0.5, 0.4, 0.3];
const STD = [0.2, 0.25, 0.3];
const expectedNorm = (c: Rgb) => c.map((v, ch) => (v / 255 - MEAN[ch]) / STD[ch]);

let dir: string;
let root: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sasa-imgfolder-'));
  root = join(dir, 'train');
  for (const c of ['cat', 'dog', 'zebra']) await mkdir(join(root, c), { recursive: true });
  await writeImage(join(root, 'cat', 'a_red.png'), 40, 30, 3, solid(RED), 'png');
  await writeImage(join(root, 'cat', 'b_gradient.jpg'), 48, 32, 3, gradient(48, 32), 'jpeg');
  await writeImage(join(root, 'cat', 'c_gray.png'), 30, 40, 1, solid([77]), 'png');
  await writeImage(join(root, 'cat', 'd_rgba.png'), 32, 32, 4, solid([...RED, 128]), 'png');
  await writeImage(join(root, 'dog', 'e_blue.jpg'), 36, 36, 3, solid([20, 40, 220]), 'jpeg');
  await writeImage(join(root, 'dog', 'f_gradient.png'), 50, 40, 3, gradient(50, 40), 'png');
  // Random bytes behind a .jpg name, and an empty file.
  const r = rng(42);
  const junk = Buffer.from(Array.from({ length: 700 }, () => Math.floor(r() * 256)));
  junk.write('NOT AN IMAGE', 0);
  await writeFile(join(root, 'dog', 'g_corrupt.jpg'), junk);
  await writeFile(join(root, 'dog', 'h_empty.jpg'), Buffer.alloc(0));
  await writeImage(join(root, 'zebra', 'i_gradient.jpeg'), 64, 20, 3, gradient(64, 20), 'jpeg');
  await writeImage(join(root, 'zebra', 'j_upper.PNG'), 20, 64, 3, gradient(20, 64), 'png');
  await writeFile(join(root, 'zebra', 'notes.txt'), 'not an image');
  await writeImage(join(root, 'zebra', '.hidden.png'), 8, 8, 3, solid(RED), 'png');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const GOOD = [
  'cat/a_red.png',
  'cat/b_gradient.jpg',
  'cat/c_gray.png',
  'cat/d_rgba.png',
  'dog/e_blue.jpg',
  'dog/f_gradient.png',
  'zebra/i_gradient.jpeg',
  'zebra/j_upper.PNG',
];
const rel = (p: string) => p.slice(root.length + 1);

describe('scanImageFolder', () => {
  it('lists classes sorted, labels by class, files sorted, only image extensions', async () => {
    const folder = await scanImageFolder(root);
    assert.deepEqual(folder.classes, ['cat', 'dog', 'zebra']);
    assert.deepEqual(
      folder.files.map((f) => [rel(f.path), f.label]),
      [
        ['cat/a_red.png', 0],
        ['cat/b_gradient.jpg', 0],
        ['cat/c_gray.png', 0],
        ['cat/d_rgba.png', 0],
        ['dog/e_blue.jpg', 1],
        ['dog/f_gradient.png', 1],
        ['dog/g_corrupt.jpg', 1],
        ['dog/h_empty.jpg', 1],
        ['zebra/i_gradient.jpeg', 2],
        ['zebra/j_upper.PNG', 2],
      ],
    );
    const pngOnly = await scanImageFolder(root, { extensions: ['png'] });
    assert.deepEqual(
      pngOnly.files.map((f) => rel(f.path)),
      ['cat/a_red.png', 'cat/c_gray.png', 'cat/d_rgba.png', 'dog/f_gradient.png', 'zebra/j_upper.PNG'],
    );
  });

  it('names what is wrong: missing root, no class folders, no images, an empty class folder', async () => {
    await assert.rejects(
      scanImageFolder(join(dir, 'nope')),
      /nope: cannot read the image folder \(no such file or folder, ENOENT\)/,
    );
    const flat = join(dir, 'flat');
    await mkdir(flat);
    await writeFile(join(flat, 'x.jpg'), 'x');
    await assert.rejects(scanImageFolder(flat), /flat: no class folders/);
    await assert.rejects(scanImageFolder(join(flat, 'x.jpg')), /x\.jpg: is a file, not a folder of images/);
    const bare = join(dir, 'bare');
    await mkdir(join(bare, 'a'), { recursive: true });
    await mkdir(join(bare, 'b'));
    await writeFile(join(bare, 'b', 'readme.txt'), 'x');
    await assert.rejects(
      scanImageFolder(bare),
      /bare: no images \(\.jpg, \.jpeg, \.png\) in any of its 2 class folders/,
    );
    await writeImage(join(bare, 'b', 'one.png'), 4, 4, 3, solid(RED), 'png');
    await assert.rejects(scanImageFolder(bare), /bare: class folder 'a' has no images/);
  });
});

describe('splitFileList', () => {
  it('is deterministic, disjoint, covering, order-keeping, and splits as splitTrainValidation does', () => {
    const items = Array.from({ length: 50 }, (_, i) => ({ path: `f${i}`, label: i % 3 }));
    const a = splitFileList(items, 0.2, 7);
    assert.deepEqual(a, splitFileList(items, 0.2, 7));
    assert.equal(a.validation.length, 10);
    assert.equal(a.train.length, 40);
    const ids = (l: ImageFile[]) => l.map((f) => Number(f.path.slice(1)));
    assert.deepEqual(
      [...ids(a.train), ...ids(a.validation)].sort((x, y) => x - y),
      items.map((_, i) => i),
    );
    for (const part of [a.train, a.validation])
      assert.deepEqual(
        ids(part),
        [...ids(part)].sort((x, y) => x - y),
      );
    assert.notDeepEqual(ids(splitFileList(items, 0.2, 8).validation), ids(a.validation));
    // The same permutation as the in-memory split.
    const images = Uint8Array.from({ length: 50 }, (_, i) => i);
    const ds = { images, labels: new Uint8Array(50), count: 50, height: 1, width: 1, channels: 1, classes: 1 };
    assert.deepEqual(ids(a.validation), Array.from(splitTrainValidation(ds, 0.2, 7).validation.images));
    assert.throws(() => splitFileList(items, 1, 0), /fraction must be in \[0, 1\)/);
  });
});

describe('crop geometry', () => {
  it('random-resized crops stay inside the image within the scale and ratio ranges', () => {
    for (let i = 0; i < 200; i++) {
      const { crop } = imageAugmentParams(3, 0, i, 500, 375);
      assert.ok(crop.top >= 0 && crop.left >= 0 && crop.width >= 1 && crop.height >= 1);
      assert.ok(crop.top + crop.height <= 375 && crop.left + crop.width <= 500, JSON.stringify(crop));
      const area = (crop.width * crop.height) / (500 * 375);
      assert.ok(area > 0.07 && area <= 1.01, `area ${area}`);
      const ratio = crop.width / crop.height;
      assert.ok(ratio > 0.7 && ratio < 1.4, `ratio ${ratio}`);
    }
    assert.deepEqual(imageAugmentParams(3, 0, 5, 500, 375), imageAugmentParams(3, 0, 5, 500, 375));
    assert.notDeepEqual(imageAugmentParams(3, 0, 5, 500, 375), imageAugmentParams(3, 1, 5, 500, 375));
  });

  it('falls back to the centered whole image clamped to the ratio range after 10 failed tries', () => {
    // Scale 1 with ratio 2 never fits a square (w = round(sqrt(2) × side) > side).
    let draws = 0;
    const counting = () => {
      draws++;
      return 0.5;
    };
    const crop = randomResizedCropRegion(100, 100, counting, [1, 1], [2, 2]);
    assert.equal(draws, 20);
    assert.deepEqual(crop, { top: 25, left: 0, width: 100, height: 50 });
    assert.deepEqual(
      randomResizedCropRegion(300, 100, () => 0.5, [1, 1], [0.5, 0.5]),
      {
        top: 0,
        left: 125,
        width: 50,
        height: 100,
      },
    );
  });

  it('evaluation resizes the shorter side to size / 0.875 and center-crops (torchvision rounding)', () => {
    assert.deepEqual(evalResizeCrop(500, 375, 224), {
      width: 341,
      height: 256,
      crop: { top: 16, left: 58, width: 224, height: 224 }, // round(58.5) = 58, as Python
    });
    assert.deepEqual(evalResizeCrop(375, 500, 224).crop, { top: 58, left: 16, width: 224, height: 224 });
    assert.deepEqual(evalResizeCrop(64, 20, 16), {
      width: 57,
      height: 18,
      crop: { top: 1, left: 20, width: 16, height: 16 },
    });
  });
});

describe('imageFolderBatches', () => {
  const base = (o: Partial<ImageFolderBatchOptions> = {}): ImageFolderBatchOptions => ({
    batchSize: 3,
    size: 16,
    train: false,
    mean: MEAN,
    std: STD,
    ...o,
  });

  it('skips and counts missing or corrupt files, refilling batches from the following files', async () => {
    const { files } = await scanImageFolder(root);
    const skips: [string, string][] = [];
    const got = await collect(
      imageFolderBatches(files, base({ onSkip: (path, reason) => skips.push([rel(path), reason]) })),
    );
    assert.deepEqual(
      got.map((b) => b.size),
      [3, 3, 2],
    );
    assert.deepEqual(
      got.flatMap((b) => b.paths.map(rel)),
      GOOD,
    );
    assert.deepEqual(
      got.flatMap((b) => Array.from(b.y)),
      [0, 0, 0, 0, 1, 1, 2, 2],
    );
    assert.deepEqual(
      got.flatMap((b) => Array.from(b.indices)),
      [0, 1, 2, 3, 4, 5, 8, 9],
    );
    assert.deepEqual(
      skips.map((s) => s[0]),
      ['dog/g_corrupt.jpg', 'dog/h_empty.jpg'],
    );
    assert.match(skips[0][1], /unsupported image format/);
    assert.match(skips[1][1], /empty file/);
    assert.deepEqual(
      got.map((b) => b.skipped.length),
      [0, 0, 2],
    );
    for (const b of got) assert.equal(b.x.length, b.size * 16 * 16 * 3);
    // A file that disappeared after the scan is skipped too.
    const gone = [...files.slice(0, 2), { path: join(root, 'cat', 'deleted.jpg'), label: 0 }];
    const reasons: string[] = [];
    const [b] = await collect(imageFolderBatches(gone, base({ onSkip: (_p, r) => reasons.push(r) })));
    assert.equal(b.size, 2);
    assert.match(reasons[0], /ENOENT/);
  });

  it('with strict: true throws an error naming the file', async () => {
    const { files } = await scanImageFolder(root);
    await assert.rejects(
      collect(imageFolderBatches(files, base({ strict: true }))),
      (e: Error) => e.message.startsWith(join(root, 'dog', 'g_corrupt.jpg')) && /cannot decode image/.test(e.message),
    );
    await assert.rejects(
      collect(imageFolderBatches(files.slice(7), base({ strict: true, train: true }))),
      new RegExp(`${join(root, 'dog', 'h_empty.jpg')}: cannot decode image \\(empty file`),
    );
  });

  it('normalises solid colours exactly (RGB, RGBA with alpha dropped, grayscale to 3 channels)', async () => {
    const { files } = await scanImageFolder(root);
    const cases: [string, Rgb][] = [
      ['cat/a_red.png', RED],
      ['cat/d_rgba.png', RED],
      ['cat/c_gray.png', [77, 77, 77]],
    ];
    for (const train of [false, true]) {
      for (const [name, colour] of cases) {
        const picked = files.filter((f) => rel(f.path) === name);
        const [b] = await collect(imageFolderBatches(picked, base({ train, seed: 9 })));
        const want = expectedNorm(colour);
        for (let i = 0; i < b.x.length; i++) {
          assert.ok(
            Math.abs(b.x[i] - want[i % 3]) < 1e-5,
            `${name} train=${train} value ${i}: ${b.x[i]} vs ${want[i % 3]}`,
          );
        }
      }
    }
    const x = await decodeImageForEval(join(root, 'cat', 'a_red.png'), 8, MEAN, STD);
    assert.equal(x.length, 8 * 8 * 3);
    const want = expectedNorm(RED);
    x.forEach((v, i) => {
      assert.ok(Math.abs(v - want[i % 3]) < 1e-5);
    });
    const blue = await decodeImageForEval(join(root, 'dog', 'e_blue.jpg'), 8); // JPEG: within a few levels
    blue.forEach((v, i) => {
      assert.ok(Math.abs(v * 255 - [20, 40, 220][i % 3]) <= 4, `${v * 255}`);
    });
    await assert.rejects(
      decodeImageForEval(join(root, 'dog', 'g_corrupt.jpg'), 8),
      /g_corrupt\.jpg: cannot decode image/,
    );
  });

  it('evaluation output is the center crop of the resized image', async () => {
    // 64×20 horizontal gradient → 57×18 (shorter side round(16 / 0.875) = 18), crop columns 20..35.
    const { files } = await scanImageFolder(root);
    const picked = files.filter((f) => rel(f.path) === 'zebra/i_gradient.jpeg');
    const [b] = await collect(imageFolderBatches(picked, { batchSize: 4, size: 16, train: false }));
    assert.equal(b.x.length, 16 * 16 * 3);
    const red = (r: number, c: number) => b.x[(r * 16 + c) * 3] * 255;
    // Column c of the crop is column 20 + c of 57, i.e. about (20 + c + 0.5) / 57 of the way along.
    for (const c of [0, 8, 15]) {
      const want = ((20 + c + 0.5) / 57) * 255;
      assert.ok(Math.abs(red(8, c) - want) < 8, `column ${c}: ${red(8, c)} vs ${want}`);
    }
    const x = await decodeImageForEval(picked[0].path, 16);
    assert.deepEqual(x, b.x);
  });

  it('honours EXIF orientation', async () => {
    // Left half red, right half blue, stored with orientation 6 (display rotated 90° clockwise):
    // displayed, the red half is on top.
    const path = join(dir, 'oriented.jpg');
    await writeImage(path, 40, 20, 3, (x) => (x < 20 ? [255, 0, 0] : [0, 0, 255]), 'jpeg', 6);
    const x = await decodeImageForEval(path, 16, [0, 0, 0], [1, 1, 1], 1);
    const px = (r: number, c: number) => Array.from(x.slice((r * 16 + c) * 3, (r * 16 + c) * 3 + 3), (v) => v * 255);
    assert.ok(px(1, 8)[0] > 200 && px(1, 8)[2] < 50, `top: ${px(1, 8)}`);
    assert.ok(px(14, 8)[2] > 200 && px(14, 8)[0] < 50, `bottom: ${px(14, 8)}`);
  });

  it('augmentation is fixed by (seed, epoch, image): same batches again, other crops in another epoch', async () => {
    const { files } = await scanImageFolder(root);
    const good = files.filter((f) => GOOD.includes(rel(f.path)));
    const opts = base({ train: true, seed: 11, epoch: 0, batchSize: 4 });
    const a = await collect(imageFolderBatches(good, opts));
    const b = await collect(imageFolderBatches(good, { ...opts, prefetch: 0, concurrency: 1 }));
    assert.deepEqual(a, b);
    assert.equal(a.length, 2);
    // Shuffled by epoch order: the same files, another order.
    assert.deepEqual(a.flatMap((x) => x.paths.map(rel)).sort(), [...GOOD].sort());
    const e1 = await collect(imageFolderBatches(good, { ...opts, epoch: 1 }));
    assert.notDeepEqual(
      e1.flatMap((x) => x.paths),
      a.flatMap((x) => x.paths),
    );
    // Same order (shuffle off), different epoch: the gradients are cropped differently.
    const ordered = { ...opts, shuffle: false };
    const p0 = await collect(imageFolderBatches(good, ordered));
    const p1 = await collect(imageFolderBatches(good, { ...ordered, epoch: 1 }));
    assert.deepEqual(
      p0.flatMap((x) => x.paths),
      p1.flatMap((x) => x.paths),
    );
    const per = 16 * 16 * 3;
    const gradientAt = p0[0].paths.findIndex((p) => rel(p) === 'cat/b_gradient.jpg');
    assert.notDeepEqual(
      p0[0].x.subarray(gradientAt * per, (gradientAt + 1) * per),
      p1[0].x.subarray(gradientAt * per, (gradientAt + 1) * per),
    );
    // And a different seed, other crops.
    const s2 = await collect(imageFolderBatches(good, { ...ordered, seed: 12 }));
    assert.notDeepEqual(s2[0].x, p0[0].x);
  });

  it("resumes at a batch's `next` with the same remaining batches, without reading the files before it", async () => {
    const { files } = await scanImageFolder(root);
    const opts = base({ train: true, seed: 5, epoch: 2, batchSize: 3 });
    const all = await collect(imageFolderBatches(files, opts));
    assert.deepEqual(
      all.map((b) => b.size),
      [3, 3, 2],
    );
    assert.equal(all.at(-1)?.next, files.length);
    // Skipped files shift the batches: some batch's next is not a multiple of the batch size.
    assert.ok(
      all.some((b, i) => b.next !== (i + 1) * 3),
      JSON.stringify(all.map((b) => b.next)),
    );
    for (let k = 0; k < all.length; k++) {
      const read: string[] = [];
      const rest = await collect(
        imageFolderBatches(files, { ...opts, from: all[k].next, onDecode: (p) => read.push(p) }),
      );
      assert.deepEqual(rest, all.slice(k + 1));
      const before = new Set(all.slice(0, k + 1).flatMap((b) => [...b.paths, ...b.skipped.map((s) => s.path)]));
      assert.deepEqual(
        read.filter((p) => before.has(p)),
        [],
      );
    }
  });

  it('prefetches at most `prefetch` batches ahead of the consumer', async () => {
    const many = join(dir, 'many');
    await mkdir(join(many, 'c'), { recursive: true });
    for (let i = 0; i < 12; i++) {
      await writeImage(join(many, 'c', `${String(i).padStart(2, '0')}.png`), 24, 24, 3, solid([i * 20, 0, 0]), 'png');
    }
    const { files } = await scanImageFolder(many);
    const settle = async (until: () => boolean) => {
      for (let t = 0; t < 200 && !until(); t++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50)); // give a runaway producer the chance to overshoot
    };
    for (const prefetch of [0, 1, 2]) {
      let started = 0;
      const gen = imageFolderBatches(files, {
        batchSize: 2,
        size: 8,
        train: true,
        prefetch,
        onDecode: () => started++,
      });
      let consumed = 0;
      for await (const b of gen) {
        consumed++;
        assert.equal(b.size, 2);
        const bound = Math.min(12, (consumed + prefetch) * 2);
        await settle(() => started >= bound);
        assert.equal(started, bound, `prefetch ${prefetch}, ${consumed} consumed: ${started} decodes started`);
        if (consumed === 4) break; // stopping early ends the producer
      }
      const at = started;
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(started, at);
    }
  });

  it('checks its options', async () => {
    const files = [{ path: 'x.jpg', label: 0 }];
    const run = (o: Partial<ImageFolderBatchOptions>) => collect(imageFolderBatches(files, base(o)));
    await assert.rejects(run({ batchSize: 0 }), /batchSize must be a positive integer, got 0/);
    await assert.rejects(run({ size: 1.5 }), /size must be a positive integer, got 1\.5/);
    await assert.rejects(run({ mean: [0] }), /mean and std need 3 values/);
    await assert.rejects(run({ std: [1, 0, 1] }), /std must be positive/);
    await assert.rejects(run({ prefetch: -1 }), /prefetch must be a non-negative integer/);
    await assert.rejects(run({ concurrency: 0 }), /concurrency must be a positive integer/);
    await assert.rejects(run({ cropFraction: 0 }), /cropFraction must be in \(0, 1\]/);
    await assert.rejects(run({ scale: [0.5, 0.2] }), /scale must satisfy/);
    await assert.rejects(run({ from: 2 }), /from must be an integer in 0\.\.1 \(the files\), got 2/);
  });
});

describe('real photos (PASCAL VOC)', () => {
  const voc = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'voc100', 'images');
  const skip = existsSync(voc) ? false : `${voc} is absent (the shared VOC sample is not on this machine)`;

  it('decodes real JPEGs to the right shapes and value ranges', { skip }, async () => {
    const names = (await readdir(voc))
      .filter((n) => n.endsWith('.jpg'))
      .sort()
      .slice(0, 6);
    const files = names.map((n, i) => ({ path: join(voc, n), label: i % 2 }));
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const lo = mean.map((m, c) => -m / std[c]);
    const hi = mean.map((m, c) => (1 - m) / std[c]);
    for (const train of [true, false]) {
      const got = await collect(imageFolderBatches(files, { batchSize: 4, size: 64, train, seed: 1, mean, std }));
      assert.deepEqual(
        got.map((b) => b.size),
        [4, 2],
      );
      for (const b of got) {
        assert.equal(b.x.length, b.size * 64 * 64 * 3);
        assert.deepEqual(b.skipped, []);
        let sum = 0;
        let sq = 0;
        b.x.forEach((v, i) => {
          const c = i % 3;
          assert.ok(v >= lo[c] - 1e-5 && v <= hi[c] + 1e-5, `value ${v} outside [${lo[c]}, ${hi[c]}]`);
          sum += v;
          sq += v * v;
        });
        const n = b.x.length;
        const sd = Math.sqrt(sq / n - (sum / n) ** 2);
        assert.ok(sd > 0.2 && sd < 3, `photos have texture: sd ${sd}`);
      }
    }
    const x = await decodeImageForEval(files[0].path, 224, mean, std);
    assert.equal(x.length, 224 * 224 * 3);
    assert.ok(x.every((v, i) => v >= lo[i % 3] - 1e-5 && v <= hi[i % 3] + 1e-5));
  });
});
