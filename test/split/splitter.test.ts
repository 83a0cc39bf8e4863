import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { createSplitter, stickyPoint } from '../../src/split/index.js';
import type { ArmName } from '../../src/plan/plan.js';

const greenShare = (arms: ArmName[]) => arms.filter((arm) => arm === 'green').length / arms.length;

describe('createSplitter', () => {
  it('sends everything to blue at weight 0 and to green at weight 1, keyed or not', () => {
    const splitter = createSplitter(1, createRandom(1));
    for (let i = 0; i < 5000; i++) {
      expect(splitter.choose(0)).toBe('blue');
      expect(splitter.choose(0, `user-${i}`)).toBe('blue');
      expect(splitter.choose(1)).toBe('green');
      expect(splitter.choose(1, `user-${i}`)).toBe('green');
    }
  });

  it('clamps weights outside 0..1 and treats NaN as 0', () => {
    const splitter = createSplitter(1, createRandom(1));
    expect(splitter.choose(-0.5)).toBe('blue');
    expect(splitter.choose(Number.NaN)).toBe('blue');
    expect(splitter.choose(1.5)).toBe('green');
  });

  it('sends about the weight to green without a key', () => {
    const splitter = createSplitter(3, createRandom(3));
    const arms = Array.from({ length: 20_000 }, () => splitter.choose(0.25));
    // 3 sigma of a binomial(20000, 0.25) share is about 0.0092.
    expect(Math.abs(greenShare(arms) - 0.25)).toBeLessThan(0.01);
  });

  it('sends about the weight to green across many sticky keys', () => {
    const splitter = createSplitter(3, createRandom(3));
    const arms = Array.from({ length: 20_000 }, (_, i) => splitter.choose(0.25, `conv-${i}`));
    expect(Math.abs(greenShare(arms) - 0.25)).toBeLessThan(0.015);
  });

  it('repeats the same sequence from the same seed', () => {
    const run = (seed: number) => {
      const splitter = createSplitter(seed, createRandom(seed));
      return Array.from({ length: 500 }, (_, i) => splitter.choose(0.4, i % 3 === 0 ? `user-${i}` : undefined));
    };
    expect(run(11)).toEqual(run(11));
    expect(run(11)).not.toEqual(run(12));
  });

  it('keeps a sticky key on one arm within a weight, whatever the random draws', () => {
    const splitter = createSplitter(5, createRandom(5));
    for (let user = 0; user < 200; user++) {
      const key = `user-${user}`;
      const first = splitter.choose(0.5, key);
      for (let i = 0; i < 20; i++) expect(splitter.choose(0.5, key)).toBe(first);
    }
  });

  it('agrees between two splitters with the same seed, without any shared memory', () => {
    const a = createSplitter(8, createRandom(1));
    const b = createSplitter(8, createRandom(2));
    for (let i = 0; i < 1000; i++) expect(a.choose(0.3, `c-${i}`)).toBe(b.choose(0.3, `c-${i}`));
  });

  it('never moves a user from green back to blue as the weight grows', () => {
    const splitter = createSplitter(13, createRandom(13));
    const weights = [0, 0.1, 0.25, 0.5, 0.75, 1];
    let greens = 0;
    for (let user = 0; user < 5000; user++) {
      const key = `user-${user}`;
      let reachedGreen = false;
      for (const weight of weights) {
        const arm = splitter.choose(weight, key);
        if (reachedGreen) expect(arm).toBe('green');
        reachedGreen ||= arm === 'green';
      }
      if (splitter.choose(0.1, key) === 'green') greens++;
      expect(splitter.choose(0.25, key) === 'green').toBe(stickyPoint(13, key) < 0.25);
    }
    expect(greens / 5000).toBeGreaterThan(0.08);
    expect(greens / 5000).toBeLessThan(0.12);
  });
});
