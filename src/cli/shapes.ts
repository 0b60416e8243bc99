/** `sasa shapes --out DIR`: writes the generated shapes detection dataset (COCO format) into DIR. */
import { existsSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import type { CocoInstances } from '../data/coco/instances.js';
import { CROPS_DEFAULTS, writeShapeCrops } from '../data/detection/shapes/crops.js';
import { SHAPE_CATEGORIES, sizeClassOf } from '../data/detection/shapes/scene.js';
import { SHAPES_DEFAULTS, SHAPES_SPLITS, writeShapesDataset } from '../data/detection/shapes/write.js';
import { writing } from '../io/files.js';
import { nonNegativeInt } from './args.js';
import { progressBar } from './progress.js';

/** "train: 400 images, 2311 objects (circle 580, …; small 912, medium 820, large 579)". */
export function describeSplit(name: string, instances: CocoInstances): string {
  const perCategory = SHAPE_CATEGORIES.map((c) => {
    const n = instances.annotations.filter((a) => a.category_id === c.id).length;
    return `${c.name} ${n}`;
  });
  const sizes = { small: 0, medium: 0, large: 0 };
  for (const a of instances.annotations) sizes[sizeClassOf(a.area)]++;
  const perSize = Object.entries(sizes).map(([k, n]) => `${k} ${n}`);
  const { images, annotations } = instances;
  return `${name}: ${images.length} images, ${annotations.length} objects (${perCategory.join(', ')}; ${perSize.join(', ')})`;
}

interface ShapesFlags {
  out: string;
  train?: number;
  val?: number;
  size: number;
  seed: number;
  crops?: boolean;
  cropSize: number;
}

/** Runs `write` into `out`, removing the folder again when it was new and the writing failed. */
async function writeFolder<T>(out: string, what: string, scenes: number, write: (tick: () => void) => Promise<T>) {
  const bar = progressBar('shapes', scenes);
  const existed = existsSync(out);
  try {
    return await writing(out, what, () => write(() => bar.tick()));
  } catch (err) {
    if (!existed) rmSync(out, { recursive: true, force: true }); // no half-written dataset
    throw err;
  } finally {
    bar.stop();
  }
}

async function writeDetectionSet(flags: ShapesFlags): Promise<void> {
  const { size, seed } = flags;
  const options = { train: flags.train ?? SHAPES_DEFAULTS.train, val: flags.val ?? SHAPES_DEFAULTS.val, size, seed };
  const summary = await writeFolder(flags.out, 'the shapes dataset', options.train + options.val, (tick) =>
    writeShapesDataset(flags.out, options, tick),
  );
  for (const split of SHAPES_SPLITS) console.log(describeSplit(split, summary[split]));
}

async function writeCrops(flags: ShapesFlags): Promise<void> {
  const { size, seed, cropSize } = flags;
  const options = {
    train: flags.train ?? CROPS_DEFAULTS.train,
    val: flags.val ?? CROPS_DEFAULTS.val,
    size,
    seed,
    cropSize,
  };
  const summary = await writeFolder(flags.out, 'the shapes crops', options.train + options.val, (tick) =>
    writeShapeCrops(flags.out, options, tick),
  );
  for (const split of SHAPES_SPLITS) {
    const counts = Object.entries(summary[split]);
    const total = counts.reduce((s, [, n]) => s + n, 0);
    console.log(`${split}: ${total} crops (${counts.map(([name, n]) => `${name} ${n}`).join(', ')})`);
  }
}

export function registerShapes(program: Command): void {
  program
    .command('shapes')
    .description('generate the shapes detection dataset (circles, squares, triangles, stars) in COCO format')
    .requiredOption('--out <dir>', 'output folder: new, empty, or an earlier output of the same kind (replaced)')
    .option(
      '--train <n>',
      `training images (default: ${SHAPES_DEFAULTS.train}; with --crops, scenes: ${CROPS_DEFAULTS.train})`,
      nonNegativeInt('--train'),
    )
    .option(
      '--val <n>',
      `validation images (default: ${SHAPES_DEFAULTS.val}; with --crops, scenes: ${CROPS_DEFAULTS.val})`,
      nonNegativeInt('--val'),
    )
    .option('--size <pixels>', 'side of the square images (≥ 16)', nonNegativeInt('--size'), SHAPES_DEFAULTS.size)
    .option(
      '--seed <n>',
      'random seed: the same seed gives the same files',
      nonNegativeInt('--seed'),
      SHAPES_DEFAULTS.seed,
    )
    .option(
      '--crops',
      'instead: every object of other generated scenes cut out (with a margin) as a classification image folder, OUT/{train,val}/<shape>/*.png, to pretrain a backbone (sasa train --data folder:OUT)',
    )
    .option(
      '--crop-size <pixels>',
      'with --crops: side of the square crops (≥ 8)',
      nonNegativeInt('--crop-size'),
      CROPS_DEFAULTS.cropSize,
    )
    .action(async (flags: ShapesFlags) => {
      const start = performance.now();
      await (flags.crops ? writeCrops(flags) : writeDetectionSet(flags));
      console.log(`wrote ${flags.out} in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    });
}
