/**
 * One generated shapes image: a textured background, then objects drawn one over another — circles,
 * squares, triangles and stars in saturated colours, each of a COCO size class — and their boxes.
 *
 * Sizes: each object draws a size class (small, medium, large with probabilities SIZE_CLASS_WEIGHTS), then
 * the square root of its box area uniformly in that class's SIDE_RANGES (large capped at 0.6 × the image
 * side; a class whose range does not fit is not drawn), so the box area w × h lies in COCO's class
 * (small < 32², medium < 96², large ≥ 96²) with a margin.
 *
 * Occlusion: an object owns the pixels it covers by at least half, until a later object covers them. A new
 * object is placed only where every earlier object keeps at least MIN_VISIBLE (40 %) of its own pixels; up
 * to PLACEMENT_TRIES positions are tried, else the object is left out. So every drawn object is annotated,
 * with the box of the whole object (hidden parts included), and none is hidden by more than 60 %.
 */
import type { CocoBox, CocoCategory } from '../../coco/instances.js';
import { BACKGROUND_KINDS, type BackgroundKind, drawBackground, hsv } from './background.js';
import { extent, type Geometry, type Mask, rasterize } from './raster.js';

/** The generator's categories (COCO ids 1..4). */
export const SHAPE_CATEGORIES: readonly CocoCategory[] = [
  { id: 1, name: 'circle', supercategory: 'shape' },
  { id: 2, name: 'square', supercategory: 'shape' },
  { id: 3, name: 'triangle', supercategory: 'shape' },
  { id: 4, name: 'star', supercategory: 'shape' },
];

/** COCO's object size classes by box area: small < 32², medium < 96², large ≥ 96² (pixels²). */
export type SizeClass = 'small' | 'medium' | 'large';
/** √(box area) ranges per size class, in pixels (COCO: small < 32, medium < 96, large ≥ 96). */
export const SIDE_RANGES: Record<SizeClass, [number, number]> = { small: [8, 30], medium: [34, 94], large: [98, 160] };
export const SIZE_CLASS_WEIGHTS: Record<SizeClass, number> = { small: 0.4, medium: 0.35, large: 0.25 };
/** Largest √(box area) as a fraction of the image side. */
export const MAX_SIDE_FRACTION = 0.6;
/** The fraction of its pixels every object keeps visible. */
export const MIN_VISIBLE = 0.4;
export const PLACEMENT_TRIES = 10;
/** Objects tried per image: uniform in this range (inclusive). */
export const OBJECTS_PER_IMAGE: [number, number] = [3, 9];
/** Per-pixel grain over the finished image: ± this many levels. */
export const GRAIN = 8;

/** One drawn object: its category id, full box (x, y, w, h), box area, colour and the fraction left visible. */
export interface SceneObject {
  categoryId: number;
  bbox: CocoBox;
  area: number;
  /** RGB in [0, 255] before the grain. */
  colour: [number, number, number];
  visible: number;
}

/**
 * One generated image ({@link renderScene}): its size in pixels, its RGB bytes, its background and its
 * objects in drawing order.
 */
export interface Scene {
  width: number;
  height: number;
  /** [height, width, 3] RGB bytes. */
  rgb: Uint8Array;
  background: BackgroundKind;
  objects: SceneObject[];
}

/** The size classes an image of side `size` can hold, with their √area ranges. */
export function sideRanges(size: number): Partial<Record<SizeClass, [number, number]>> {
  const cap = Math.floor(MAX_SIDE_FRACTION * size);
  const out: Partial<Record<SizeClass, [number, number]>> = {};
  for (const k of Object.keys(SIDE_RANGES) as SizeClass[]) {
    const [lo, hi] = SIDE_RANGES[k];
    if (lo <= cap) out[k] = [lo, Math.min(hi, cap)];
  }
  return out;
}

