/**
 * Options of the local self-attention op and their validation (SASA.md §1).
 * Errors name the argument and the shapes at fault.
 */

export type LogitsMode = 'qk+qr' | 'qr' | 'qk';
export type PaddingMode = 'zeros' | 'masked';

export interface LocalAttentionOptions {
  /** Side k of the k×k memory block; odd, 1 to 31. */
  kernelSize: number;
  /** Number of heads N; the channels C must be divisible by N. */
  heads: number;
  /** Multiplier of q: a number, 'none' (1), or omitted for (C/N)^-0.5. */
  scale?: number | 'none';
  /** Keys and values outside the image: zero vectors inside the softmax ('zeros'), or excluded ('masked'). */
  padding?: PaddingMode;
  /** Which logits: q·k + q·r (default), q·r only (no keys), or q·k only (no relative embeddings). */
  logits?: LogitsMode;
}

/** Everything the kernels need, resolved to plain numbers and flags. */
export interface AttentionGeometry {
  batch: number;
  height: number;
  width: number;
  channels: number;
  kernelSize: number;
  heads: number;
  scale: number;
  masked: boolean;
  useQK: boolean;
  useQR: boolean;
}

/** The largest memory block the kernels take (the native ones keep a window row in registers). */
export const MAX_KERNEL_SIZE = 31;

export const LOGITS_MODES: readonly LogitsMode[] = ['qk+qr', 'qr', 'qk'];
export const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'masked'];

const OP = 'localAttention2d';

function fail(message: string): never {
  throw new Error(`${OP}: ${message}`);
}

const fmt = (shape: readonly number[] | null | undefined) => (shape ? `[${shape.join(',')}]` : 'none');

export interface InputShapes {
  q: readonly number[];
  k: readonly number[] | null;
  v: readonly number[];
  relRow: readonly number[] | null;
  relCol: readonly number[] | null;
}

/** Checks shapes and options; returns the resolved geometry. */
export function resolveGeometry(shapes: InputShapes, options: LocalAttentionOptions): AttentionGeometry {
  const { q, k, v, relRow, relCol } = shapes;
  const logits = options.logits ?? 'qk+qr';
  const padding = options.padding ?? 'zeros';
  if (!LOGITS_MODES.includes(logits)) fail(`options.logits must be one of ${LOGITS_MODES.join(', ')}, got '${logits}'`);
  if (!PADDING_MODES.includes(padding))
    fail(`options.padding must be one of ${PADDING_MODES.join(', ')}, got '${padding}'`);
  const ks = options.kernelSize;
  if (!Number.isInteger(ks) || ks < 1 || ks % 2 === 0 || ks > MAX_KERNEL_SIZE) {
    fail(`options.kernelSize must be an odd integer from 1 to ${MAX_KERNEL_SIZE}, got ${ks}`);
  }
  const heads = options.heads;
  if (!Number.isInteger(heads) || heads < 1) fail(`options.heads must be a positive integer, got ${heads}`);
  if (q.length !== 4) fail(`q must be [B, H, W, C], got ${fmt(q)}`);
  const [batch, height, width, channels] = q;
  if (q.some((d) => d < 1)) fail(`q ${fmt(q)} must not be empty`);
  if (v.length !== 4 || v.some((d, i) => d !== q[i])) fail(`v ${fmt(v)} must have the shape of q ${fmt(q)}`);
  const useQK = logits !== 'qr';
  const useQR = logits !== 'qk';
  if (useQK && (k?.length !== 4 || k.some((d, i) => d !== q[i]))) {
    fail(`k ${fmt(k)} must have the shape of q ${fmt(q)} when logits is '${logits}'`);
  }
  if (!useQK && k) fail(`k must be null when logits is 'qr' (there are no keys), got ${fmt(k)}`);
  if (!useQR && (relRow || relCol)) {
    fail(`relRow and relCol must be null when logits is 'qk', got ${fmt(relRow)} and ${fmt(relCol)}`);
  }
  if (channels % heads !== 0) fail(`channels ${channels} of q ${fmt(q)} must be divisible by heads ${heads}`);
  if (useQR) {
    if (channels % 2 !== 0) {
      fail(
        `channels ${channels} of q ${fmt(q)} must be even: relative embeddings split them into row and column halves`,
      );
    }
    for (const [name, t] of [
      ['relRow', relRow],
      ['relCol', relCol],
    ] as const) {
      if (t?.length !== 2 || t[0] !== ks || t[1] !== channels / 2) {
        fail(`${name} ${fmt(t)} must be [kernelSize, C/2] = [${ks},${channels / 2}] when logits is '${logits}'`);
      }
    }
  }
  let scale: number;
  if (options.scale === undefined) scale = (channels / heads) ** -0.5;
  else if (options.scale === 'none') scale = 1;
  else if (typeof options.scale === 'number' && Number.isFinite(options.scale)) scale = options.scale;
  else fail(`options.scale must be a finite number or 'none', got ${String(options.scale)}`);
  return { batch, height, width, channels, kernelSize: ks, heads, scale, masked: padding === 'masked', useQK, useQR };
}
