// Seeded randomness and hashing for the split, the traffic sources and the simulator: a run is reproducible
// from its seed. Not for anything secret.

/** A uniform source in [0, 1). */
export type RandomSource = () => number;

/** mulberry32: tiny, fast and good enough for traffic shaping. */
export function createRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh 32-bit seed drawn from a source. */
export function childSeed(random: RandomSource): number {
  return Math.floor(random() * 4294967296) >>> 0;
}

/** A new independent source seeded from another, so async consumers do not perturb the parent's sequence. */
export function childRandom(random: RandomSource): RandomSource {
  return createRandom(childSeed(random));
}

/** Uniform integer between min and max, both included (either order; fractions rounded inwards). */
export function randomInt(random: RandomSource, min: number, max: number): number {
  const lo = Math.ceil(Math.min(min, max));
  const hi = Math.floor(Math.max(min, max));
  return lo + Math.floor(random() * (hi - lo + 1));
}

/** One element of a non-empty list. */
export function pick<T>(random: RandomSource, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick() needs a non-empty list');
  return items[Math.floor(random() * items.length)] as T;
}

/** Standard normal (Box-Muller). */
export function normal(random: RandomSource): number {
  // 1 - random() keeps the log argument in (0, 1].
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** murmur3's finaliser: FNV-1a alone spreads similar keys (user-1, user-2 ...) poorly over the high bits. */
function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a 32-bit over UTF-16 code units, seeded and finalised; an unsigned 32-bit integer. */
export function hashString(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ fmix32(seed)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}
