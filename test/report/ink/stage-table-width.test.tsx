// The stage table within an 80-column terminal whatever the stage count (loose19: 100+ stages made it 80-81
// columns, its last cost cut, and an error count of 1,000+ read "9,9…" in its 4-column cell).
import { describe, expect, it } from 'vitest';
import { stageTableLines } from '../../../src/report/ink/stage-table.js';
import { lineText } from '../../../src/report/ink/view-types.js';
import { compactCountNarrow } from '../../../src/report/ink/cells.js';
import { arm, progressingSnapshot } from './fixtures.js';
import { renderView } from './frames.js';

/** `count` stages with five-figure counts and four-figure costs (the widest cells), the last one current. */
function stages(count: number) {
  const snapshot = progressingSnapshot();
  const stage = { ...snapshot.stages[0]!, arms: { blue: arm(123_456, 9_999, 123_456, 1234.5), green: arm(99_999, 9_999, 99_999, 999.99) } };
  return { ...snapshot, stages: Array.from({ length: count }, (_, index) => ({ ...stage, index })), stageIndex: count - 1 };
}

describe('the stage table at 80 columns', () => {
  it.each([5, 10, 100, 1000, 10_000])('%i stages: every line within 80 columns, no cell cut', (count) => {
    const lines = stageTableLines(stages(count), 5, 80).map(lineText);
    for (const line of lines) {
      expect([...line].length, line).toBeLessThanOrEqual(80);
      expect(line).not.toContain('…');
    }
    // The current stage's row ends with green's whole cost.
    expect(lines.at(-1)).toMatch(new RegExp(`^▶${count} .* 9999 .*\\$1\\.0k$`));
    if (count > 5) expect(lines[0]).toContain(`-${count} of ${count}`);
  });

  it('keeps the wide gap between the arms while it fits', () => {
    expect(lineText(stageTableLines(stages(5), 5, 80)[1]!)).toMatch(/verdict {4}req/);
    expect(lineText(stageTableLines(stages(1000), 5, 80)[1]!)).toMatch(/verdict {3}req/);
    expect(lineText(stageTableLines(stages(1000), 5, 100)[1]!)).toMatch(/verdict {4}req/);
  });

  it('drawn by Ink in an 80-column terminal: no line wider, with 1,000 stages', () => {
    const { frame } = renderView(stages(1000), { columns: 80, rows: 30 });
    for (const line of frame.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(80);
    expect(frame).toMatch(/▶1000 .*\$1\.0k/);
  });

  it('error counts fit four columns', () => {
    expect([0, 999, 9_999, 12_345, 999_999, 1_977_066, 12_000_000, 2_500_000_000].map(compactCountNarrow)).toEqual([
      '0',
      '999',
      '9999',
      '12k',
      '1.0M',
      '2.0M',
      '12M',
      '2.5G',
    ]);
  });
});

describe('the stage table at 60-79 columns', () => {
  it('leaves out errors, then cost, then p95 (the status table rule) rather than cut a cell; headers over figures', () => {
    const headers = new Map<number, string>();
    for (let width = 60; width < 80; width++) {
      const lines = stageTableLines(stages(5), 5, width).map(lineText);
      for (const line of lines) {
        expect([...line].length, line).toBeLessThanOrEqual(width);
        expect(line).not.toContain('…');
      }
      const header = lines[1]!;
      // Each label ends where the figures under it end (right-aligned), in both arms.
      for (const label of ['req', 'err%', 'p95', 'cost']) {
        for (let at = header.indexOf(` ${label}`); at >= 0; at = header.indexOf(` ${label}`, at + 1)) {
          const end = at + 1 + label.length;
          for (const row of lines.slice(2)) expect([row[end - 1] !== ' ', row[end] ?? ' '], `${width}: ${label}\n${header}\n${row}`).toEqual([true, ' ']);
        }
      }
      headers.set(width, header.replace(/ +/g, ' ').trim());
    }
    expect(headers.get(79)).toBe('# green verdict req err err% p95 cost req err err% p95 cost');
    expect(headers.get(76)).toBe('# green verdict req err err% p95 cost req err err% p95 cost');
    expect(headers.get(75)).toBe('# green verdict req err% p95 cost req err% p95 cost');
    expect(headers.get(66)).toBe('# green verdict req err% p95 cost req err% p95 cost');
    // p95 stays: the dashboard's arms fit 60 columns without it going too.
    expect(headers.get(65)).toBe('# green verdict req err% p95 req err% p95');
    expect(headers.get(60)).toBe('# green verdict req err% p95 req err% p95');
  });
});
