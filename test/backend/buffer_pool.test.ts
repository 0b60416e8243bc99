/**
 * The buffer pool (backend/buffer_pool.ts): disposed outputs' buffers are reused, buffers read out
 * or shared never are, and training gives the same bits with and without it.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  BufferPool,
  bufferPool,
  keepPoolWithinPeak,
  MIN_POOLED,
  trimHeapWithinPeak,
} from '../../src/backend/buffer_pool.js';
import { createModel } from '../../src/models/registry.js';
import { makeTrainStep } from '../../src/tasks/classification/step.js';
import * as tf from '../../src/tf.js';
import { describeNative, randTensor, setup } from '../helpers.js';

const N = MIN_POOLED * 2;

describe('BufferPool', () => {
  it('hands a released buffer to the next request of its size', () => {
    const pool = new BufferPool(true, 1 << 30);
    const a = pool.take(N);
    pool.written(a);
    pool.released(a);
    assert.equal(pool.heldBytes, N * 4);
    assert.equal(pool.take(N + 1) === a, false);
    assert.equal(pool.take(N), a);
    assert.equal(pool.reused, 1);
  });

  it('never reuses a buffer that was read out, shared by a view, written twice, or never written', () => {
    const pool = new BufferPool(true, 1 << 30);
    const read = pool.take(N);
    pool.written(read);
    pool.escaped(read);
    pool.released(read);
    const viewed = pool.take(N);
    pool.written(viewed);
    pool.written(viewed.subarray(4));
    pool.released(viewed);
    const twice = pool.take(N);
    pool.written(twice);
    pool.written(twice);
    pool.released(twice);
    const fresh = pool.take(N);
    pool.released(fresh);
    assert.equal(pool.heldBytes, 0);
  });

  it('keeps small arrays out, respects its byte limit, and does nothing when disabled', () => {
    const pool = new BufferPool(true, N * 4);
    const small = pool.take(MIN_POOLED - 1);
    pool.written(small);
    pool.released(small);
    assert.equal(pool.heldBytes, 0);
    const [a, b] = [pool.take(N), pool.take(N)];
    for (const x of [a, b]) {
      pool.written(x);
      pool.released(x);
    }
    assert.equal(pool.heldBytes, N * 4);
    const off = new BufferPool(false, 1 << 30);
    const c = off.take(N);
    off.written(c);
    off.released(c);
    assert.equal(off.heldBytes, 0);
  });
});

/** A pool whose discarded buffers are recorded: a buffer that would be its output's, written and released. */
function poolWithDiscards(limitBytes: number, slackBytes?: number) {
  const pool = new BufferPool(true, limitBytes, slackBytes);
  const discarded: ArrayBuffer[] = [];
  pool.discard = (buffer) => discarded.push(buffer);
  const freeOne = (n: number) => {
    const a = pool.take(n);
    pool.written(a);
    pool.released(a);
    return a;
  };
  return { pool, discarded, freeOne };
}

