/**
 * The demo attention model classifying one image in headless Chromium (WebGL 2 on SwiftShader):
 * with sasa's WebGL kernels for the attention ops against the TypeScript kernels on the same page
 * and the same 'webgl' backend (every other op on WebGL in both); the same with the attention kernels
 * writing zeros (the floor: what the rest of the model costs); the whole model on tfjs's 'cpu'
 * backend for reference (web_kernels_page/main.ts). Prints milliseconds per classification (median
 * and min over the rounds) and the ratio.
 *   npx tsx bench/web_kernels.ts [--model sasa_resnet26_demo] [--rounds 3] [--runs 5]
 */
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromiumMissing, openPage } from '../test/web/chromium.js';
import {
  type BenchOptions,
  type BenchResult,
  CONFIGURATIONS,
  type Configuration,
} from './web_kernels_page/configurations.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'sasa_resnet26_demo' },
    rounds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '5' },
  },
});
const options: BenchOptions = { model: values.model, rounds: Number(values.rounds), runs: Number(values.runs) };

const missing = chromiumMissing();
if (missing) throw new Error(missing);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const opened = await openPage(join(dirname(fileURLToPath(import.meta.url)), 'web_kernels_page'));
try {
  const result = (await opened.page.evaluate(
    (o) => (window as unknown as { sasaBench(o: unknown): Promise<unknown> }).sasaBench(o),
    options,
  )) as BenchResult;
  if (opened.errors.length > 0) throw new Error(`page errors: ${opened.errors.join('; ')}`);
  const { times } = result;
  console.log(`CPU: ${cpus()[0]?.model} (${cpus().length} cores); WebGL: ${result.renderer}`);
  console.log(
    `${options.model}, one image [${result.inputShape.join(',')}], ${options.rounds} rounds × ${options.runs} runs`,
  );
  const label: Record<Configuration, string> = {
    'webgl kernels': 'webgl backend, sasa WebGL kernels',
    'ts kernels': 'webgl backend, TypeScript kernels',
    'no attention': 'webgl backend, attention writing zeros (floor)',
    'cpu backend': 'cpu backend, TypeScript kernels',
  };
  for (const c of CONFIGURATIONS) {
    const line = `${label[c]}:`.padEnd(50);
    console.log(`  ${line} median ${median(times[c]).toFixed(1)} ms, min ${Math.min(...times[c]).toFixed(1)} ms`);
  }
  const ratio = (f: (xs: number[]) => number) => (f(times['ts kernels']) / f(times['webgl kernels'])).toFixed(2);
  console.log(`  TypeScript / WebGL kernels: ${ratio(median)}× (medians), ${ratio((xs) => Math.min(...xs))}× (mins)`);
  const floor = Object.entries(result.floorKernels).sort((a, b) => b[1] - a[1]);
  const kernels = floor.reduce((n, [, count]) => n + count, 0);
  const floorMs = median(times['no attention']);
  console.log(
    `  the floor runs ${kernels} kernels per classification (${(floorMs / kernels).toFixed(2)} ms each at the median): ` +
      floor.map(([name, count]) => `${name} ${count}`).join(', '),
  );
  const ceiling = (f: (xs: number[]) => number) => (f(times['ts kernels']) / f(times['no attention'])).toFixed(2);
  console.log(
    `  ceiling (TypeScript kernels / floor: free attention): ${ceiling(median)}× (medians), ${ceiling((xs) => Math.min(...xs))}× (mins)`,
  );
  console.log(
    `  largest difference of the probabilities between the two: ${result.probabilityDifference.toExponential(2)}`,
  );
} finally {
  await opened.close();
}
