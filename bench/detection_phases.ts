/**
 * Where one RetinaNet training step of `sasa bench detection --train` goes in wall time, by phase: the forward
 * (RetinaNet.forward), the loss (computeLoss: targets, anchor matching, focal and L1 losses), the SGD update
 * (Sgd.apply), the heap trim before it (bufferPool.trimHeap, the detection step's memory policy) and the rest of
 * the step (the backward pass and the step's bookkeeping). One warm-up step, then --steps steps, one JSON line each
 * (ms per phase, the step's wall and process CPU time). Timing wraps the methods: no tf.profile, no added syncs.
 *   npx tsx bench/detection_phases.ts [--fpn attention] [--batch 1] [--size 256] [--steps 3]
 */
import { bufferPool } from '../src/backend/buffer_pool.js';
import { initBackend } from '../src/backend/native.js';
import { prepareDetectionBench } from '../src/bench/detection_case.js';
import { Sgd } from '../src/tasks/classification/sgd.js';
import { RetinaNet } from '../src/tasks/detection/retinanet.js';
import { arg, detectionTrainCase } from './args.js';

await initBackend({ backend: arg('backend', 'native') });
const spent: Record<string, number> = {};

/** Replaces obj[method] by a copy that adds its wall time to spent[phase]. */
function timePhase<T extends object>(obj: T, method: keyof T & string, phase: string): void {
  const original = obj[method] as (...args: unknown[]) => unknown;
  if (typeof original !== 'function') return;
  Object.assign(obj, {
    [method](this: unknown, ...args: unknown[]) {
      const t0 = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        spent[phase] = (spent[phase] ?? 0) + performance.now() - t0;
      }
    },
  });
}

timePhase(RetinaNet.prototype, 'forward', 'forward');
timePhase(RetinaNet.prototype, 'computeLoss', 'loss');
timePhase(Sgd.prototype, 'apply', 'sgd_update');
timePhase(bufferPool, 'trimHeap', 'malloc_trim');

const bench = prepareDetectionBench(detectionTrainCase({ fpn: 'attention', batch: 1, size: 256 }));
bench.step();
for (let i = 0; i < Number(arg('steps', '3')); i++) {
  for (const phase of Object.keys(spent)) spent[phase] = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  bench.step();
  const stepMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const phases = Object.values(spent).reduce((a, b) => a + b, 0);
  const rounded = Object.fromEntries(Object.entries(spent).map(([k, v]) => [k, Math.round(v)]));
  console.log(
    JSON.stringify({
      step_ms: Math.round(stepMs),
      cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
      ...rounded,
      backward_and_rest: Math.round(stepMs - phases),
    }),
  );
}
bench.dispose();
