// Text measured in terminal columns, as ink lays it out: wide characters and emoji take two, combining marks none.
import { describe, expect, it } from 'vitest';
import { textWidth, truncate } from '../../src/report/text-width.js';

describe('textWidth', () => {
  it('counts the columns a terminal gives text, not its characters', () => {
    expect(textWidth('gpt-4o · p95 ≥ 1.2s – █░▁…─')).toBe(27);
    expect(textWidth('日本語モデル')).toBe(12);
    expect(textWidth('한국어 model')).toBe(12);
    expect(textWidth('ｶﾀｶﾅ')).toBe(4);
    expect(textWidth('model 🚀 x')).toBe(10);
    expect(textWidth('❤️ 🇯🇵 👩‍👩‍👧')).toBe(8);
    // Combining marks and zero-width characters take no column of their own.
    expect(textWidth('cafe\u0301')).toBe(4);
    expect(textWidth('a\u200Bb')).toBe(2);
    expect(textWidth('')).toBe(0);
  });
});

describe('truncate', () => {
  it('cuts to width columns with an ellipsis, never halving a wide character or parting a mark from its letter', () => {
    expect(truncate('gpt-4o-2024-08-06', 8)).toBe('gpt-4o-…');
    expect(truncate('short', 8)).toBe('short');
    expect(truncate('日本語モデル', 6)).toBe('日本…');
    expect(truncate('日本語モデル', 5)).toBe('日本…');
    expect(truncate('日本語', 6)).toBe('日本語');
    expect(truncate('🚀🚀🚀🚀', 3)).toBe('🚀…');
    expect(truncate('cafe\u0301s', 5)).toBe('cafe\u0301s');
    expect(truncate('cafe\u0301s au lait', 5)).toBe('cafe\u0301…');
    expect(truncate('abc', 0)).toBe('');
  });
});
