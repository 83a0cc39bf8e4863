// `status` text: a comparison with blue is a difference of rates, shown in points as the reports and lines show it.
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/index.js';
import { emptyArmStats } from '../../src/metrics/types.js';
import { formatChecksLine } from '../../src/report/line.js';
import { checkValue } from '../../src/report/outcome/figures.js';
import { renderStatus } from '../../src/report/status-text.js';
import { textWidth } from '../../src/report/text-width.js';
import { afterMoves, endings } from '../../src/engine/endings.js';
import { loadTestPlan, promotedSnapshot } from './outcome/fixtures.js';

/** Stage 2 judged: green failing 6.0%, blue 3.0%. */
function judgedInStage2() {
  const plan = loadTestPlan();
  const green = { ...emptyArmStats(), requests: 400, successes: 376, failures: 24 };
  const blue = { ...emptyArmStats(), requests: 1200, successes: 1164, failures: 36 };
  const { checks } = evaluate({ stageIndex: 1, stageCount: 5, green, blue, config: plan.analysis });
  return { snapshot: { ...promotedSnapshot(plan), stageIndex: 1, checks }, checks };
}

describe('renderStatus checks', () => {
  it('writes compare_to_blue figures and limits in points, like the line reporter and the reports', () => {
    const { snapshot, checks } = judgedInStage2();
    const text = renderStatus(snapshot, { alive: false, pid: 1 }, snapshot.updatedAt);
    const row = text.split('\n').find((line) => line.includes('compare_to_blue.max_error_rate_increase'));
    // green 6.0% - blue 3.0% = +3.0 points, against +2.0 points allowed.
    expect(row).toMatch(/compare_to_blue\.max_error_rate_increase +\+3\.0 points \/ \+2\.0 points /);
    expect(row).toMatch(/\(bounds [-+][\d.]+ to \+[\d.]+ points, each 99\.93% sure\)/);
    expect(text.split('\n').find((line) => line.includes(' error_rate '))).toMatch(/ 6\.0% \/ 5\.0% /);
    const compare = checks.find((check) => check.rule === 'compare_to_blue.max_error_rate_increase')!;
    expect(checkValue(compare, compare.figure)).toBe('+3.0 points');
    // Columns line up however long the rule name: every " / " at the same place.
    const rows = text.split('\n').filter((line) => / (ok|undecided|breach|waiting) \(n=/.test(line));
    expect(rows.length).toBeGreaterThan(2);
    expect(new Set(rows.map((line) => line.indexOf(' / '))).size).toBe(1);
    expect(formatChecksLine(snapshot, 0)).toContain('compare_to_blue.max_error_rate_increase +3.0 points [');
  });
});

describe('renderStatus in a terminal of 80 columns', () => {
  it('breaks long lines between words, each check going on under its status, and leaves piped text whole', () => {
    const { snapshot } = judgedInStage2();
    const whole = renderStatus(snapshot, { alive: false, pid: 1 }, snapshot.updatedAt);
    expect(whole.split('\n').some((line) => line.length > 80)).toBe(true);
    const fitted = renderStatus(snapshot, { alive: false, pid: 1 }, snapshot.updatedAt, { columns: 80 });
    expect(fitted.split('\n').every((line) => line.length <= 80)).toBe(true);
    // Nothing lost or cut mid-word: joined again, the lines read as the whole ones.
    const joined = (text: string) => text.replace(/\n +(?=\S)/g, (match) => (match.length > 3 ? ' ' : match)).replace(/ +/g, ' ');
    expect(joined(fitted)).toBe(joined(whole));
    // Its long rule names leave no room beside them at 80 columns: each check's status goes on the next line.
    const lines = fitted.split('\n');
    const row = lines.findIndex((line) => line.includes('compare_to_blue.max_error_rate_increase'));
    expect(lines[row]).toMatch(/ \+2\.0 points$/);
    expect(lines[row + 1]).toMatch(/^ {6}undecided \(n=400\) \(bounds /);
    // With room, the evidence goes on under the status word.
    const wide = renderStatus(snapshot, { alive: false, pid: 1 }, snapshot.updatedAt, { columns: 110 }).split('\n');
    const compare = wide.findIndex((line) => line.includes('compare_to_blue.max_error_rate_increase'));
    expect(wide[compare + 1]!.search(/\S/)).toBe(wide[compare]!.search(/undecided \(n=/));
    // Narrower than a check's columns (60: tmux, session 24), its figure and limit break between words too, never
    // past the terminal's edge, where it wrapped the limit to column 0.
    const narrow = renderStatus(snapshot, { alive: false, pid: 1 }, snapshot.updatedAt, { columns: 60 });
    const checks = narrow.split('\n').slice(narrow.split('\n').indexOf('  checks (green, current stage):'));
    expect(checks.every((line) => line.length <= 60)).toBe(true);
    const fromChecks = (text: string) => text.slice(text.indexOf('  checks (green'));
    expect(joined(fromChecks(narrow))).toBe(joined(fromChecks(whole)));
    // Each figure stays on one line with its limit, at every width its columns do not fit (70 read "1.30s /" over "3.00s").
    for (const columns of [50, 60, 70]) {
      const lines = renderStatus(snapshot, { alive: false, pid: 1 }, snapshot.updatedAt, { columns }).split('\n');
      const rows = lines.slice(lines.indexOf('  checks (green, current stage):') + 1);
      expect(rows.every((line) => line.length <= columns && !line.endsWith(' /') && !/^ +[\d+.]+ (points|%)?$/.test(line))).toBe(true);
      expect(rows.filter((line) => / \/ /.test(line)).length).toBe(snapshot.checks.length);
      expect(rows.some((line) => line.endsWith(' +3.0 points / +2.0 points'))).toBe(true);
    }
  });
});

describe('renderStatus stage table at 60-79 columns', () => {
  /** The stage table's lines: from its header to the blank line after it. */
  function table(columns?: number): string[] {
    const { snapshot } = judgedInStage2();
    const lines = renderStatus(snapshot, { alive: false, pid: 1 }, snapshot.updatedAt, { columns }).split('\n');
    const head = lines.findIndex((line) => line.startsWith('  stage  green'));
    return lines.slice(head, lines.indexOf('', head));
  }
  /** The column a header label ends at, and where each row's figure under it ends (right-aligned). */
  function aligned(lines: string[], label: string): boolean {
    const end = lines[0]!.indexOf(label) + label.length;
    return lines.slice(1).every((row) => row[end - 1] !== ' ' && (row[end] === undefined || row[end] === ' '));
  }

  it('fits 79 columns whole, p95 and cost headers over their figures', () => {
    const lines = table(79);
    expect(lines[0]).toMatch(/errors {2}err rate {6}p95 {6}cost$/);
    expect(lines.every((line) => line.length <= 79)).toBe(true);
    expect(lines).toEqual(table());
    for (const label of ['requests', 'errors', 'err rate', 'p95', 'cost']) expect(aligned(lines, label)).toBe(true);
  });

  it('drops errors, then cost, then p95 rather than wrap a row', () => {
    const headers = new Map<number, string>();
    for (let columns = 60; columns < 79; columns++) {
      const lines = table(columns);
      expect(lines.every((line) => line.length <= columns)).toBe(true);
      expect(lines.slice(1).every((row) => / (blue|green) /.test(row))).toBe(true);
      for (const label of ['requests', 'err rate', 'p95', 'cost'].filter((label) => lines[0]!.includes(label))) expect(aligned(lines, label)).toBe(true);
      headers.set(columns, lines[0]!.replace(/ +/g, ' ').trim());
    }
    expect(headers.get(78)).toBe('stage green verdict arm requests err rate p95 cost');
    expect(headers.get(71)).toBe('stage green verdict arm requests err rate p95 cost');
    expect(headers.get(70)).toBe('stage green verdict arm requests err rate p95');
    expect(headers.get(61)).toBe('stage green verdict arm requests err rate p95');
    expect(headers.get(60)).toBe('stage green verdict arm requests err rate');
  });
});

describe('renderStatus with wide characters', () => {
  it('breaks lines by the columns they take in the terminal, not by their characters', () => {
    const base = promotedSnapshot(loadTestPlan());
    const greenModel = '日本語の説明モデル 二〇二六年版 最新';
    const snapshot = { ...base, plan: { ...base.plan, greenModel } };
    const line = `  ${snapshot.plan.blueModel} (blue) -> ${greenModel} (green)`;
    expect(line.length).toBeLessThanOrEqual(50);
    expect(textWidth(line)).toBeGreaterThan(50);
    const text = renderStatus(snapshot, { alive: false, pid: 1 }, snapshot.updatedAt, { columns: 50 });
    const lines = text.split('\n');
    expect(lines.slice(0, lines.indexOf(''))).toContain(`    ${greenModel.split(' ').at(-1)} (green)`);
    expect(lines.filter((piece) => piece.includes('日本語')).every((piece) => textWidth(piece) <= 50)).toBe(true);
  });
});

describe('renderStatus after an ending whose hook failed', () => {
  it("shows the engine's reason, which says traffic may not be on blue instead of claiming it", () => {
    const base = promotedSnapshot(loadTestPlan());
    const at = base.endedAt!;
    const snapshot = {
      ...base,
      phase: 'interrupted' as const,
      exitCode: 130,
      reason: afterMoves(endings.interrupted('SIGINT'), ['on_rollback hook: exec ./to-blue.sh exited 3']).reason,
      recentEvents: [
        { at, type: 'interrupted' as const, message: 'interrupted by SIGINT: rolling back to blue' },
        { at, type: 'hook_failed' as const, message: 'on_rollback hook: exec ./to-blue.sh exited 3' },
      ],
    };
    const text = renderStatus(snapshot, { alive: false, pid: 1 }, at);
    expect(text).toContain(
      '  reason: interrupted by SIGINT, but putting traffic back on blue failed (on_rollback hook: exec ./to-blue.sh exited 3): check by hand that traffic is on blue\n',
    );
    expect(text).not.toContain('rolled back to blue');
  });
});

describe("renderStatus while a stage's end waits for its requests", () => {
  it('says the stage is waiting for its requests in flight (the bound counting down), not "0s left"', () => {
    const base = promotedSnapshot(loadTestPlan());
    const snapshot = {
      ...base,
      phase: 'progressing' as const,
      endedAt: undefined,
      exitCode: undefined,
      stageIndex: 1,
      stageElapsedMs: base.plan.stages[1]!.durationMs,
      stageEndWait: { stage: 1, requests: 14, upToMs: 243_000 },
    };
    const text = renderStatus(snapshot, { alive: true, pid: 1 }, snapshot.updatedAt + 3_000);
    expect(text).toContain(', its time is up: waiting for 14 requests in flight (up to 4m00s) before it is judged');
    expect(text).not.toContain('left in stage');
  });
});

describe('renderStatus of a rollout that died in a hook', () => {
  // hook.json tells what it was doing; state.json still said progressing (a promotion after the last stage passed
  // journals nothing before on_promote runs): loose19 found "died while progressing" with no word of the hook.
  const dead = () => {
    const base = promotedSnapshot(loadTestPlan());
    const { endedAt: _ended, exitCode: _code, ...unfinished } = base;
    return { ...unfinished, phase: 'progressing' as const, greenWeight: 0.5, recentEvents: [] };
  };
  const head = (hook?: Parameters<typeof renderStatus>[1]['hook']) =>
    renderStatus(dead(), { alive: false, pid: 1, ...(hook && { hook }) }, Date.now()).split('\n')[0];

  it('says the promotion and its on_promote hook were under way', () => {
    expect(head({ event: 'promote', stage: 5, greenWeight: 1, running: true })).toMatch(
      /: orphaned \(its process died while promoting\): its on_promote hook was running$/,
    );
  });

  it('names a stand-in hook, an on_stage hook, the proxies; nothing more without a hook', () => {
    expect(head({ event: 'rollback', stage: 2, greenWeight: 0, hook: 'on_stage' })).toMatch(/died while rolling back\): its on_stage hook was running$/);
    expect(head({ event: 'stage', stage: 2, greenWeight: 0.5 })).toMatch(/died while progressing\): its on_stage hook was running$/);
    expect(head({ event: 'promote', stage: 5, greenWeight: 1, by: 'proxies' })).toMatch(/died while promoting\): it was moving the proxies$/);
    expect(head()).toMatch(/: orphaned \(its process died while progressing\)$/);
  });
});

