/**
 * Peak resident memory of a training run with and without its evaluation passes (issue 19, item 8):
 *   npx tsx bench/eval_memory.ts [--model sasa_resnet26_demo] [--train 2048] [--test 512] [--batch-size 64]
 *                                [--validation 0.04] [--epochs 1]
 * Trains on the first --train images of the embedded Fashion-MNIST subset, tests on its first --test
 * test images, and prints the process's peak RSS (VmHWM, /proc/self/status) after the last training
 * step — the training-only peak — and at the end, after the validation and test passes; then their
 * ratio. A run per process: VmHWM only grows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/native.js';
import { configFromFlags } from '../src/cli/model_options.js';
import { loadData, parseDataSpec } from '../src/data/spec.js';
import { train } from '../src/tasks/classification/trainer.js';
import { arg } from './args.js';
import { head, peakRssMb } from './rss.js';

const status = await initBackend({});
const full = await loadData(parseDataSpec('fashion-mnist-subset'));
const count = Number(arg('train', '2048'));
const data = {
  ...full,
  train: head(full.train, count),
  ...(full.test ? { test: head(full.test, Number(arg('test', '512'))) } : {}),
};
const { height: size, channels } = data.train;
const model = configFromFlags(
  { model: arg('model', 'sasa_resnet26_demo'), stem: 'auto' },
  { size, channels, classes: 10 },
);
const batchSize = Number(arg('batch-size', '64'));
const epochs = Number(arg('epochs', '1'));
const out = mkdtempSync(join(tmpdir(), 'sasa-eval-memory-'));
let training = 0;
try {
  const start = performance.now();
  await train(
    {
      model,
      epochs,
      batchSize,
      lr: 0.1,
      warmupEpochs: 0,
      momentum: 0.9,
      weightDecay: 1e-4,
      labelSmoothing: 0.1,
      emaDecay: 0.999,
      seed: 0,
      validationFraction: Number(arg('validation', '0.04')),
      checkpointEvery: 1e9,
      augment: true,
    },
    data,
    out,
    {
      callbacks: [
        {
          onBatchEnd() {
            training = peakRssMb();
          },
        },
      ],
    },
  );
  const total = peakRssMb();
  console.log(
    `${model.name}, ${data.train.count} training images, batch ${batchSize}, ${epochs} epoch(s), backend ${status.backend}, ` +
      `${((performance.now() - start) / 1000).toFixed(0)} s`,
  );
  console.log(`peak RSS after the last training step: ${training.toFixed(0)} MB`);
  console.log(`peak RSS at the end (validation and test passes): ${total.toFixed(0)} MB`);
  console.log(`ratio: ${(total / training).toFixed(2)}`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
