/**
 * Where one RetinaNet training step (or inference) of `sasa bench detection` spends its time: one
 * warm-up step, then tf.profile of one step, kernel time summed per tfjs kernel (--shapes: split by
 * input shapes), the top --top printed.
 *   npx tsx bench/profile_detection.ts [--backbone resnet50] [--fpn conv] [--batch 2] [--size 512] [--train] [--shapes]
 */

import { initBackend } from '../src/backend/native.js';
import { prepareDetectionBench } from '../src/bench/detection_case.js';
import * as tf from '../src/tf.js';
import { arg, flag } from './args.js';
import { printKernelTable } from './kernel_table.js';

await initBackend({ backend: arg('backend', 'native') });
const c = {
  backbone: arg('backbone', 'resnet50'),
  fpn: arg('fpn', 'conv') as 'conv' | 'attention',
  batch: Number(arg('batch', '2')),
  size: Number(arg('size', '512')),
  classes: Number(arg('classes', '91')),
  train: flag('train'),
};
const bench = prepareDetectionBench(c);
let t0 = performance.now();
bench.step();
console.log(`warm-up step: ${(performance.now() - t0).toFixed(0)} ms`);
t0 = performance.now();
const profile = await tf.profile(bench.step);
console.log(`profiled step: ${(performance.now() - t0).toFixed(0)} ms`);
const withShapes = flag('shapes');
printKernelTable(
  profile,
  (k) => (withShapes ? `${k.name} ${k.inputShapes.map((shape: number[]) => `[${shape}]`).join('')}` : k.name),
  Number(arg('top', '20')),
  40,
);
bench.dispose();