describe('renderStatus waiting checks', () => {
  it('says how far a waiting check is towards min_requests, as the dashboard does, where state.json records it', () => {
    const plan = loadTestPlan();
    const green = { ...emptyArmStats(), requests: 8, successes: 8 };
    const blue = { ...emptyArmStats(), requests: 30, successes: 30 };
    const { checks } = evaluate({ stageIndex: 0, stageCount: 5, green, blue, config: plan.analysis });
    const base = promotedSnapshot(plan);
    const snapshot = { ...base, stageIndex: 0, checks, plan: { ...base.plan, minRequests: 20 } };
    const rows = renderStatus(snapshot, { alive: false, pid: 1 }, snapshot.updatedAt)
      .split('\n')
      .filter((line) => line.includes(' waiting ('));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((line) => line.includes('waiting (8/20, n=8)'))).toBe(true);
    // A state.json from before min_requests was recorded: the sample alone, as before.
    const olderPlan = { ...base.plan };
    delete olderPlan.minRequests;
    const older = renderStatus({ ...snapshot, plan: olderPlan }, { alive: false, pid: 1 }, snapshot.updatedAt);
    expect(older).toContain('waiting (n=8)');
    expect(older).not.toContain('8/20');
  });
});

describe('renderStatus with requests lost at a crash (rollout --resume)', () => {
  it("says them under their stage's rows, green first, only for a stage that has some", () => {
    const { snapshot } = judgedInStage2();
    const stages = snapshot.stages.map((stage) => ({ ...stage, arms: { blue: { ...stage.arms.blue }, green: { ...stage.arms.green } } }));
    stages[1]!.arms.green.lost = 3;
    const text = renderStatus({ ...snapshot, stages }, { alive: false, pid: 1 }, snapshot.updatedAt, { columns: 80 });
    const lines = text.split('\n');
    const at = lines.findIndex((line) => line.includes('lost at a crash'));
    expect(lines[at]).toBe(`${' '.repeat(27)}lost at a crash (never answered): green 3`);
    // Under stage 2's green row.
    expect(lines[at - 2]).toMatch(/^ {6}2 /);
    expect(lines.filter((line) => line.includes('lost at a crash'))).toHaveLength(1);
    expect(renderStatus(snapshot, { alive: false, pid: 1 }, snapshot.updatedAt)).not.toContain('lost at a crash');
  });
});
