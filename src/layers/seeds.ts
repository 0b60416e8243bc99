/**
 * Seeds for weight initialisers. tfjs's initialisers take a `seed` (and draw from Math.random
 * without one); one seeded initialiser applied to two weights of one shape would give both the
 * same values, so every weight gets its own seed, derived from its layer's seed and its name, and
 * every layer its own, derived from the model's seed and the layer's name.
 */

/** A 32-bit seed from a seed and a key: FNV-1a over the key's characters, then murmur3's finaliser. */
export function deriveSeed(seed: number, key: string): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Initialiser options seeding weight `name` of a layer seeded with `seed` (none when it is unseeded). */
export function seedOf(seed: number | undefined, name: string): { seed?: number } {
  return seed === undefined ? {} : { seed: deriveSeed(seed, name) };
}
