import { describe, expect, it } from 'vitest';
import { exceeds, proximity } from '../../src/analysis/index.js';

describe('exceeds and proximity', () => {
  it('is strict, and ignores float noise at the limit', () => {
    expect(exceeds(0.05, 0.05)).toBe(false);
    expect(exceeds(0.08 - 0.06, 0.02)).toBe(false);
    expect(exceeds(0.0201, 0.02)).toBe(true);
    expect(exceeds(5001, 5000)).toBe(true);
  });

  it('is figure over limit, never negative, and defined for a zero limit', () => {
    expect(proximity(0.025, 0.05)).toBe(0.5);
    expect(proximity(-0.01, 0.02)).toBe(0);
    expect(proximity(0, 0)).toBe(0);
    expect(proximity(0.01, 0)).toBe(1);
  });
});
