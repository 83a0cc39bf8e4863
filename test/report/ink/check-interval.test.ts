// The dashboard's check lines carry each rule's interval (its confidence said once, in the title), and undecided
// rules read as open, not ok.
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/analysis/index.js';
import { emptyArmStats } from '../../../src/metrics/types.js';
import { checkColumns, checkInterval, checkLine, checkSectionLines, checksTitle, checkStatusText } from '../../../src/report/ink/check-lines.js';
import { waitingCount } from '../../../src/report/check-value.js';
import { clip, lineText } from '../../../src/report/ink/view-types.js';
import { loadTestPlan } from '../outcome/fixtures.js';
import { progressingSnapshot } from './fixtures.js';

describe('dashboard check lines', () => {
  const plan = loadTestPlan();
  const green = { ...emptyArmStats(), requests: 60, successes: 57, failures: 3 };
  const blue = { ...emptyArmStats(), requests: 500, successes: 499, failures: 1 };
  const { checks } = evaluate({ stageIndex: 0, stageCount: 5, green, blue, config: plan.analysis });
  const errorRate = checks.find((c) => c.rule === 'error_rate')!;
  const compare = checks.find((c) => c.rule === 'compare_to_blue.max_error_rate_increase')!;
  // A latency rule is judged as the share of requests over its limit: its interval is that share's.
  const latency = {
    ...errorRate,
    rule: 'latency_p95' as const,
    unit: 'ms' as const,
    figure: 512,
    limit: 3000,
    sample: 1234,
    evidence: { ...errorRate.evidence!, lower: 0.012, upper: 0.061, overMs: 3000 },
  };

  it('shows the interval after the sample, in points for comparisons, without its confidence', () => {
    expect(checkInterval(errorRate)).toMatch(/^[\d.]+–[\d.]+%$/);
    expect(checkInterval(compare)).toMatch(/^-[\d.]+ to \+[\d.]+pt$/);
    expect(checkInterval(latency)).toMatch(/^[\d.]+–[\d.]+% over$/);
    expect(lineText(checkLine(errorRate))).toMatch(/n=60 {2}[\d.]+–[\d.]+%$/);
  });

  it('says the confidence once, in the title, with room left for the trend at 80 columns', () => {
    const snapshot = { ...progressingSnapshot(), checks: [errorRate, compare] };
    const title = lineText(checksTitle(snapshot, 80));
    expect(title).toMatch(/^checks · green, stage 3\/5 · bounds 99\.93% sure {3}errors, last 10s \S{8,} [\d.]+%$/);
    expect(title.length).toBeLessThanOrEqual(80);
    expect(lineText(checksTitle(snapshot, 120))).toContain('bounds 99.93% sure   error rate, last 10s ');
    expect(lineText(checksTitle({ ...snapshot, checks: [] }, 80))).not.toContain('intervals');
  });

  it('fits a latency line at 80 columns whole: "over" is never cut to leave a bare percent', () => {
    const line = lineText(checkLine(latency, 80));
    expect(line.length).toBeLessThanOrEqual(80);
    expect(line).toMatch(/n=1234 {2}1\.2–6\.1% over$/);
    // Too narrow for the interval: it is left out whole, never cut.
    const narrow = lineText(checkLine(latency, 66));
    expect(narrow).toMatch(/n=1234$/);
    expect(narrow).not.toContain('…');
  });

  it("keeps a comparison's interval at 80 columns: the proximity bar narrows, the same for every check", () => {
    const snapshot = { ...progressingSnapshot(), checks: [errorRate, compare] };
    const at80 = checkSectionLines(snapshot, 80).slice(1, 3).map(lineText);
    expect(at80[1]).toMatch(/^ {2}error rate vs blue .* n=60\/500 {2}-[\d.]+ to \+[\d.]+pt$/);
    expect(at80[0]).toMatch(/n=60 {2}[\d.]+–[\d.]+%$/);
    for (const line of at80) expect(line.length).toBeLessThanOrEqual(80);
    // One bar width for all: the status words line up.
    expect(new Set(at80.map((line) => line.search(/ (near\?|over\?|open|ok|near|BREACH) /))).size).toBe(1);
    // With room, the bar is its full 10 cells.
    const at120 = checkSectionLines(snapshot, 120).slice(1, 3).map(lineText);
    expect(at120.every((line) => /[█·]{10} /.test(line))).toBe(true);
    expect(at80.every((line) => /[█·]{4,9} /.test(line))).toBe(true);
  });

  it('leaves every check its whole sample at 60 to 79 columns: the bar narrows, or goes, before "n=" is cut', () => {
    // The demo's stage 5 at 60 columns (tmux, session 27): a 7-cell bar, and "n=254/683" read "n=25…".
    const big = { ...compare, sample: 254, blueSample: 683 };
    const health = { ...errorRate, rule: 'health_check' as const, unit: 'count' as const, figure: 0, limit: 3, sample: 13, evidence: undefined };
    const snapshot = { ...progressingSnapshot(), checks: [errorRate, big, health] };
    for (let width = 60; width <= 79; width++) {
      const lines = checkSectionLines(snapshot, width).slice(1, 4).map(lineText);
      expect(lines[0], `${width}`).toMatch(/ n=60( |$)/);
      expect(lines[1], `${width}`).toMatch(/ n=254\/683( |$)/);
      expect(lines[2], `${width}`).toMatch(/ n=13$/);
      for (const line of lines) {
        expect(line.length, line).toBeLessThanOrEqual(width);
        expect(line, line).not.toContain('…');
      }
      expect(new Set(lines.map((line) => line.search(/ (near\?|over\?|open|ok|near|BREACH) /))).size).toBe(1);
    }
    // A sample that cannot fit even without the bar is left out whole, never cut.
    const huge = { ...compare, sample: 1_234_567, blueSample: 7_654_321 };
    const narrow = lineText(checkLine(huge, 56));
    expect(narrow).not.toContain('n=');
    expect(narrow.trimEnd()).toMatch(/ (near\?|over\?|open|ok|near|BREACH)$/);
  });

  it('sizes the figure columns to the widest figure a comparison can have, never cutting it', () => {
    // Under a point the limit takes two decimals, and so does the figure beside it: "+12.30pt", 8 columns.
    const wide = {
      ...compare,
      status: 'breach' as const,
      figure: 0.123,
      limit: 0.005,
      proximity: 24.6,
      evidence: { ...compare.evidence!, lower: 0.08, upper: 0.17 },
    };
    // The widest the formatter writes: a difference of two rates is at most 100 points, here with two decimals.
    const widest = { ...wide, figure: -1 };
    for (const check of [wide, widest]) {
      // Narrower than the full line the bar goes, then the label shortens ("error rate v…"): the figures stay whole.
      for (const width of [120, 80, 60, 44]) {
        const line = lineText(clip(checkLine(check, width), width));
        expect(line).toContain(` ${check === wide ? '+12.30pt' : '-100.00pt'} / +0.50pt `);
        expect(line).toContain(' BREACH ');
      }
    }
    // One width for the section: the status words still line up under a wide figure.
    const snapshot = { ...progressingSnapshot(), checks: [errorRate, widest] };
    for (const width of [120, 80]) {
      const lines = checkSectionLines(snapshot, width).slice(1, 3).map(lineText);
      expect(lines[1]).toContain('-100.00pt / +0.50pt');
      expect(new Set(lines.map((line) => line.search(/ (near\?|over\?|open|ok|near|BREACH) /))).size).toBe(1);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
    }
  });

  it('says how far along a waiting check is, towards min_requests, where the snapshot says it (tmux: "waiting n=8")', () => {
    const waiting = { ...errorRate, status: 'waiting' as const, sample: 8, proximity: null };
    // A comparison waits for both arms: the smaller count, with both in its sample.
    const blueShort = { ...compare, status: 'waiting' as const, sample: 30, blueSample: 4, proximity: null };
    const base = progressingSnapshot();
    const wide = { ...compare, sample: 254, blueSample: 683 };
    const snapshot = { ...base, plan: { ...base.plan, minRequests: 10 }, checks: [waiting, blueShort, errorRate, wide] };
    for (let width = 60; width <= 100; width++) {
      const lines = checkSectionLines(snapshot, width).slice(1, 5).map(lineText);
      expect(lines[0], `${width}`).toMatch(/ waiting (\(8\/10\))( |$)/);
      // Its own count says the sample: no "n=8" beside it.
      expect(lines[0]).not.toContain('n=');
      expect(lines[1], `${width}`).toMatch(/ waiting (\(4\/10\)) n=30\/4( |$)/);
      // In the sample's place: the other lines keep theirs, and the status words stay in line.
      expect(lines[3], `${width}`).toMatch(/ n=254\/683( |$)/);
      expect(new Set(lines.map((line) => line.search(/ (waiting|near\?|over\?|open|ok|near|BREACH) /))).size).toBe(1);
      for (const line of lines) {
        expect(line.length, line).toBeLessThanOrEqual(width);
        expect(line, line).not.toContain('…');
      }
    }
    // Reached, with no figure yet: the count is not what it waits for.
    expect(waitingCount({ ...waiting, sample: 12 }, 10)).toBeUndefined();
    expect(lineText(checkLine({ ...waiting, sample: 12 }, 100, checkColumns([waiting], 100, 10)))).toMatch(/ waiting n=12( |$)/);
    // A state.json from before min_requests was recorded: the word alone, the sample beside it.
    expect(lineText(checkSectionLines({ ...snapshot, plan: base.plan }, 100)[1] ?? [])).toMatch(/ waiting n=8 /);
  });

  it('says open (or near?, or over?) for an undecided rule', () => {
    expect(errorRate.status).toBe('undecided');
    expect(checkStatusText(errorRate)).toBe('near?');
    expect(checkStatusText({ ...errorRate, proximity: 0.1 })).toBe('open');
    // Past the limit but not yet shown over it (blue's sample small, say): "near?" read as short of it.
    expect(checkStatusText({ ...compare, status: 'undecided', figure: 0.282, proximity: 5.6 })).toBe('over?');
    expect(checkStatusText({ ...errorRate, figure: errorRate.limit })).toBe('near?');
  });
});
