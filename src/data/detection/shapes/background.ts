/**
 * Textured backgrounds for the shapes images, drawn into an RGB canvas [height, width, 3] of values in
 * [0, 255]: smooth value noise, a linear gradient or soft stripes between two muted colours.
 */

export const BACKGROUND_KINDS = ['noise', 'gradient', 'stripes'] as const;
export type BackgroundKind = (typeof BACKGROUND_KINDS)[number];

/** RGB in [0, 255] of hue h ∈ [0, 1), saturation s and value v ∈ [0, 1]. */
export function hsv(h: number, s: number, v: number): [number, number, number] {
  const k = (n: number) => (n + h * 6) % 6;
  const f = (n: number) => v - v * s * Math.max(0, Math.min(k(n), 4 - k(n), 1));
  return [255 * f(5), 255 * f(3), 255 * f(1)];
}

/** A muted colour (low saturation), so the saturated shapes stand out. */
function mutedColour(random: () => number): [number, number, number] {
  return hsv(random(), 0.05 + 0.4 * random(), 0.25 + 0.6 * random());
}

/** Value noise in [0, 1] at (x, y): a random lattice of spacing `cell`, interpolated with smoothstep. */
function valueNoise(width: number, height: number, cell: number, random: () => number): Float32Array {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const lattice = Float32Array.from({ length: gw * gh }, () => random());
  const out = new Float32Array(width * height);
  const smooth = (t: number) => t * t * (3 - 2 * t);
  for (let y = 0; y < height; y++) {
    const gy = y / cell;
    const iy = Math.floor(gy);
    const ty = smooth(gy - iy);
    for (let x = 0; x < width; x++) {
      const gx = x / cell;
      const ix = Math.floor(gx);
      const tx = smooth(gx - ix);
      const a = lattice[iy * gw + ix] + tx * (lattice[iy * gw + ix + 1] - lattice[iy * gw + ix]);
      const b = lattice[(iy + 1) * gw + ix] + tx * (lattice[(iy + 1) * gw + ix + 1] - lattice[(iy + 1) * gw + ix]);
      out[y * width + x] = a + ty * (b - a);
    }
  }
  return out;
}

/** Per pixel, the mix t ∈ [0, 1] between the two colours. */
function mixField(kind: BackgroundKind, width: number, height: number, random: () => number): Float32Array {
  if (kind === 'noise') return valueNoise(width, height, 12 + Math.floor(random() * 40), random);
  const angle = random() * Math.PI;
  const ux = Math.cos(angle);
  const uy = Math.sin(angle);
  const out = new Float32Array(width * height);
  const span = Math.abs(ux) * width + Math.abs(uy) * height;
  const offset = Math.min(0, ux * width) + Math.min(0, uy * height);
  const period = 6 + random() * 30;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const d = x * ux + y * uy;
      out[y * width + x] =
        kind === 'gradient' ? (d - offset) / span : 0.5 + 0.5 * Math.tanh(3 * Math.sin((2 * Math.PI * d) / period));
    }
  }
  return out;
}

/** Fills `canvas` [height, width, 3] with a background of `kind`. */
export function drawBackground(
  canvas: Float32Array,
  width: number,
  height: number,
  kind: BackgroundKind,
  random: () => number,
): void {
  const a = mutedColour(random);
  const b = mutedColour(random);
  const t = mixField(kind, width, height, random);
  for (let i = 0; i < width * height; i++) {
    for (let ch = 0; ch < 3; ch++) canvas[3 * i + ch] = a[ch] + t[i] * (b[ch] - a[ch]);
  }
}
