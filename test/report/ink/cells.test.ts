import { describe, expect, it } from 'vitest';
import {
  barCells,
  clockDuration,
  compactCount,
  compactMs,
  compactPercent,
  compactUsd,
  fit,
  sparkline,
  textWidth,
  truncate,
  wrap,
  wrapsWhole,
} from '../../../src/report/ink/cells.js';

describe('fixed-width cells', () => {
  it('truncates with an ellipsis and pads to the exact width', () => {
    expect(truncate('gpt-4o-2024-08-06', 8)).toBe('gpt-4o-…');
    expect(truncate('short', 8)).toBe('short');
    expect(fit('ab', 5)).toBe('ab   ');
    expect(fit('ab', 5, 'right')).toBe('   ab');
    expect(fit('abcdefgh', 5, 'right')).toBe('abcd…');
  });

  it('counts and cuts by code point, so a character outside the BMP is one column, never half of one', () => {
    expect(textWidth('model 🚀 x')).toBe(9);
    expect(textWidth('█░▁…')).toBe(4);
    expect(truncate('🚀🚀🚀🚀', 3)).toBe('🚀🚀…');
    expect(fit('🚀', 3)).toBe('🚀  ');
    expect(truncate('abc', 0)).toBe('');
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
    expect([null, 0, 0.005, 0.123, 0.9999, 1].map(compactPercent)).toEqual(['-', '0.0%', '0.5%', '12.3%', '100%', '100%']);
    expect([null, 845.2, 999.6, 1464.3, 12_345, 125_000].map(compactMs)).toEqual(['-', '845ms', '1.00s', '1.46s', '12.3s', '125s']);
    expect([0, 0.0001, 0.0123, 0.1715, 12.345, 123.45, 4321].map(compactUsd)).toEqual(['$0', '<$.001', '$0.012', '$0.172', '$12.35', '$123.5', '$4.3k']);
    for (const text of [compactMs(99_940), compactUsd(9.999), compactUsd(99.999), compactPercent(0.99949)]) expect(text.length).toBeLessThanOrEqual(6);
  });

  it('formats elapsed time as a clock', () => {
    expect(clockDuration(7_400)).toBe('0:07');
    expect(clockDuration(754_000)).toBe('12:34');
    expect(clockDuration(3_723_000)).toBe('1:02:03');
    expect(clockDuration(-5)).toBe('0:00');
  });

  it('wraps words and cuts the last allowed line', () => {
    expect(wrap('green error_rate 31.2% > 5.0% over 48 requests', 20, 3)).toEqual(['green error_rate', '31.2% > 5.0% over 48', 'requests']);
    expect(wrap('one two three four five six', 9, 2)).toEqual(['one two', 'three fo…']);
    // Whether it showed every word whole: the dashboard then points at the whole text elsewhere.
    expect(wrapsWhole('one two three', 9, 2)).toBe(true);
    expect(wrapsWhole('one two three four five six', 9, 2)).toBe(false);
    expect(wrapsWhole('http://127.0.0.1:8788/admin/route', 9, 2)).toBe(false);
    expect(wrapsWhole('one  two\nthree', 9, 2)).toBe(true);
  });
});