describe('BufferPool eviction', () => {
  it('trimHeapWithinPeak trims the heap only while the pool keeps within its peak', () => {
    const [slack, trim] = [bufferPool.slackBytes, bufferPool.trimHeap];
    let trims = 0;
    try {
      bufferPool.trimHeap = () => trims++;
      bufferPool.slackBytes = Number.POSITIVE_INFINITY;
      trimHeapWithinPeak();
      assert.equal(trims, 0);
      bufferPool.slackBytes = 0;
      trimHeapWithinPeak();
      assert.equal(trims, 1);
    } finally {
      [bufferPool.slackBytes, bufferPool.trimHeap] = [slack, trim];
    }
  });

  it('the process pool keeps every free buffer by default; keepPoolWithinPeak sets slack 0 unless the environment chose one', () => {
    const slack = bufferPool.slackBytes;
    const chosen = process.env.SASA_BUFFER_POOL_SLACK_MB;
    try {
      if (chosen === undefined) assert.equal(slack, Number.POSITIVE_INFINITY);
      bufferPool.slackBytes = 123;
      process.env.SASA_BUFFER_POOL_SLACK_MB = '5';
      keepPoolWithinPeak();
      assert.equal(bufferPool.slackBytes, 123, "the environment's slack was overridden");
      delete process.env.SASA_BUFFER_POOL_SLACK_MB;
      keepPoolWithinPeak();
      assert.equal(bufferPool.slackBytes, 0);
    } finally {
      if (chosen === undefined) delete process.env.SASA_BUFFER_POOL_SLACK_MB;
      else process.env.SASA_BUFFER_POOL_SLACK_MB = chosen;
      bufferPool.slackBytes = slack;
    }
  });

  it('with no slack, keeps owned + free bytes within the most ever owned, letting go of the oldest free first', () => {
    const { pool, discarded, freeOne } = poolWithDiscards(1 << 30, 0);
    const a = freeOne(N);
    const b = pool.take(N * 2);
    assert.ok(discarded.length === 1 && discarded[0] === a.buffer, 'the free buffer was not let go of');
    assert.equal(pool.heldBytes, 0);
    const c = pool.take(N * 2);
    for (const x of [b, c]) {
      pool.written(x);
      pool.released(x);
    }
    pool.take(N);
    assert.ok(discarded.length === 2 && discarded[1] === b.buffer, 'not the oldest free buffer');
    assert.equal(pool.heldBytes, N * 8);
    assert.equal(pool.take(N * 2), c);
    assert.equal(pool.evicted, 2);
  });

  it('lets go of only as many bytes as the budget needs', () => {
    const { pool, discarded, freeOne } = poolWithDiscards(1 << 30, N * 4);
    const live = [pool.take(N), pool.take(N * 2), pool.take(N * 3)];
    for (const a of live) {
      pool.written(a);
      pool.released(a);
    }
    assert.equal(pool.heldBytes, N * 24);
    pool.take(N * 4);
    assert.ok(discarded.length === 2 && discarded[0] === live[0].buffer && discarded[1] === live[1].buffer);
    assert.equal(pool.take(N * 3), live[2]);
    freeOne(N * 5);
    assert.equal(pool.evicted, 2, 'a miss past the peak (a new peak) evicted');
    assert.equal(pool.heldBytes, N * 20);
  });

  it('over its byte limit lets go of the oldest free buffer, not the newest', () => {
    const { pool, discarded } = poolWithDiscards(N * 4);
    const [a, b] = [pool.take(N), pool.take(N)];
    for (const x of [a, b]) {
      pool.written(x);
      pool.released(x);
    }
    assert.ok(discarded.length === 1 && discarded[0] === a.buffer);
    assert.equal(pool.take(N), b);
  });

  it('without discard, an evicted buffer is simply dropped (V8 frees it)', () => {
    const pool = new BufferPool(true, 1 << 30, 0);
    const a = pool.take(N);
    pool.written(a);
    pool.released(a);
    pool.take(N * 2);
    assert.equal(pool.evicted, 1);
    assert.equal(pool.heldBytes, 0);
    assert.equal(a.length, N, 'something detached it');
  });
});

describeNative('the native backend with the buffer pool', () => {
  before(setup);

  it('reuses a disposed output for the next one of its size, and never one whose values were read', () => {
    const x = randTensor([N], 1);
    const y = tf.relu(x);
    const kept = y.dataSync();
    const copy = Float32Array.from(kept);
    y.dispose();
    const before = bufferPool.reused;
    const outs = Array.from({ length: 4 }, () => tf.tidy(() => tf.relu(tf.relu(x))));
    assert.ok(bufferPool.reused > before, 'no buffer was reused');
    assert.deepEqual(kept, copy, 'a read-out array was overwritten');
    tf.dispose([x, ...outs]);
  });

  it("wires the addon's trimMalloc as the pool's trimHeap", () => {
    assert.ok(bufferPool.trimHeap, 'the native backend did not set trimHeap');
    bufferPool.trimHeap();
  });

  it("frees an evicted buffer at once through the addon's releaseBuffer (its views become empty)", () => {
    const pool = new BufferPool(true, 1 << 30, 0);
    pool.discard = bufferPool.discard;
    assert.ok(pool.discard, 'the native backend did not set discard');
    const a = pool.take(N);
    pool.written(a);
    pool.released(a);
    pool.take(N * 2);
    assert.equal(a.length, 0);
    assert.equal(a.buffer.byteLength, 0);
  });

  it('training steps give the same bits with and without reuse (and eviction at slack 0)', () => {
    const evictedBefore = bufferPool.evicted;
    const slack = bufferPool.slackBytes;
    const run = (enabled: boolean) => {
      bufferPool.enabled = enabled;
      bufferPool.slackBytes = 0;
      try {
        const model = createModel('resnet26_demo', {}, { seed: 3 });
        const step = makeTrainStep(model, { labelSmoothing: 0.1 });
        const x = randTensor([8, 28, 28, 1], 4) as tf.Tensor4D;
        const labels = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
        const losses = [0.1, 0.05, 0.02].map((lr) => step.run(x, labels, lr));
        const weights = model.getWeights().map((w) => w.dataSync().slice());
        step.optimizer.dispose();
        model.dispose();
        tf.dispose([x, labels]);
        return { losses, weights };
      } finally {
        bufferPool.enabled = true;
        bufferPool.slackBytes = slack;
      }
    };
    const on = run(true);
    assert.ok(bufferPool.evicted > evictedBefore, 'no buffer was evicted during training');
    const off = run(false);
    assert.deepEqual(on.losses, off.losses);
    on.weights.forEach((w, i) => {
      assert.deepEqual(w, off.weights[i], `weight ${i}`);
    });
  });
});
