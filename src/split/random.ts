// Seeded randomness and hashing for the split and the traffic sources: a run is reproducible from its seed.

/** A uniform source in [0, 1). */
export type RandomSource = () => number;

/** mulberry32: tiny, fast and good enough for traffic shaping (not for anything secret). */
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

/** A new independent source seeded from another, so async consumers do not perturb the parent's sequence. */
export function childRandom(random: RandomSource): RandomSource {
  return createRandom(Math.floor(random() * 4294967296));
}

/** Uniform integer in [min, max], both included. */
export function randomInt(random: RandomSource, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** One element of a non-empty list. */
export function pick<T>(random: RandomSource, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick() needs a non-empty list');
  return items[Math.floor(random() * items.length)] as T;
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
