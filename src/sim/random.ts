// A small seeded PRNG (mulberry32) so a simulator run is reproducible from its seed and request order.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** A fresh 32-bit seed drawn from this source, for an independent child source. */
  seed(): number;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int(min, max) {
      const lo = Math.ceil(Math.min(min, max));
      const hi = Math.floor(Math.max(min, max));
      return lo + Math.floor(next() * (hi - lo + 1));
    },
    pick(items) {
      if (items.length === 0) throw new Error('pick() needs a non-empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
    normal() {
      // 1 - next() keeps the log argument in (0, 1].
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    seed: () => Math.floor(next() * 4294967296) >>> 0,
  };
}

/** Lognormal sample with the given median and 95th percentile (z(0.95) = 1.6449). */
export function sampleLognormal(random: Random, p50: number, p95: number): number {
  if (p50 <= 0) return 0;
  const sigma = p95 > p50 ? Math.log(p95 / p50) / 1.6448536 : 0;
  const value = Math.exp(Math.log(p50) + sigma * random.normal());
  // Cap the tail so one unlucky draw cannot stall a demo for minutes.
  return Math.min(value, Math.max(p95, p50) * 4);
}
