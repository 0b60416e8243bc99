/**
 * Bounded concurrency for async data pipelines: `prefetch` runs a producer a few items ahead of its
 * consumer, `mapLimited` maps with at most a few calls pending. Order is preserved and errors reach the
 * consumer at the item that failed.
 */

/**
 * The items of `source`, produced up to `ahead` items before the consumer asks for them (0: on demand).
 * The source's `next()` calls are made one after another, never concurrently, so a stateful producer sees
 * the same sequence as without prefetch; an error is thrown when the consumer reaches the failed item.
 * When the consumer stops early, the source is returned (its `finally` blocks run) once the items in
 * flight have settled.
 */
export async function* prefetch<T>(source: AsyncIterable<T>, ahead: number): AsyncGenerator<T> {
  if (!(Number.isInteger(ahead) && ahead >= 0)) throw new Error(`prefetch: ahead must be an integer ≥ 0, got ${ahead}`);
  const it = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<T>>[] = [];
  let tail: Promise<unknown> = Promise.resolve();
  let done = false;
  const schedule = () => {
    const p = tail.then(() => it.next());
    p.catch(() => {}); // surfaced when awaited; an abandoned prefetch is not an unhandled rejection
    queue.push(p);
    tail = p.then(
      (r) => {
        if (r.done) done = true;
      },
      () => {
        done = true;
      },
    );
  };
  try {
    while (true) {
      while (queue.length < ahead + 1 && !done) schedule();
      const next = queue.shift();
      if (next === undefined) return;
      const r = await next;
      if (r.done) return;
      while (queue.length < ahead && !done) schedule();
      yield r.value;
    }
  } finally {
    if (queue.length > 0 || !done) {
      await tail.catch(() => {});
      await it.return?.();
    }
  }
}

/** Promise.all(items.map(fn)) with at most `limit` calls of `fn` pending; results in the order of `items`. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!(Number.isInteger(limit) && limit > 0))
    throw new Error(`mapLimited: limit must be a positive integer, got ${limit}`);
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
