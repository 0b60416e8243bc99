// Batch-1 inference of a registered model with wall and CPU time (user + system, all threads), for A/B runs on
// a shared machine where wall time swings with the load but CPU time much less (BENCHMARKS.md, issue 18):
//   node bench/inference_cpu.mjs [DIR=.] [MODEL=resnet26] [RUNS=15]
// DIR: a checkout whose dist/ is built (npm run build). Prints {"wall", "minWall", "cpu"}: medians in ms of RUNS
// `model.apply(x, {training: false})` calls after 5 warm-ups, 224², 1 000 classes.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir = '.', model = 'resnet26', runs = '15'] = process.argv.slice(2);
const dist = (file) => import(pathToFileURL(resolve(dir, 'dist', file)).href);
const { initBackend } = await dist('backend/native.js');
const { prepareModelBench } = await dist('bench/cases.js');
await initBackend({ require: true });
const bench = prepareModelBench({ model, batch: 1, size: 224, classes: 1000, train: false });
for (let i = 0; i < 5; i++) bench.step();
const wall = [];
const cpu = [];
for (let i = 0; i < Number(runs); i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  bench.step();
  wall.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
}
const median = (a) => a.sort((x, y) => x - y)[a.length >> 1];
const ms = (v) => Number(v.toFixed(1));
console.log(JSON.stringify({ wall: ms(median(wall)), minWall: ms(Math.min(...wall)), cpu: ms(median(cpu)) }));
bench.dispose();
