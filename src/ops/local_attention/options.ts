/**
 * Local self-attention's options (SASA.md §1), in one place: their types, defaults and limits, and
 * the checks every user of them runs — the op (`resolveGeometry`), the layer and the model config
 * (`resolveAttentionOptions`). Each check returns what is wrong with a value, so that the caller's
 * error names its own field (`options.kernelSize`, `attention.kernelSize`, `--k`). The native
 * kernels keep the same limit as their last guard (native/src/attention_common.h kMaxWindow,
 * reported by the addon's info().maxKernelSize; a test checks the two agree).
 */

export const LOGITS_MODES = ['qk+qr', 'qr', 'qk'] as const;
/** Which logits: q·k + q·r, q·r only (no keys), or q·k only (no relative embeddings). */
export type LogitsMode = (typeof LOGITS_MODES)[number];
/** How windows reaching past the border are treated: 'zeros' (zero keys and values) or 'masked' (left out of the softmax). */
export const PADDING_MODES = ['zeros', 'masked'] as const;
/** Keys and values outside the image: zero vectors inside the softmax ('zeros'), or excluded ('masked'). */
export type PaddingMode = (typeof PADDING_MODES)[number];
/** The positional encodings: 'relative' (learned row/column tables), 'absolute' (sinusoidal, added to x), 'none'. */
export const POSITIONAL_ENCODINGS = ['relative', 'absolute', 'none'] as const;
/** Learned relative embeddings, a sinusoidal absolute encoding added to the input, or none. */
export type PositionalEncoding = (typeof POSITIONAL_ENCODINGS)[number];

/** The largest memory block the kernels take (the native ones keep a window row in registers). */
export const MAX_KERNEL_SIZE = 31;

/** Defaults of a local self-attention layer (the paper's k = 7 and 8 heads). */
export const ATTENTION_DEFAULTS = {
  kernelSize: 7,
  heads: 8,
  positional: 'relative',
  logits: 'qk+qr',
  padding: 'zeros',
} as const satisfies {
  kernelSize: number;
  heads: number;
  positional: PositionalEncoding;
  logits: LogitsMode;
  padding: PaddingMode;
};

/** The logits a positional encoding implies when none are given: 'qk+qr' with relative embeddings, else 'qk'. */
export const defaultLogits = (positional: PositionalEncoding): LogitsMode =>
  positional === 'relative' ? ATTENTION_DEFAULTS.logits : 'qk';

const oneOfProblem = (modes: readonly string[], v: unknown) =>
  typeof v === 'string' && modes.includes(v) ? undefined : `must be one of ${modes.join(', ')}, got '${String(v)}'`;

/** What is wrong with a kernel size k (undefined: nothing): an odd integer from 1 to MAX_KERNEL_SIZE. */
export function kernelSizeProblem(k: unknown): string | undefined {
  const ok = typeof k === 'number' && Number.isInteger(k) && k >= 1 && k % 2 === 1 && k <= MAX_KERNEL_SIZE;
  return ok ? undefined : `must be an odd integer from 1 to ${MAX_KERNEL_SIZE}, got ${String(k)}`;
}

/** What is wrong with a head count (undefined: nothing). */
export function headsProblem(heads: unknown): string | undefined {
  const ok = typeof heads === 'number' && Number.isInteger(heads) && heads >= 1;
  return ok ? undefined : `must be a positive integer, got ${String(heads)}`;
}

export const logitsProblem = (v: unknown) => oneOfProblem(LOGITS_MODES, v);
export const paddingProblem = (v: unknown) => oneOfProblem(PADDING_MODES, v);
export const positionalProblem = (v: unknown) => oneOfProblem(POSITIONAL_ENCODINGS, v);

/** The factor q is scaled by: (C/N)^-0.5 when omitted, 1 for 'none', else the number. */
export function effectiveScale(channels: number, heads: number, scale: number | 'none' | undefined): number {
  return scale === undefined ? (channels / heads) ** -0.5 : scale === 'none' ? 1 : scale;
}

/** What is wrong with a scale (undefined: nothing): a finite number, 'none' or omitted. */
export function scaleProblem(scale: unknown): string | undefined {
  const ok = scale === undefined || scale === 'none' || (typeof scale === 'number' && Number.isFinite(scale));
  return ok ? undefined : `must be a finite number or 'none', got ${String(scale)}`;
}

