import { describe, expect, it } from 'vitest';
import {
  escapeControls,
  formatDuration,
  formatCount,
  formatFactor,
  formatFigure,
  formatMs,
  formatPercent,
  formatPoints,
  formatUsd,
  formatWeight,
  oneLine,
  pointsDecimals,
  usdDecimals,
} from '../../src/core/format.js';

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
    // Above 0 but too small for two decimals: its first digit, never "0.00" (which reads as none).
    expect(formatPercent(0.00003)).toBe('0.003%');
    expect(formatPercent(1e-9)).toBe('<0.0001%');
    expect(formatFactor(0.0012)).toBe('0.001x');
    expect(formatFactor(1e-7)).toBe('<0.0001x');
    expect(formatFactor(0)).toBe('0.00x');
    expect(formatFigure(5, 'count')).toBe('5');
    expect(formatFigure(0.05, 'ratio')).toBe('5.0%');
  });
});

describe('one formatting for every reporter', () => {
  it('reads missing figures as a dash', () => {
    expect(formatPercent(null)).toBe('-');
    expect(formatMs(undefined)).toBe('-');
    expect(formatUsd(Number.NaN)).toBe('-');
  });

  it('takes fixed digits when asked, and formats weights, money and durations', () => {
    expect(formatPercent(0.005, 1)).toBe('0.5%');
    expect(formatWeight(0.125)).toBe('12.5%');
    // Rounded to "0%" and "100%" they read as none and all: blue (or green) would look drained.
    expect([formatWeight(0), formatWeight(0.0004), formatWeight(0.9996), formatWeight(1)]).toEqual(['0%', '<0.1%', '>99.9%', '100%']);
    expect(formatUsd(0.004)).toBe('$0.0040');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(3_720_000)).toBe('1h02m');
  });

  // Found in session 22: "+0.40pt / +3.0pt" on one line, "$0.0040" above "$0.17" in one column.
  it('gives figures read together one number of decimals: the most any of them needs alone', () => {
    expect(pointsDecimals(0.07)).toBe(1);
    expect(pointsDecimals(0.004, 0.03, -0.0012, 0.034)).toBe(2);
    expect(pointsDecimals(0, null, undefined)).toBe(1);
    const points = pointsDecimals(0.004, 0.03);
    expect([0.004, 0.03].map((diff) => formatPoints(diff, points))).toEqual(['+0.40', '+3.00']);
    // A cost keeps two significant digits under 10 cents, up to 4 decimals; a column takes its most precise.
    expect([0.17, 0.1, 0.012, 0.004, 12.5].map((usd) => formatUsd(usd))).toEqual(['$0.17', '$0.10', '$0.012', '$0.0040', '$12.50']);
    const usd = usdDecimals(0.17, 0.004, null, 0, 12.5);
    expect(usd).toBe(4);
    expect([0.17, 0.004, 0, 12.5].map((cost) => formatUsd(cost, usd))).toEqual(['$0.1700', '$0.0040', '$0', '$12.5000']);
    // Never "$0.0000" for a cost above nothing.
    expect(formatUsd(0.00004)).toBe('<$0.0001');
  });

  it('writes counts with thousands separators, and -0 as 0', () => {
    expect(formatCount(9779)).toBe('9,779');
    expect(formatCount(-1200)).toBe('-1,200');
    expect(formatCount(-0)).toBe('0');
    expect(formatCount(0)).toBe('0');
  });
});

describe('text from outside, made safe to print', () => {
  it('turns terminal escapes and bidirectional overrides (Trojan Source) into spaces in one line', () => {
    expect(oneLine('lb \u001b[31mdown\u001b[0m: \u202eevil\u2066x\u2069 a\u2028b', 80)).toBe('lb [31mdown [0m: evil x a b');
  });

  it('shows them escaped in text quoted whole, so the reader sees what was there', () => {
    expect(escapeControls('key\u202e\u001b')).toBe('key\\u202e\\u001b');
    // Right-to-left letters and an emoji's joiner are text, not controls.
    expect(escapeControls('עברית 👩‍💻')).toBe('עברית 👩‍💻');
  });
});
