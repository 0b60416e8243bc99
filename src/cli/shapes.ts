/** `sasa shapes --out DIR`: writes the generated shapes detection dataset (COCO format) into DIR. */
import { existsSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import type { CocoInstances } from '../data/coco/instances.js';
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

export function registerShapes(program: Command): void {
  program
    .command('shapes')
    .description('generate the shapes detection dataset (circles, squares, triangles, stars) in COCO format')
    .requiredOption('--out <dir>', 'output folder: new, empty, or an earlier shapes output (replaced)')
    .option('--train <n>', 'training images', nonNegativeInt('--train'), SHAPES_DEFAULTS.train)
    .option('--val <n>', 'validation images', nonNegativeInt('--val'), SHAPES_DEFAULTS.val)
    .option('--size <pixels>', 'side of the square images (≥ 16)', nonNegativeInt('--size'), SHAPES_DEFAULTS.size)
    .option(
      '--seed <n>',
      'random seed: the same seed gives the same files',
      nonNegativeInt('--seed'),
      SHAPES_DEFAULTS.seed,
    )
    .action(async (flags: { out: string; train: number; val: number; size: number; seed: number }) => {
      const { out, ...options } = flags;
      const start = performance.now();
      const bar = progressBar('shapes', options.train + options.val);
      let summary: Awaited<ReturnType<typeof writeShapesDataset>>;
      const existed = existsSync(out);
      try {
        summary = await writing(out, 'the shapes dataset', () => writeShapesDataset(out, options, () => bar.tick()));
      } catch (err) {
        if (!existed) rmSync(out, { recursive: true, force: true }); // no half-written dataset
        throw err;
      } finally {
        bar.stop();
      }
      for (const split of SHAPES_SPLITS) console.log(describeSplit(split, summary[split]));
      console.log(`wrote ${out} in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    });
}
