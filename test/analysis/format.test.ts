import { describe, expect, it } from 'vitest';
import { exceeds, formatFactor, formatFigure, formatMs, formatPercent, formatPoints, proximity } from '../../src/analysis/index.js';

describe('formatting', () => {
  it('formats percentages, points, durations and factors', () => {
    expect(formatPercent(0.312)).toBe('31.2%');
    expect(formatPercent(0)).toBe('0.0%');
    expect(formatPercent(0.005)).toBe('0.50%');
    expect(formatPoints(0.07)).toBe('+7.0');
    expect(formatPoints(-0.02)).toBe('-2.0');
    expect(formatMs(6200)).toBe('6.20s');
    expect(formatMs(950)).toBe('950ms');
    expect(formatMs(999.7)).toBe('1.00s');
    expect(formatMs(0.42)).toBe('0.4ms');
    expect(formatFactor(3.1)).toBe('3.10x');
    expect(formatFigure(5, 'count')).toBe('5');
    expect(formatFigure(0.05, 'ratio')).toBe('5.0%');
  });
});

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
