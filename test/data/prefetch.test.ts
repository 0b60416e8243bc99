/** prefetch: order kept, at most `ahead` items produced before they are asked for, errors at their item, early stop. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapLimited, prefetch } from '../../src/data/prefetch.js';

/** A source of 0..n−1 that records how many items it has produced, and whether its finally ran. */
function counting(n: number, failAt = -1) {
  const state = { produced: 0, closed: false, concurrent: 0, maxConcurrent: 0 };
  async function* gen() {
    try {
      for (let i = 0; i < n; i++) {
        state.concurrent++;
        state.maxConcurrent = Math.max(state.maxConcurrent, state.concurrent);
        await new Promise((r) => setTimeout(r, 1));
        state.concurrent--;
        if (i === failAt) throw new Error(`item ${i} failed`);
        state.produced++;
        yield i;
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, source: gen() };
}

describe('prefetch', () => {
  it('keeps the order and runs at most `ahead` items ahead of the consumer', async () => {
    for (const ahead of [0, 1, 3]) {
      const { state, source } = counting(8);
      const got: number[] = [];
      for await (const v of prefetch(source, ahead)) {
        await new Promise((r) => setTimeout(r, 15)); // a slow consumer: the producer fills the window
        got.push(v);
        assert.ok(state.produced <= got.length + ahead, `ahead ${ahead}: ${state.produced} produced at ${got.length}`);
      }
      assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7]);
      assert.equal(state.maxConcurrent, 1, 'the source is never asked twice at once');
    }
  });

  it('fills the window while the consumer is busy', async () => {
    const { state, source } = counting(8);
    const it = prefetch(source, 3);
    await it.next();
    const deadline = Date.now() + 5000;
    while (state.produced < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(state.produced, 4, 'the item in hand and 3 ahead, no more');
    await it.return(undefined);
  });

  it('throws at the item that failed, after the ones before it', async () => {
    const { state, source } = counting(6, 3);
    const got: number[] = [];
    await assert.rejects(async () => {
      for await (const v of prefetch(source, 2)) got.push(v);
    }, /item 3 failed/);
    assert.deepEqual(got, [0, 1, 2]);
    assert.ok(state.closed);
  });

  it('closes the source when the consumer stops early', async () => {
    const { state, source } = counting(100);
    for await (const v of prefetch(source, 2)) if (v === 1) break;
    assert.ok(state.closed);
    assert.ok(state.produced <= 4, `${state.produced} produced`);
  });

  it('refuses a negative window', async () => {
    await assert.rejects(prefetch(counting(1).source, -1).next(), /ahead must be an integer ≥ 0, got -1/);
  });
});

describe('mapLimited', () => {
  it('maps in order with at most `limit` calls pending', async () => {
    let pending = 0;
    let most = 0;
    const out = await mapLimited([5, 1, 4, 2, 3], 2, async (v, i) => {
      most = Math.max(most, ++pending);
      await new Promise((r) => setTimeout(r, v));
      pending--;
      return v * 10 + i;
    });
    assert.deepEqual(out, [50, 11, 42, 23, 34]);
    assert.equal(most, 2);
  });
});