/** The options of a local self-attention layer (and of a model config's `attention`). */
export interface AttentionLayerOptions {
  /** Side k of the k×k memory block; odd, 1 to MAX_KERNEL_SIZE. Default 7. */
  kernelSize?: number;
  /** Heads; the layer's channels must be divisible by them. Default 8. */
  heads?: number;
  /** Default 'relative'. */
  positional?: PositionalEncoding;
  /** Default 'qk+qr' with relative positions; 'qk' (the only choice) with absolute or none. */
  logits?: LogitsMode;
  /** Default 'zeros'. */
  padding?: PaddingMode;
  /** Multiplier of q: a number, 'none' (1), or omitted for (C/N)^-0.5. */
  scale?: number | 'none';
}

/**
 * Attention options with every default filled in ({@link ATTENTION_DEFAULTS}; logits from the positional
 * encoding) and checked; `scale` stays optional: omitted means (C/N)^-0.5.
 */
export type ResolvedAttentionOptions = Required<Omit<AttentionLayerOptions, 'scale'>> &
  Pick<AttentionLayerOptions, 'scale'>;

/**
 * Fills in the defaults and checks the options; `fail(field, problem)` throws an error that names
 * the caller's field (the field is the option's name, e.g. 'kernelSize').
 */
export function resolveAttentionOptions(
  o: AttentionLayerOptions,
  fail: (field: keyof AttentionLayerOptions, problem: string) => never,
): ResolvedAttentionOptions {
  const positional = o.positional ?? ATTENTION_DEFAULTS.positional;
  const r: ResolvedAttentionOptions = {
    kernelSize: o.kernelSize ?? ATTENTION_DEFAULTS.kernelSize,
    heads: o.heads ?? ATTENTION_DEFAULTS.heads,
    positional,
    logits: o.logits ?? defaultLogits(positional),
    padding: o.padding ?? ATTENTION_DEFAULTS.padding,
    ...(o.scale === undefined ? {} : { scale: o.scale }),
  };
  const problems: [keyof AttentionLayerOptions, string | undefined][] = [
    ['kernelSize', kernelSizeProblem(r.kernelSize)],
    ['heads', headsProblem(r.heads)],
    ['positional', positionalProblem(r.positional)],
    ['logits', logitsProblem(r.logits)],
    ['padding', paddingProblem(r.padding)],
    ['scale', scaleProblem(r.scale)],
  ];
  for (const [field, problem] of problems) if (problem) fail(field, problem);
  if (positional !== 'relative' && r.logits !== 'qk') {
    fail('logits', `'${r.logits}' needs positional 'relative' (with '${positional}' the logits are 'qk')`);
  }
  return r;
}

/** The options of the op: the memory block, the heads and how the logits are formed. */
export interface LocalAttentionOptions {
  /** Side k of the k×k memory block; odd, 1 to MAX_KERNEL_SIZE. */
  kernelSize: number;
  /** Number of heads N; the channels C must be divisible by N. */
  heads: number;
  /** Multiplier of q: a number, 'none' (1), or omitted for (C/N)^-0.5. */
  scale?: number | 'none';
  /** Default 'zeros'. */
  padding?: PaddingMode;
  /** Default 'qk+qr'. */
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
  const logits = options.logits ?? ATTENTION_DEFAULTS.logits;
  const padding = options.padding ?? ATTENTION_DEFAULTS.padding;
  const ks = options.kernelSize;
  const heads = options.heads;
  const problems: [string, string | undefined][] = [
    ['logits', logitsProblem(logits)],
    ['padding', paddingProblem(padding)],
    ['kernelSize', kernelSizeProblem(ks)],
    ['heads', headsProblem(heads)],
    ['scale', scaleProblem(options.scale)],
  ];
  for (const [field, problem] of problems) if (problem) fail(`options.${field} ${problem}`);
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
  const scale = effectiveScale(channels, heads, options.scale);
  return { batch, height, width, channels, kernelSize: ks, heads, scale, masked: padding === 'masked', useQK, useQR };
}

export type KernelShapes = Record<'q' | 'k' | 'v' | 'relRow' | 'relCol', readonly number[]>;

/** The shapes of the kernel inputs named q, k, v, relRow, relCol. */
export function kernelShapes(inputs: Record<string, { shape: readonly number[] }>): KernelShapes {
  const { q, k, v, relRow, relCol } = inputs;
  return { q: q.shape, k: k.shape, v: v.shape, relRow: relRow.shape, relCol: relCol.shape };
}

/**
 * The geometry of a kernel call, whose inputs are all present: an unused one (k for logits 'qr',
 * the tables for 'qk') travels as an empty [0] tensor. Attributes carry the resolved scale.
 */
export function kernelGeometry(shapes: KernelShapes, attrs: LocalAttentionOptions): AttentionGeometry {
  const used = (shape: readonly number[]) => (shape.length > 1 ? shape : null);
  const { q, k, v, relRow, relCol } = shapes;
  return resolveGeometry({ q, k: used(k), v, relRow: used(relRow), relCol: used(relCol) }, attrs);
}
