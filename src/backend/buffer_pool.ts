/**
 * Reuse of native kernels' output buffers. tfjs's CPU backend gives every output a fresh
 * Float32Array and lets V8's garbage collector free it: a resnet26 training step allocates ~2 GB
 * that way, and V8 answers the external-memory pressure with ~60 collections per step (~14 % of
 * the step measured with --trace-gc). Instead, a buffer that a native kernel allocated
 * (`outputBuffer`) returns to a free list when tfjs disposes its tensor, and the next output of the
 * same size takes it.
 *
 * Only buffers that never escaped are reused: one is dropped from the pool's care, for good, when
 * its values are read out (readSync/read hand the array itself to the caller) or when a second
 * tensor's values share its memory (a view or the same array written twice). Buffers under
 * MIN_POOLED elements are ordinary small arrays and are not pooled.
 *
 * Budget: free buffers of sizes not asked for at the time held 227 MB at the peak of a RetinaNet
 * training step. So owned + free bytes (owned: the pool's buffers that are tensors' values) may pass
 * the most ever owned by at most a slack: a fresh allocation past that lets go of the free buffers
 * released longest ago, and `discard` (the addon's releaseBuffer) hands their memory back to malloc
 * at once rather than at V8's next collection. The peak is then about the most bytes ever live.
 * That costs time where sizes vary from one kernel to the next (fresh pages: a sasa_resnet26 training
 * step ~20 % slower), so the slack is unbounded by default and a RetinaNet training step, whose memory is
 * the constraint, sets it to 0 (keepPoolWithinPeak). SASA_BUFFER_POOL=0 turns reuse off;
 * SASA_BUFFER_POOL_MB caps the bytes kept free (default 2048); SASA_BUFFER_POOL_SLACK_MB sets the slack
 * for every task (Infinity keeps every free buffer).
 */

/** Outputs smaller than this many elements are plain `new Float32Array(n)` (zeroed, V8 heap). */
export const MIN_POOLED = 16384;

type State = 'fresh' | 'live';

export class BufferPool {
  /** Free buffers by length, each list oldest release first. */
  private readonly free = new Map<number, Float32Array[]>();
  /** When each free buffer was released (a counter), to evict the longest unused first. */
  private readonly releasedAt = new Map<Float32Array, number>();
  private releases = 0;
  /** Buffers this pool may reuse: 'fresh' (not yet a tensor's values) or 'live' (one tensor's). */
  private readonly owned = new WeakMap<ArrayBufferLike, State>();
  private freeBytes = 0;
  /** Bytes of the buffers in the pool's care that are not free ('fresh' or 'live'). */
  private ownedBytes = 0;
  /** The most ownedBytes has been. */
  private ownedPeak = 0;
  /** Buffers handed out again, for tests and benchmarks. */
  reused = 0;
  /** Free buffers let go of to stay within the budget or the limit, for tests and benchmarks. */
  evicted = 0;
  /** Frees a buffer's memory now (the addon's releaseBuffer); absent, a buffer let go of waits for V8's GC. */
  discard?: (buffer: ArrayBuffer) => void;
  /** Returns the heap's free pages to the OS (the addon's trimMalloc); absent, nothing. */
  trimHeap?: () => void;

  /**
   * enabled: whether new buffers are taken into the pool's care (switchable, for comparisons);
   * limitBytes: the most free bytes kept; slackBytes: how far owned + free bytes may pass ownedPeak.
   */
  constructor(
    public enabled: boolean,
    readonly limitBytes: number,
    public slackBytes = Number.POSITIVE_INFINITY,
  ) {}

  /** A Float32Array of n elements for a kernel to fill completely (contents undefined). */
  take(n: number): Float32Array {
    if (n < MIN_POOLED) return new Float32Array(n);
    const recycled = this.enabled ? this.free.get(n)?.pop() : undefined;
    if (recycled) {
      this.freeBytes -= recycled.byteLength;
      this.ownedBytes += recycled.byteLength;
      this.releasedAt.delete(recycled);
      this.owned.set(recycled.buffer, 'fresh');
      this.reused++;
      return recycled;
    }
    // Fresh, uninitialised, unpooled memory: zero-filling what the kernel overwrites costs as much
    // as a small kernel.
    const bytes = Buffer.allocUnsafeSlow(n * 4);
    const a = new Float32Array(bytes.buffer, bytes.byteOffset, n);
    if (this.enabled && bytes.byteOffset === 0 && bytes.buffer.byteLength === n * 4) {
      this.owned.set(a.buffer, 'fresh');
      this.ownedBytes += a.byteLength;
      this.ownedPeak = Math.max(this.ownedPeak, this.ownedBytes);
      this.evictDownTo(this.ownedPeak + this.slackBytes - this.ownedBytes);
    }
    return a;
  }