function pickSide(ranges: Partial<Record<SizeClass, [number, number]>>, random: () => number): number {
  const classes = Object.keys(ranges) as SizeClass[];
  const total = classes.reduce((s, k) => s + SIZE_CLASS_WEIGHTS[k], 0);
  let u = random() * total;
  let chosen = classes[classes.length - 1];
  for (const k of classes) {
    u -= SIZE_CLASS_WEIGHTS[k];
    if (u < 0) {
      chosen = k;
      break;
    }
  }
  const [lo, hi] = ranges[chosen] as [number, number];
  return lo + random() * (hi - lo);
}

/** Polygon of `n` vertices at radii `radii` (cycled) around (0, 0), starting at angle `rotation`. */
function radial(n: number, radii: number[], rotation: number): number[] {
  const p: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = rotation + (2 * Math.PI * i) / n;
    const r = radii[i % radii.length];
    p.push(r * Math.cos(a), r * Math.sin(a));
  }
  return p;
}

/** The category's shape around (0, 0), of circumradius about 1, in a random pose. */
function unitShape(categoryId: number, random: () => number): Geometry {
  switch (categoryId) {
    case 1:
      return { kind: 'circle', cx: 0, cy: 0, r: 1 };
    case 2:
      return { kind: 'polygon', points: radial(4, [1], Math.PI / 4 + (random() - 0.5) * 0.9) };
    case 3:
      return {
        kind: 'polygon',
        points: radial(3, [1, 0.8 + 0.2 * random(), 0.8 + 0.2 * random()], random() * 2 * Math.PI),
      };
    default:
      return { kind: 'polygon', points: radial(10, [1, 0.38 + 0.14 * random()], random() * 2 * Math.PI) };
  }
}

/** `g` scaled by `k` and moved by (dx, dy). */
function place(g: Geometry, k: number, dx: number, dy: number): Geometry {
  if (g.kind === 'circle') return { kind: 'circle', cx: k * g.cx + dx, cy: k * g.cy + dy, r: k * g.r };
  return { kind: 'polygon', points: g.points.map((v, i) => k * v + (i % 2 === 0 ? dx : dy)) };
}

/** The shape's box on a 0.01-pixel grid, rounded outwards: [x, y, w, h] with x + w, y + h the rounded ends. */
function cocoBox(shape: Geometry): CocoBox {
  const [x1, y1, x2, y2] = extent(shape);
  const [l, t, r, b] = [Math.floor(x1 * 100), Math.floor(y1 * 100), Math.ceil(x2 * 100), Math.ceil(y2 * 100)];
  return [l / 100, t / 100, (r - l) / 100, (b - t) / 100];
}

/** Which object owns each pixel (covers it by at least half, drawn last), and how many each owns. */
class Occupancy {
  private readonly owner: Int32Array;
  private readonly pixels: number[] = [];
  private readonly visible: number[] = [];

  constructor(private readonly size: number) {
    this.owner = new Int32Array(size * size).fill(-1);
  }

  /**
   * Gives the mask's pixels to a new object if it owns any and every earlier object keeps at least
   * MIN_VISIBLE of its pixels; returns false (and changes nothing) otherwise.
   */
  claim(mask: Mask): boolean {
    const lost = new Map<number, number>();
    let own = 0;
    forOwned(mask, this.size, (i) => {
      own++;
      if (this.owner[i] >= 0) lost.set(this.owner[i], (lost.get(this.owner[i]) ?? 0) + 1);
    });
    if (own === 0 || [...lost].some(([o, n]) => this.visible[o] - n < MIN_VISIBLE * this.pixels[o])) return false;
    for (const [o, n] of lost) this.visible[o] -= n;
    const id = this.pixels.length;
    forOwned(mask, this.size, (i) => {
      this.owner[i] = id;
    });
    this.pixels.push(own);
    this.visible.push(own);
    return true;
  }

  /** The fraction of object `i`'s pixels nobody covers. */
  visibleFraction(i: number): number {
    return this.visible[i] / this.pixels[i];
  }
}

