import { describe, expect, it } from 'vitest';
import { childRandom, createRandom, hashString, pick, randomInt } from '../../src/core/random.js';

describe('createRandom', () => {
  it('is reproducible from its seed and differs between seeds', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const seqA = Array.from({ length: 50 }, a);
    expect(Array.from({ length: 50 }, b)).toEqual(seqA);
    expect(Array.from({ length: 50 }, c)).not.toEqual(seqA);
  });

  it('stays in [0, 1) with a mean near one half', () => {
    const random = createRandom(1);
    const values = Array.from({ length: 20_000 }, random);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(values.reduce((sum, value) => sum + value, 0) / values.length).toBeCloseTo(0.5, 1);
  });

  it('gives children their own sequence', () => {
    const parent = createRandom(5);
    const child = childRandom(parent);
    expect(child()).not.toBe(parent());
  });

  it('draws integers and elements within bounds', () => {
    const random = createRandom(9);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(randomInt(random, 1, 5));
    expect([...seen].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(['a', 'b']).toContain(pick(random, ['a', 'b']));
    expect(() => pick(random, [])).toThrow(/non-empty/);
  });
});

describe('hashString', () => {
  it('is a stable unsigned 32-bit value that depends on key and seed', () => {
    const h = hashString('user-1', 7);
    expect(h).toBe(hashString('user-1', 7));
    expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    expect(hashString('user-2', 7)).not.toBe(h);
    expect(hashString('user-1', 8)).not.toBe(h);
  });

  it('spreads similar keys evenly', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const bucket = Math.floor((hashString(`user-${i}`, 1) / 2 ** 32) * 10);
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    for (const count of buckets) expect(count).toBeGreaterThan(850);
  });
});