  /** `values` became a tensor's: the first time for a fresh buffer; any other time, it is shared. */
  written(values: unknown): void {
    const buffer = bufferOf(values);
    if (!buffer) return;
    const state = this.owned.get(buffer);
    if (state === 'fresh' && isWhole(values as Float32Array)) this.owned.set(buffer, 'live');
    else if (state !== undefined) this.forget(buffer);
  }

  /** `values` were handed out of the backend: never reuse them. */
  escaped(values: unknown): void {
    const buffer = bufferOf(values);
    if (buffer && this.owned.has(buffer)) this.forget(buffer);
  }

  /** The tensor holding `values` was disposed: keep its buffer for the next output of its size. */
  released(values: unknown): void {
    const buffer = bufferOf(values);
    if (!buffer || this.owned.get(buffer) !== 'live') return;
    this.forget(buffer);
    const a = values as Float32Array;
    this.freeBytes += a.byteLength;
    this.releasedAt.set(a, this.releases++);
    const list = this.free.get(a.length);
    if (list) list.push(a);
    else this.free.set(a.length, [a]);
    this.evictDownTo(this.limitBytes);
  }

  /** A kernel's scratch buffer from take(), never a tensor's and no longer used: reuse it. */
  recycle(a: Float32Array): void {
    if (this.owned.get(a.buffer) !== 'fresh') return;
    this.owned.set(a.buffer, 'live');
    this.released(a);
  }

  /** Bytes held for reuse. */
  get heldBytes(): number {
    return this.freeBytes;
  }

  /** The buffer leaves the pool's care (it stays its tensor's, or becomes free). */
  private forget(buffer: ArrayBufferLike): void {
    this.owned.delete(buffer);
    this.ownedBytes -= buffer.byteLength;
  }

  /** Lets go of the longest unused free buffers until at most `bytes` are free. */
  private evictDownTo(bytes: number): void {
    while (this.freeBytes > Math.max(0, bytes)) {
      const a = this.oldestFree();
      if (!a) return;
      this.releasedAt.delete(a);
      this.freeBytes -= a.byteLength;
      this.evicted++;
      this.discard?.(a.buffer as ArrayBuffer);
    }
  }

  /** Removes and returns the free buffer released longest ago. */
  private oldestFree(): Float32Array | undefined {
    let oldest: Float32Array[] | undefined;
    let oldestAt = Number.POSITIVE_INFINITY;
    for (const list of this.free.values()) {
      const at = list.length > 0 ? (this.releasedAt.get(list[0]) ?? 0) : oldestAt;
      if (at < oldestAt) [oldest, oldestAt] = [list, at];
    }
    return oldest?.shift();
  }
}

function bufferOf(values: unknown): ArrayBufferLike | undefined {
  return values instanceof Float32Array ? values.buffer : undefined;
}

function isWhole(a: Float32Array): boolean {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
}

const limitMb = Number(process.env.SASA_BUFFER_POOL_MB ?? 2048);
const slackMb = Number(process.env.SASA_BUFFER_POOL_SLACK_MB ?? Number.POSITIVE_INFINITY);

/** The process's pool, shared by the native kernels and the native backend. */
export const bufferPool = new BufferPool(
  process.env.SASA_BUFFER_POOL !== '0',
  (Number.isFinite(limitMb) && limitMb >= 0 ? limitMb : 2048) * 1024 * 1024,
  (Number.isNaN(slackMb) ? Number.POSITIVE_INFINITY : Math.max(slackMb, 0)) * 1024 * 1024,
);

/**
 * For work whose peak memory is the constraint (a RetinaNet training step): the pool's buffers, in use and
 * free, stay within the most ever in use (slack 0), unless SASA_BUFFER_POOL_SLACK_MB chose a slack.
 */
export function keepPoolWithinPeak(): void {
  if (process.env.SASA_BUFFER_POOL_SLACK_MB === undefined) bufferPool.slackBytes = 0;
}

/**
 * At the point of a step where the most memory is live (before a RetinaNet step's update), when the pool keeps
 * within its peak: returns the heap's free pages to the OS, so that free memory between live blocks does not
 * add to the process's peak.
 */
export function trimHeapWithinPeak(): void {
  if (bufferPool.slackBytes === 0) bufferPool.trimHeap?.();
}
