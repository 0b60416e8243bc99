/**
 * Where the peak memory of one RetinaNet training step of `sasa bench detection` goes: one warm-up
 * step, then one traced step; at every pooled native output (bufferPool.take) it samples the RSS, the
 * bytes of the backend's distinct live buffers (tracked from the warm-up on), the pool's free bytes, and
 * V8's heap and external memory. It prints the samples at the RSS maximum (with the pool's free buffers
 * by size there) and at the live-bytes maximum (with the bytes the tape saved for the backward pass, by
 * the kernel that saved them first, and the live forward outputs of 1 MB or more that nothing saved),
 * and the bytes the pool had to allocate afresh during the step.
 *   npx tsx bench/memory_detection.ts [--backbone resnet50] [--fpn conv] [--batch 2] [--size 512] [--classes 91]
 */

import { loadAddon } from '../src/backend/addon.js';
import { bufferPool, MIN_POOLED } from '../src/backend/buffer_pool.js';
import { initBackend } from '../src/backend/native.js';
import { prepareDetectionBench } from '../src/bench/detection_case.js';
import * as tf from '../src/tf.js';
import { arg, detectionTrainCase } from './args.js';

const MB = 1024 * 1024;

interface Sample {
  call: number;
  rssMb: number;
  liveMb: number;
  poolFreeMb: number;
  externalMb: number;
  heapMb: number;
  /** malloc's bytes in use (mmapped blocks included) and free in its heap (mallinfo2; -1 without the addon). */
  mallocUsedMb: number;
  mallocFreeMb: number;
}

/** Bytes of the backend's distinct data buffers (tf.memory().numBytes counts a buffer once per tensor viewing it). */
const buffers = new Map<object, number>();
function liveBytes(): number {
  let bytes = 0;
  for (const n of buffers.values()) bytes += n;
  return bytes;
}

/** Keeps `buffers` up to date from the backend's write, move and disposeData. */
function trackBuffers(): void {
  type Values = { byteLength?: number } | undefined;
  const backend = tf.backend() as unknown as {
    write(values: Values, ...rest: unknown[]): object;
    move(dataId: object, values: Values, ...rest: unknown[]): void;
    disposeData(dataId: object, force?: boolean): boolean;
    data: { has(dataId: object): boolean };
  };
  const { write, move, disposeData } = backend;
  backend.write = (values, ...rest) => {
    const dataId = write.call(backend, values, ...rest);
    buffers.set(dataId, values?.byteLength ?? 0);
    return dataId;
  };
  backend.move = (dataId, values, ...rest) => {
    move.call(backend, dataId, values, ...rest);
    buffers.set(dataId, values?.byteLength ?? 0);
  };
  backend.disposeData = (dataId, force) => {
    const freed = disposeData.call(backend, dataId, force);
    if (!backend.data.has(dataId)) buffers.delete(dataId);
    return freed;
  };
}

interface TapeNode {
  kernelName: string;
  saved?: tf.Tensor[];
  outputs: tf.Tensor[];
}

/** Bytes of the distinct buffers the tape saved for the backward pass, and the kernels saving the most. */
function savedByTape(): {
  savedMb: number;
  outputsNotSavedMb: number;
  byKernel: Record<string, number>;
  notSaved: string[];
} {
  const state = (tf.engine() as unknown as { state: { activeTape: TapeNode[] | null } }).state;
  const saved = new Map<object, number>();
  const byKernel: Record<string, number> = {};
  for (const node of state.activeTape ?? []) {
    for (const t of node.saved ?? []) {
      if (t.isDisposed || saved.has(t.dataId)) continue;
      saved.set(t.dataId, buffers.get(t.dataId) ?? 0);
      byKernel[node.kernelName] = (byKernel[node.kernelName] ?? 0) + (buffers.get(t.dataId) ?? 0) / MB;
    }
  }
  const outputs = new Map<object, number>();
  const notSaved: string[] = [];
  for (const node of state.activeTape ?? []) {
    for (const t of node.outputs) {
      if (!t.isDisposed && !saved.has(t.dataId) && buffers.has(t.dataId) && !outputs.has(t.dataId)) {
        outputs.set(t.dataId, buffers.get(t.dataId) ?? 0);
        if ((buffers.get(t.dataId) ?? 0) >= MB) notSaved.push(`${node.kernelName} [${t.shape}]`);
      }
    }
  }
  const sum = (m: Map<object, number>) => Math.round([...m.values()].reduce((a, b) => a + b, 0) / MB);
  for (const k of Object.keys(byKernel)) byKernel[k] = Math.round(byKernel[k]);
  return { savedMb: sum(saved), outputsNotSavedMb: sum(outputs), byKernel, notSaved };
}

const mallocStats = loadAddon().addon?.mallocStats;

function sample(call: number): Sample {
  const usage = process.memoryUsage();
  const malloc = mallocStats?.();
  return {
    call,
    rssMb: Math.round(usage.rss / MB),
    liveMb: Math.round(liveBytes() / MB),
    poolFreeMb: Math.round(bufferPool.heldBytes / MB),
    externalMb: Math.round(usage.external / MB),
    heapMb: Math.round(usage.heapUsed / MB),
    mallocUsedMb: malloc ? Math.round((malloc.inUseBytes + malloc.mmappedBytes) / MB) : -1,
    mallocFreeMb: malloc ? Math.round(malloc.freeBytes / MB) : -1,
  };
}

await initBackend({ backend: arg('backend', 'native') });
console.log('process at start', sample(0));
const bench = prepareDetectionBench(detectionTrainCase({ fpn: 'conv', batch: 2, size: 512 }));
console.log('model built', sample(0));
trackBuffers();
bench.step();
console.log('after warm-up', sample(0));
const take = bufferPool.take.bind(bufferPool);
let calls = 0;
let byRss = sample(0);
let byLive = byRss;
let tapeAtLive = savedByTape();
const pool = bufferPool as unknown as { free: Map<number, Float32Array[]>; reused: number };
/** The pool's free buffers by size, the largest totals first: 'MB × count'. */
const freeBySize = () =>
  [...pool.free.entries()]
    .filter(([, list]) => list.length > 0)
    .map(([n, list]) => ({ mb: (n * 4) / MB, count: list.length }))
    .sort((a, b) => b.mb * b.count - a.mb * a.count)
    .slice(0, 12)
    .map(({ mb, count }) => `${mb.toFixed(1)} MB × ${count}`);
let freeAtRss: string[] = [];
let missedBytes = 0;
bufferPool.take = (n: number) => {
  calls++;
  const s = sample(calls);
  const reused = pool.reused;
  if (s.rssMb > byRss.rssMb) {
    byRss = s;
    freeAtRss = freeBySize();
  }
  if (s.liveMb > byLive.liveMb) {
    byLive = s;
    tapeAtLive = savedByTape();
  }
  const a = take(n);
  if (n >= MIN_POOLED && pool.reused === reused) missedBytes += n * 4;
  return a;
};
bench.step();
bufferPool.take = take;
console.log('pooled outputs in the step:', calls);
console.log('at the RSS maximum:', byRss, 'pool free there:', freeAtRss.join(', '));
console.log(`pool misses in the step (fresh buffers): ${Math.round(missedBytes / MB)} MB`);
console.log('at the live-tensor maximum:', byLive, tapeAtLive);
console.log('after the step', sample(calls), 'peak RSS MB', Math.round(process.resourceUsage().maxRSS / 1024));
bench.dispose();
