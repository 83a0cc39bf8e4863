import { describe, expect, it } from 'vitest';
import { barCells, clockDuration, compactCount, compactMs, compactPercent, compactUsd, fit, sparkline } from '../../../src/report/ink/cells.js';

describe('fixed-width cells', () => {
  it('pads or cuts to the exact width', () => {
    expect(fit('ab', 5)).toBe('ab   ');
    expect(fit('ab', 5, 'right')).toBe('   ab');
    expect(fit('abcdefgh', 5, 'right')).toBe('abcd…');
  });

  it('pads a wide character by the columns it takes', () => {
    expect(fit('🚀', 3)).toBe('🚀 ');
    expect(fit('日本語', 5, 'right')).toBe('日本…');
  });

  it('splits bars by fraction, clamped', () => {
    expect(barCells(0.25, 8)).toEqual({ full: 2, empty: 6 });
    expect(barCells(6.2, 10)).toEqual({ full: 10, empty: 0 });
    expect(barCells(-1, 4)).toEqual({ full: 0, empty: 4 });
    expect(barCells(Number.NaN, 4)).toEqual({ full: 0, empty: 4 });
  });

  it('draws a sparkline scaled to the limit, keeping the last points', () => {
    expect(sparkline([0, 0.025, 0.05, 0.5], 0.05, 10)).toBe('▁▅██');
    expect(sparkline([0, 0, 0], 0.05, 2)).toBe('▁▁');
    expect(sparkline([1, 2, 4], 0, 3)).toBe('▃▅█');
    expect(sparkline([], 0.05, 3)).toBe('');
  });

  it('keeps numbers inside their columns', () => {
    expect([0, 12, 9779, 123_456, 1_977_066, 250_000_000].map(compactCount)).toEqual(['0', '12', '9,779', '123k', '1.98M', '250M']);
    expect([-0, -0.4, 12.6].map(compactCount)).toEqual(['0', '0', '13']);
    expect([null, 0, 0.005, 0.123, 0.9999, 1].map(compactPercent)).toEqual(['-', '0.0%', '0.5%', '12.3%', '100%', '100%']);
    expect([null, 845.2, 999.6, 1464.3, 12_345, 125_000].map(compactMs)).toEqual(['-', '845ms', '1.00s', '1.46s', '12.3s', '125s']);
    expect([0, 0.0001, 0.0123, 0.1715, 12.345, 123.45, 4321].map((usd) => compactUsd(usd))).toEqual([
      '$0',
      '<$.001',
      '$0.012',
      '$0.17',
      '$12.35',
      '$123.5',
      '$4.3k',
    ]);
    for (const text of [compactMs(99_940), compactUsd(9.999), compactUsd(99.999), compactPercent(0.99949)]) expect(text.length).toBeLessThanOrEqual(6);
  });

  it('formats elapsed time as a clock', () => {
    expect(clockDuration(7_400)).toBe('0:07');
    expect(clockDuration(754_000)).toBe('12:34');
    expect(clockDuration(3_723_000)).toBe('1:02:03');
    expect(clockDuration(-5)).toBe('0:00');
  });
});
