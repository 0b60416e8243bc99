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
 * MIN_POOLED elements are ordinary small arrays and are not pooled. SASA_BUFFER_POOL=0 turns reuse
 * off; SASA_BUFFER_POOL_MB caps the bytes kept free (default 2048).
 */

/** Outputs smaller than this many elements are plain `new Float32Array(n)` (zeroed, V8 heap). */
export const MIN_POOLED = 16384;

type State = 'fresh' | 'live';

export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  /** Buffers this pool may reuse: 'fresh' (not yet a tensor's values) or 'live' (one tensor's). */
  private readonly owned = new WeakMap<ArrayBufferLike, State>();
  private freeBytes = 0;
  /** Buffers handed out again, for tests and benchmarks. */
  reused = 0;

  /** enabled: whether new buffers are taken into the pool's care (switchable, for comparisons). */
  constructor(
    public enabled: boolean,
    readonly limitBytes: number,
  ) {}

  /** A Float32Array of n elements for a kernel to fill completely (contents undefined). */
  take(n: number): Float32Array {
    if (n < MIN_POOLED) return new Float32Array(n);
    const list = this.free.get(n);
    const recycled = this.enabled ? list?.pop() : undefined;
    if (recycled) {
      this.freeBytes -= recycled.byteLength;
      this.owned.set(recycled.buffer, 'fresh');
      this.reused++;
      return recycled;
    }
    // Fresh, uninitialised, unpooled memory: zero-filling what the kernel overwrites costs as much
    // as a small kernel.
    const bytes = Buffer.allocUnsafeSlow(n * 4);
    const a = new Float32Array(bytes.buffer, bytes.byteOffset, n);
    if (this.enabled && bytes.byteOffset === 0 && bytes.buffer.byteLength === n * 4) this.owned.set(a.buffer, 'fresh');
    return a;
  }

  /** `values` became a tensor's: the first time for a fresh buffer; any other time, it is shared. */
  written(values: unknown): void {
    const buffer = bufferOf(values);
    if (!buffer) return;
    const state = this.owned.get(buffer);
    if (state === 'fresh' && isWhole(values as Float32Array)) this.owned.set(buffer, 'live');
    else if (state !== undefined) this.owned.delete(buffer);
  }

  /** `values` were handed out of the backend: never reuse them. */
  escaped(values: unknown): void {
    const buffer = bufferOf(values);
    if (buffer) this.owned.delete(buffer);
  }

  /** The tensor holding `values` was disposed: keep its buffer for the next output of its size. */
  released(values: unknown): void {
    const buffer = bufferOf(values);
    if (!buffer || this.owned.get(buffer) !== 'live') return;
    this.owned.delete(buffer);
    const a = values as Float32Array;
    if (this.freeBytes + a.byteLength > this.limitBytes) return;
    this.freeBytes += a.byteLength;
    const list = this.free.get(a.length);
    if (list) list.push(a);
    else this.free.set(a.length, [a]);
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
}

function bufferOf(values: unknown): ArrayBufferLike | undefined {
  return values instanceof Float32Array ? values.buffer : undefined;
}

function isWhole(a: Float32Array): boolean {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
}

const limitMb = Number(process.env.SASA_BUFFER_POOL_MB ?? 2048);

/** The process's pool, shared by the native kernels and the native backend. */
export const bufferPool = new BufferPool(
  process.env.SASA_BUFFER_POOL !== '0',
  (Number.isFinite(limitMb) && limitMb >= 0 ? limitMb : 2048) * 1024 * 1024,
);