/** Draws the scene of `size` × `size` pixels that `random` determines. */
export function renderScene(size: number, random: () => number): Scene {
  if (!(Number.isInteger(size) && size >= 16)) {
    throw new Error(`shapes: image size must be an integer ≥ 16, got ${size}`);
  }
  const ranges = sideRanges(size);
  const canvas = new Float32Array(size * size * 3);
  const background = BACKGROUND_KINDS[Math.floor(random() * BACKGROUND_KINDS.length)];
  drawBackground(canvas, size, size, background, random);
  const occupancy = new Occupancy(size);
  const objects: SceneObject[] = [];
  const [fewest, most] = OBJECTS_PER_IMAGE;
  const tries = fewest + Math.floor(random() * (most - fewest + 1));
  for (let t = 0; t < tries; t++) {
    const categoryId = SHAPE_CATEGORIES[Math.floor(random() * SHAPE_CATEGORIES.length)].id;
    const unit = unitShape(categoryId, random);
    const [ux1, uy1, ux2, uy2] = extent(unit);
    const k = pickSide(ranges, random) / Math.sqrt((ux2 - ux1) * (uy2 - uy1));
    const colour = hsv(random(), 0.55 + 0.45 * random(), 0.55 + 0.45 * random());
    for (let attempt = 0; attempt < PLACEMENT_TRIES; attempt++) {
      const dx = -k * ux1 + random() * (size - k * (ux2 - ux1));
      const dy = -k * uy1 + random() * (size - k * (uy2 - uy1));
      const shape = place(unit, k, dx, dy);
      const mask = rasterize(shape, size, size);
      if (!occupancy.claim(mask)) continue;
      composite(canvas, size, mask, colour);
      const bbox = cocoBox(shape);
      objects.push({ categoryId, bbox, area: Math.round(bbox[2] * bbox[3] * 1e4) / 1e4, colour, visible: 1 });
      break;
    }
  }
  objects.forEach((o, i) => {
    o.visible = occupancy.visibleFraction(i);
  });
  return { width: size, height: size, rgb: quantise(canvas, random), background, objects };
}

/** Calls `fn(pixel index)` for each pixel the mask covers by at least half. */
function forOwned(mask: Mask, size: number, fn: (i: number) => void) {
  for (let r = 0; r < mask.height; r++) {
    for (let c = 0; c < mask.width; c++)
      if (mask.cover[r * mask.width + c] >= 0.5) fn((mask.top + r) * size + mask.left + c);
  }
}

/** canvas ← (1 − coverage) · canvas + coverage · colour, over the mask's window. */
function composite(canvas: Float32Array, size: number, mask: Mask, colour: number[]) {
  for (let r = 0; r < mask.height; r++) {
    for (let c = 0; c < mask.width; c++) {
      const a = mask.cover[r * mask.width + c];
      if (a === 0) continue;
      const p = 3 * ((mask.top + r) * size + mask.left + c);
      for (let ch = 0; ch < 3; ch++) canvas[p + ch] += a * (colour[ch] - canvas[p + ch]);
    }
  }
}

/**
 * Bytes of the canvas with grain: round(v + GRAIN · u) clamped to [0, 255], u uniform in [−1, 1), one u per
 * pixel (the same for its three channels), from an xorshift32 stream seeded by `random` (fast: 65 536
 * draws for a 256² image).
 */
function quantise(canvas: Float32Array, random: () => number): Uint8Array {
  const out = new Uint8Array(canvas.length);
  let state = Math.floor(random() * 0xffffffff) | 1;
  for (let i = 0; i < canvas.length; i += 3) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const g = GRAIN * ((state >>> 0) / 2147483648 - 1);
    for (let ch = 0; ch < 3; ch++) out[i + ch] = Math.max(0, Math.min(255, Math.round(canvas[i + ch] + g)));
  }
  return out;
}

/** COCO's size class of an area: small < 32², medium < 96², else large. */
export function sizeClassOf(area: number): SizeClass {
  return area < 32 * 32 ? 'small' : area < 96 * 96 ? 'medium' : 'large';
}
