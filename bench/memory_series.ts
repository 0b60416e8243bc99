/**
 * Resident memory over a long training run with validation passes (issue 19, item 4): is it flat?
 *   npx tsx bench/memory_series.ts [--model sasa_resnet26_demo] [--steps 1000] [--every 100]
 *                                  [--batch-size 16] [--out bench/results/memory_series]
 * Trains on the first images of the embedded Fashion-MNIST subset (28×28) in epochs of `--every`
 * steps, so a validation pass (a fifth of the images held out) follows every `--every` steps, for
 * `--steps` steps. After each step it samples the process's RSS and tfjs's memory() (tensors, bytes);
 * writes the series (OUT.json) and a chart (OUT.png + OUT.vl.json, src/viz), and prints the figure:
 * RSS after the first validation pass and at the end, and the drift over the later passes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { configFromFlags } from '../src/cli/model_options.js';
import { loadData, parseDataSpec } from '../src/data/spec.js';
import { initBackend } from '../src/index.js';
import { train } from '../src/tasks/classification/trainer.js';
import * as tf from '../src/tf.js';
import { linePlot, writePng } from '../src/viz/plots.js';
import { arg } from './args.js';
import { head, peakRssMb, rssMb } from './rss.js';

interface Sample {
  step: number;
  rssMb: number;
  tensors: number;
  tensorMb: number;
}

const status = await initBackend({});
const steps = Number(arg('steps', '1000'));
const every = Number(arg('every', '100'));
const batchSize = Number(arg('batch-size', '16'));
const outBase = arg('out', 'bench/results/memory_series');
const VALIDATION = 0.2;
const full = await loadData(parseDataSpec('fashion-mnist-subset'));
const images = Math.ceil((every * batchSize) / (1 - VALIDATION));
const data = { ...full, train: head(full.train, images), test: undefined };
const { height: size, channels } = data.train;
const model = configFromFlags(
  { model: arg('model', 'sasa_resnet26_demo'), stem: 'auto' },
  { size, channels, classes: 10 },
);
const samples: Sample[] = [];
const sample = (step: number) => {
  const m = tf.memory();
  samples.push({ step, rssMb: rssMb(), tensors: m.numTensors, tensorMb: m.numBytes / 2 ** 20 });
};
const runDir = mkdtempSync(join(tmpdir(), 'sasa-memory-series-'));
const start = performance.now();
try {
  await train(
    {
      model,
      epochs: Math.ceil(steps / every),
      batchSize,
      lr: 0.05,
      warmupEpochs: 1,
      momentum: 0.9,
      weightDecay: 1e-4,
      labelSmoothing: 0.1,
      emaDecay: 0.999,
      seed: 0,
      validationFraction: VALIDATION,
      checkpointEvery: 1e9,
      augment: true,
    },
    data,
    runDir,
    { callbacks: [{ onBatchEnd: (_b: number, logs: { step: number }) => sample(logs.step) }] },
  );
} finally {
  rmSync(runDir, { recursive: true, force: true });
}
const seconds = (performance.now() - start) / 1000;

const at = (step: number) => samples.find((s) => s.step === step) as Sample;
const afterFirst = at(every + 1);
const last = samples[samples.length - 1];
const later = samples.filter((s) => s.step > every);
const range = (key: 'rssMb' | 'tensors') => [
  Math.min(...later.map((s) => s[key])),
  Math.max(...later.map((s) => s[key])),
];
const [rssLo, rssHi] = range('rssMb');
const [tensorsLo, tensorsHi] = range('tensors');
const figure = {
  model: model.name,
  backend: status.backend,
  steps: last.step,
  validationEvery: every,
  batchSize,
  seconds: Math.round(seconds),
  rssAfterFirstValidationMb: Math.round(afterFirst.rssMb),
  rssAtEndMb: Math.round(last.rssMb),
  rssRangeAfterFirstValidationMb: [Math.round(rssLo), Math.round(rssHi)],
  driftPerValidationMb: Number(((last.rssMb - afterFirst.rssMb) / ((last.step - afterFirst.step) / every)).toFixed(2)),
  tensorsRangeAfterFirstValidation: [tensorsLo, tensorsHi],
  peakRssMb: Math.round(peakRssMb()),
};
mkdirSync(dirname(outBase), { recursive: true });
writeFileSync(`${outBase}.json`, `${JSON.stringify({ figure, samples }, null, 2)}\n`);
const series = [
  { name: 'RSS (MB)', points: samples.map((s) => [s.step, s.rssMb] as [number, number]) },
  { name: 'tfjs tensor memory (MB)', points: samples.map((s) => [s.step, s.tensorMb] as [number, number]) },
];
const title = `${model.name}: memory over ${last.step} steps, validation every ${every}`;
await writePng(`${outBase}.png`, linePlot({ title, xLabel: 'step', yLabel: 'MB', series }));
console.log(JSON.stringify(figure, null, 1));
