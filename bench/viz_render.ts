/**
 * Time to draw the charts training and the CLI write, cold (first chart in the process) and warm:
 *   npx tsx bench/viz_render.ts [--steps 9000] [--epochs 10] [--rounds 7]
 * Charts: the loss curves of a run with `steps` step losses and `epochs` epoch points (3 series), the
 * validation accuracy (1 series), a 10-class confusion matrix and a 5-bar ablation plot. Prints per
 * chart the cold time, then the median warm time of `rounds` renders, split into vega (spec → SVG)
 * and the whole PNG (vega + resvg). Data is seeded noise shaped like a training run.
 */
import { barPlot, type Chart, confusionMatrixPlot, linePlot, renderPng, renderSvg } from '../src/viz/plots.js';
import { arg } from './args.js';

const [steps, epochs, rounds] = [arg('steps', '9000'), arg('epochs', '10'), arg('rounds', '7')].map(Number);
let seed = 1;
const random = () => {
  seed = (seed * 16807) % 2147483647;
  return seed / 2147483647;
};
const perEpoch = steps / epochs;
const stepLoss = Array.from({ length: steps }, (_, i) => [i, 2 * Math.exp(-i / 300) + 0.6 + 0.3 * random()] as const);
const epochAt = (f: (e: number) => number) =>
  Array.from({ length: epochs }, (_, e) => [(e + 1) * perEpoch, f(e + 1)] as [number, number]);
const classes = Array.from({ length: 10 }, (_, i) => `class ${i}`);
const charts: [string, Chart][] = [
  [
    `loss (${steps} + 2×${epochs} points)`,
    linePlot({
      title: 'loss',
      xLabel: 'step',
      yLabel: 'loss',
      series: [
        { name: 'train loss (step)', points: stepLoss },
        { name: 'train loss (epoch mean)', points: epochAt((e) => 0.7 + 0.6 / e) },
        { name: 'validation loss', points: epochAt((e) => 0.6 + 0.5 / e) },
      ],
    }),
  ],
  [
    `accuracy (${epochs} points)`,
    linePlot({
      title: 'validation accuracy',
      xLabel: 'epoch',
      yLabel: 'top-1 %',
      series: [{ name: 'validation top-1', points: epochAt((e) => 92 - 30 / e).map(([, y], i) => [i + 1, y]) }],
    }),
  ],
  [
    'confusion 10×10',
    confusionMatrixPlot({
      title: 'confusion',
      labels: classes,
      matrix: classes.map((_, r) => classes.map((_, c) => (r === c ? 900 : Math.round(30 * random())))),
    }),
  ],
  [
    'ablation bars (5)',
    barPlot({
      title: 'k study',
      bars: [3, 5, 7, 9, 11].map((k) => ({ label: `k=${k}`, value: 85 + random() })),
      yRange: [83, 88],
    }),
  ],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}
for (const [name, chart] of charts) {
  const cold = await timed(() => renderPng(chart));
  const svg: number[] = [];
  const png: number[] = [];
  for (let r = 0; r < rounds; r++) {
    svg.push(await timed(() => renderSvg(chart)));
    png.push(await timed(() => renderPng(chart)));
  }
  console.log(
    `${name.padEnd(32)} cold ${cold.toFixed(0).padStart(5)} ms   warm: vega ${median(svg).toFixed(0).padStart(4)} ms, png ${median(png).toFixed(0).padStart(4)} ms`,
  );
}
