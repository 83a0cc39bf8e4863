import { describe, expect, it } from 'vitest';
import { afterMoves, endings } from '../../../src/engine/endings.js';
import { checkFigure, checkLine, checkStatusText, checkTone, headroomLines, latestRateLimits } from '../../../src/report/ink/check-lines.js';
import { errorRateTone, stageTableLines, stageWindow } from '../../../src/report/ink/stage-table.js';
import { elapsedMs, stageElapsedAt } from '../../../src/report/ink/header-lines.js';
import { buildDashboardView, planLayout, type ViewOptions } from '../../../src/report/ink/view-model.js';
import { clip, frameLines, lineText, type DashboardView } from '../../../src/report/ink/view-types.js';
import {
  abortedSnapshot,
  arm,
  checks,
  interruptedSnapshot,
  NOW,
  pausedSnapshot,
  progressingSnapshot,
  promotedSnapshot,
  rolledBackSnapshot,
  START,
  startingSnapshot,
} from './fixtures.js';

const options = (extra: Partial<ViewOptions> = {}): ViewOptions => ({ now: NOW, steadyNow: NOW, columns: 100, rows: 30, mode: 'control', keys: {}, ...extra });
const allLines = (view: DashboardView) => [...view.header, ...view.table, ...view.checks, ...view.events, ...view.footer].map(lineText);
const text = (view: DashboardView) => allLines(view).join('\n');

describe('buildDashboardView', () => {
  it('names the plan, the phase, the stage and both sides of the split', () => {
    const view = buildDashboardView(progressingSnapshot(), options());
    const [title, progress, split] = view.header.map(lineText);
    expect(title).toMatch(/^bluegreen · gpt-4o-to-gpt-4\.1 +PROGRESSING {2}4:50 elapsed$/);
    expect(progress).toMatch(/^stage 3\/5 {2}█+░+ {2}42% {2}1m10s left$/);
    expect(split).toMatch(/^blue gpt-4o 50% ░+█+ 50% gpt-4\.1 green$/);
  });

  it('has one table row per stage, with both arms side by side', () => {
    const rows = buildDashboardView(progressingSnapshot(), options()).table.map(lineText);
    expect(rows[0]).toContain('─ blue gpt-4o ─');
    expect(rows[0]).toContain('─ green gpt-4.1 ─');
    expect(rows[1]).toBe(' # green verdict    req  err  err%   p95   cost    req  err  err%   p95   cost');
    expect(rows[2]).toBe(' 1   10% passed   2,160    3  0.1% 845ms $0.172    240    1  0.4% 790ms $0.012');
    expect(rows[4]).toBe('▶3   50% running    930    1  0.1% 1.39s $0.075    310    4  1.3% 2.60s $0.014');
    expect(rows[5]).toBe(' 4   75% pending      0    0     -     -     $0      0    0     -     -     $0');
    expect(rows).toHaveLength(7);
  });

  it("labels the trend as the last seconds' error rate, apart from the stage's the error_rate row judges (loose19)", () => {
    const snapshot = { ...progressingSnapshot(), greenErrorTrend: [0.01, 0.04] };
    const lines = buildDashboardView(snapshot, options()).checks.map(lineText);
    expect(lines[0]).toMatch(/error rate, last 10s [▁-█]{2} 4\.0%$/);
    expect(lines).toContain('  error rate            1.2% / 5.0%    ██········ ok      n=310');
    // A state.json without its window (written by hand) still draws.
    const bare = { ...snapshot, window: undefined as unknown as typeof snapshot.window };
    expect(buildDashboardView(bare, options()).checks.map(lineText)[0]).toMatch(/error rate, recent [▁-█]{2} 4\.0%$/);
  });

  it('puts every check against its limit with a proximity bar and a word for its status', () => {
    const lines = buildDashboardView(progressingSnapshot(), options()).checks.map(lineText);
    expect(lines[0]).toMatch(/^checks · green, stage 3\/5 {3}error rate, last 10s [▁-█]{11} 1\.2%$/);
    expect(lines).toContain('  error rate            1.2% / 5.0%    ██········ ok      n=310');
    expect(lines).toContain('  p95 latency          2.60s / 3.00s   █████████· near    n=310');
    // The figure and its limit with the same decimals (core/format.ts), not "+0.40pt / +3.0pt".
    expect(lines).toContain('  error rate vs blue +0.40pt / +3.00pt █········· ok      n=310/930');
    expect(lines).toContain('  quality failures         - / 5.0%    ·········· waiting n=4');
    expect(lines.at(-1)).toBe('rate-limit headroom   blue 9,779 req · 1.98M tok   green 9,963 req · 2.00M tok');
  });

  it('shows the most recent events, oldest first', () => {
    const events = buildDashboardView(pausedSnapshot(), options()).events.map(lineText);
    expect(events.at(-1)).toBe('09:34:40  paused by alice@ops (dashboard): traffic goes on at 50% green, the stage clock is stopped');
    expect(events.length).toBeGreaterThan(1);
  });

  // Found in session 22: every event was cut at 120 columns, whatever the terminal's width, and at 80 a breach's
  // upstream error lost its end. Each message wraps to the terminal's width under its time, the newest kept whole.
  it("wraps each event's message to the terminal's width, under its time, the newest whole", () => {
    const upstream = `green arm: 500 from http://127.0.0.1:46603/v1/chat/completions (${'the server had an error while processing your request '.repeat(2).trim()})`;
    const snapshot = {
      ...progressingSnapshot(),
      recentEvents: [...progressingSnapshot().recentEvents, { at: NOW, type: 'warning' as const, stage: 2, message: upstream }],
    };
    for (const columns of [80, 200]) {
      const view = buildDashboardView(snapshot, options({ columns, rows: 40 }));
      const events = view.events.map(lineText);
      for (const line of events) expect(line.length, line).toBeLessThanOrEqual(columns);
      expect(view.width).toBeLessThanOrEqual(columns);
      // The message whole, its words in order, continued 10 columns in (under the message, not the time).
      const newest = events.slice(events.findIndex((line) => line.includes('green arm: 500')));
      expect(newest[0]).toMatch(/^09:34:50 {2}green arm: 500/);
      for (const line of newest.slice(1)) expect(line).toMatch(/^ {10}\S/);
      expect(newest.map((line) => line.slice(10)).join(' ')).toBe(upstream);
      // At 200 columns all 7 events in 7 rows; at 80 the newest takes 3 of the 8 rows, the oldest gives way.
      expect(events).toHaveLength(columns === 200 ? 7 : 8);
      expect(events[0]).toMatch(columns === 200 ? /^09:30:00 {2}rollout "gpt-4o-to-gpt-4\.1" started/ : /^09:30:00 {2}stage 1\/5 started/);
    }
    expect(buildDashboardView(snapshot, options({ columns: 200, rows: 40 })).events.filter((line) => lineText(line).startsWith(' '))).toHaveLength(0);
    expect(buildDashboardView(snapshot, options({ columns: 80, rows: 40 })).events.filter((line) => lineText(line).startsWith(' ')).length).toBeGreaterThan(1);
  });

  // lows28: every event wrapped whole took ~5 rows at 60 columns, and the newest one or two pushed every older one
  // off. Only the newest wraps; each older one takes one row, cut with "…" at the terminal's width.
  it('wraps the newest whole and gives each older event one row, cut at the width, and cuts the newest only when it alone is too long', () => {
    const long = (at: number, word: string) => ({ at, type: 'warning' as const, stage: 2, message: `${word} `.repeat(40).trim() });
    const snapshot = { ...progressingSnapshot(), recentEvents: [long(NOW - 2000, 'older'), long(NOW - 1000, 'newer'), long(NOW, 'newest')] };
    for (const columns of [60, 80]) {
      const events = buildDashboardView(snapshot, options({ columns, rows: 40 })).events.map(lineText);
      const newestRows = Math.ceil((40 * 'newest '.length - 1) / (columns - 10));
      expect(events).toHaveLength(2 + newestRows);
      expect(events[0]).toMatch(/^09:34:48 {2}older older .*…$/);
      expect(events[1]).toMatch(/^09:34:49 {2}newer newer .*…$/);
      for (const line of events) expect(line.length, line).toBeLessThanOrEqual(columns);
      expect(
        events
          .slice(2)
          .map((line) => line.slice(10))
          .join(' '),
      ).toBe(long(NOW, 'newest').message);
    }
    const tiny = { ...progressingSnapshot(), recentEvents: [long(NOW, `${'word '.repeat(200).trim()} end`)] };
    const cut = buildDashboardView(tiny, options({ columns: 40, rows: 40 })).events.map(lineText);
    expect(cut).toHaveLength(8);
    expect(cut.at(-1)).toMatch(/…$/);
  });

  it('offers the keys that apply: pause while progressing, resume while paused', () => {
    expect(lineText(buildDashboardView(progressingSnapshot(), options()).footer[0]!)).toMatch(/^p pause {3}P promote {3}a abort {3}q quit {3}ctrl-c interrupt/);
    const paused = buildDashboardView(pausedSnapshot(), options());
    expect(lineText(paused.footer[0]!)).toMatch(/^r resume {3}P promote/);
    expect(lineText(paused.header[1]!)).toMatch(/paused, 1m10s left$/);
  });

  it('offers no keys when stdin is not a terminal, and says how to steer instead', () => {
    const view = buildDashboardView(progressingSnapshot(), options({ keysEnabled: false }));
    expect(lineText(view.footer[0]!)).toBe('keys off (stdin is not a terminal): use bluegreen pause|resume|promote|abort');
    const own = buildDashboardView(progressingSnapshot(), options({ keysEnabled: false, stateDirFlag: ' --state-dir /srv/bg' }));
    expect(lineText(own.footer[0]!)).toBe('keys off (stdin is not a terminal): use bluegreen pause|resume|promote|abort --state-dir /srv/bg');
    // Narrow, it breaks between words rather than cut the commands ("use bluegreen pause|res…" at 60 columns).
    const narrow = buildDashboardView(progressingSnapshot(), options({ columns: 60, keysEnabled: false, stateDirFlag: ' --state-dir /tmp/ui27-state' }));
    expect(narrow.footer.map(lineText)).toEqual([
      'keys off (stdin is not a terminal): use bluegreen',
      'pause|resume|promote|abort --state-dir /tmp/ui27-state',
    ]);
  });

  it('asks for confirmation in the footer and shows acknowledgements', () => {
    expect(lineText(buildDashboardView(progressingSnapshot(), options({ keys: { prompt: 'promote' } })).footer[0]!)).toBe(
      'Promote now: green to 100% and finish? [y/n]',
    );
    expect(lineText(buildDashboardView(progressingSnapshot(), options({ keys: { prompt: 'quit' } })).footer[0]!)).toBe(
      'Quit: abort the rollout and roll back to blue? [y/n]',
    );
    const noticed = buildDashboardView(progressingSnapshot(), options({ keys: { notice: { text: 'pause requested', at: NOW - 100 } } }));
    expect(lineText(noticed.footer[0]!)).toMatch(/ctrl-c interrupt {5}pause requested$/);
    // Too long to go beside the hints at 80 columns ("promotion cancel…", "promotion reque…"): alone, whole.
    for (const notice of ['promotion cancelled', 'promotion requested: green to 100%', 'abort requested: rolling back to blue']) {
      const alone = buildDashboardView(progressingSnapshot(), options({ columns: 80, keys: { notice: { text: notice, at: NOW - 100 } } }));
      expect(alone.footer.map(lineText)).toEqual([notice]);
    }
    const ending = buildDashboardView(
      { ...rolledBackSnapshot(), endedAt: undefined, exitCode: undefined },
      options({ columns: 80, keys: { notice: { text: 'already ending: no key changes it now', at: NOW - 100 } } }),
    );
    expect(ending.footer.map(lineText)).toEqual(['already ending: no key changes it now']);
  });

  it('says the rollout is finishing between its end and the last frame', () => {
    const view = buildDashboardView({ ...abortedSnapshot(), endedAt: undefined, exitCode: undefined }, options());
    expect(allLines(view).at(-1)).toBe('aborted: finishing in-flight requests…');
  });

  it('ends with the outcome, what its exit code means and why', () => {
    const cases = [
      [promotedSnapshot(), 0, '■ PROMOTED · exit 0'],
      [rolledBackSnapshot(), 10, '■ ROLLED BACK · exit 10'],
      [abortedSnapshot(), 4, '■ ABORTED · exit 4'],
      [interruptedSnapshot(), 130, '■ INTERRUPTED · exit 130'],
    ] as const;
    for (const [snapshot, exitCode, first] of cases) {
      const footer = buildDashboardView(snapshot, options({ final: { exitCode, reason: snapshot.reason } })).footer.map(lineText);
      expect(footer[0]).toBe(first);
      expect(footer[1]).toBe(`  ${snapshot.reason}`);
    }
    const rolledBack = buildDashboardView(rolledBackSnapshot(), options({ final: { exitCode: 10 } }));
    expect(text(rolledBack)).toContain('error rate           31.2% / 5.0%    ██████████ BREACH  n=48');
    expect(lineText(rolledBack.header[2]!)).toMatch(/^blue gpt-4o 100% ░+ 0% gpt-4\.1 green$/);
    expect(lineText(rolledBack.header[1]!)).toMatch(/ended$/);
  });

  it('says the breach once on the last frame: in the reason, not also in the event above it (session 23)', () => {
    const snapshot = rolledBackSnapshot();
    const breachWords = 'green error_rate 31.2% > 5.0% over 48 requests in stage 3';
    const count = (view: DashboardView) => text(view).split(breachWords).length - 1;
    const last = buildDashboardView(snapshot, options({ final: { exitCode: 10, reason: snapshot.reason } }));
    expect(count(last)).toBe(1);
    expect(last.events.map(lineText).some((line) => line.endsWith(`  ${breachWords}`))).toBe(false);
    expect(lineText(last.footer[1]!)).toBe(`  ${breachWords}`);
    // A watcher's last frame ends the same way.
    expect(count(buildDashboardView(snapshot, options({ mode: 'watch', watch: { stateDir: '.bluegreen', ownerAlive: true } })))).toBe(1);
    // Until the ending is drawn, the breach is the newest news: shown as an event.
    const ending = buildDashboardView({ ...snapshot, exitCode: undefined }, options());
    expect(ending.events.map(lineText).some((line) => line.endsWith(`  ${breachWords}`))).toBe(true);
  });

  it('says where the whole reason is when two lines of an 80-column terminal cut it short (newuser20)', () => {
    const reason =
      'green error_rate 32.4% (at least 8.1%, 99.93% sure) > 5.0% over 34 requests in stage 3; green failures: server_error 11 (server_error: "green arm: 500 from http://127.0.0.1:37233/v1/chat/completions (The server had an error while processing your request (simulated).)")';
    const footer = (columns: number, why = reason) =>
      buildDashboardView(rolledBackSnapshot(), options({ columns, final: { exitCode: 10, reason: why } })).footer.map(lineText);
    const narrow = footer(80);
    expect(narrow[0]).toBe('■ ROLLED BACK · exit 10 · the whole reason: bluegreen status');
    expect(narrow.slice(1).every((line) => line.length <= 80)).toBe(true);
    expect(narrow[2]).toMatch(/…$/);
    // A rollout with a state folder of its own: the pointer names it, whole, under the reason when it is too long for
    // the outcome's line.
    const own = (columns: number) =>
      buildDashboardView(
        rolledBackSnapshot(),
        options({ columns, final: { exitCode: 10, reason }, stateDirFlag: ' --state-dir .bluegreen-rollback' }),
      ).footer.map(lineText);
    expect(own(80)[0]).toBe('■ ROLLED BACK · exit 10');
    expect(own(80)[3]).toBe('  the whole reason: bluegreen status --state-dir .bluegreen-rollback');
    expect(own(120)[0]).toBe('■ ROLLED BACK · exit 10 · the whole reason: bluegreen status --state-dir .bluegreen-rollback');
    expect(own(120)).toHaveLength(3);
    // Narrower than the command (60 columns, a temporary folder): it breaks between words, never cut (tmux, session 24).
    expect(own(40).slice(3)).toEqual(['  the whole reason: bluegreen status', '  --state-dir .bluegreen-rollback']);
    // Found in session 23 (tmux, 200x50): the reason wrapped at the table's 120 columns and was cut, with 80 columns
    // free beside it. It takes the terminal's width, as the events do: whole on its two lines, no pointer.
    const wide = footer(200);
    expect(wide).toHaveLength(3);
    expect(wide[0]).toBe('■ ROLLED BACK · exit 10');
    expect(wide.slice(1).every((line) => line.length <= 200 && !line.endsWith('…'))).toBe(true);
    expect(buildDashboardView(rolledBackSnapshot(), options({ columns: 200, final: { exitCode: 10, reason } })).width).toBeLessThanOrEqual(200);
    // A reason whole on its two lines: no pointer.
    const short = 'green error_rate 32.4% (at least 8.1%, 99.93% sure) > 5.0% over 34 requests in stage 3';
    expect(footer(80, short)).toEqual([
      '■ ROLLED BACK · exit 10',
      '  green error_rate 32.4% (at least 8.1%, 99.93% sure) > 5.0% over 34 requests in',
      '  stage 3',
    ]);
  });

  it('draws a starting rollout without figures', () => {
    const view = buildDashboardView(startingSnapshot(), options());
    expect(lineText(view.header[0]!)).toMatch(/STARTING {2}0:00 elapsed$/);
    expect(view.checks.map(lineText)).toEqual(['checks · green, stage 1/5', '  waiting for the first analysis']);
    expect(view.events).toEqual([]);
  });

  it('says of an ended rollout without checks that none ran, not that it waits for one', () => {
    // A live re-run that found green already promoted ends at once, as does one aborted before its first judgement.
    const ended = { ...startingSnapshot(), phase: 'promoted' as const, endedAt: NOW, exitCode: 0, greenWeight: 1 };
    const view = buildDashboardView(ended, options({ final: { exitCode: 0 } }));
    expect(view.checks.map(lineText)).toEqual(['checks · green, stage 1/5', '  no analysis ran before the rollout ended']);
  });

  it('marks the watch view read-only and says when the owner is gone', () => {
    const watch = buildDashboardView(progressingSnapshot(), options({ mode: 'watch', now: NOW + 1200, watch: { stateDir: '/s', ownerAlive: true } }));
    expect(lineText(watch.header[0]!)).toMatch(/^bluegreen \(watching\) · gpt-4o-to-gpt-4\.1/);
    expect(lineText(watch.footer[0]!)).toBe('read-only · updated 1.2s ago · q stop watching');
    const gone = buildDashboardView(progressingSnapshot(), options({ mode: 'watch', watch: { stateDir: '/s', ownerAlive: false } }));
    expect(lineText(gone.footer[0]!)).toBe('read-only · owner pid 4242 is gone · updated 0ms ago · q stop watching');
    // Too narrow for it all (60 columns read "q st…"): the key on a line of its own, both whole.
    const narrow = buildDashboardView(progressingSnapshot(), options({ columns: 60, mode: 'watch', watch: { stateDir: '/s', ownerAlive: false } }));
    expect(narrow.footer.map(lineText)).toEqual(['read-only · owner pid 4242 is gone · updated 0ms ago', 'q stop watching']);
    expect(narrow.footer[0]?.[0]?.tone).toBe('bad');
    const done = buildDashboardView(rolledBackSnapshot(), options({ mode: 'watch', watch: { stateDir: '/s', ownerAlive: false } }));
    expect(lineText(done.footer[0]!)).toBe('■ ROLLED BACK · exit 10');
  });

  it("shows in the final banner, standing out, the reason that says the ending's hook failed to put traffic on blue", () => {
    const base = interruptedSnapshot();
    const failed = { at: base.endedAt!, type: 'hook_failed' as const, message: 'on_rollback hook: exec ./to-blue.sh exited 3' };
    const final = { exitCode: 130, reason: afterMoves(endings.interrupted('SIGINT'), ['on_rollback hook: exec ./to-blue.sh exited 3']).reason };
    const view = buildDashboardView({ ...base, recentEvents: [...base.recentEvents, failed] }, options({ columns: 200, final }));
    const footer = view.footer.map((line) => lineText(line).trim()).join(' ');
    expect(footer).toContain('putting traffic back on blue failed (on_rollback hook: exec ./to-blue.sh exited 3): check by hand that traffic is on blue');
    const reasonLines = view.footer.filter((line) => lineText(line).includes('putting traffic back on blue failed'));
    expect(reasonLines.length).toBe(1);
    expect(reasonLines[0]?.every((cell) => cell.tone === 'bad')).toBe(true);
    expect(
      buildDashboardView(base, options({ columns: 200, final: { exitCode: 130, reason: base.reason } }))
        .footer.map(lineText)
        .join('\n'),
    ).not.toContain('check by hand');
  });

  it('keeps every line within 80 columns and the frame below 24 rows', () => {
    for (const snapshot of [startingSnapshot(), progressingSnapshot(), pausedSnapshot(), rolledBackSnapshot(), promotedSnapshot()]) {
      const view = buildDashboardView(
        snapshot,
        options({ columns: 80, rows: 24, final: snapshot.exitCode !== undefined ? { exitCode: snapshot.exitCode, reason: snapshot.reason } : undefined }),
      );
      for (const line of allLines(view)) expect([...line].length).toBeLessThanOrEqual(80);
      const height = allLines(view).length + (view.gaps ? 4 : 0);
      expect(height).toBeLessThanOrEqual(23);
    }
  });

  it('cuts long names and messages to a narrow terminal', () => {
    const snapshot = {
      ...progressingSnapshot(),
      plan: { ...progressingSnapshot().plan, name: 'x'.repeat(200), blueModel: 'anthropic/claude-3-5-sonnet-20241022-long' },
    };
    const view = buildDashboardView(snapshot, options({ columns: 50 }));
    for (const line of allLines(view)) expect([...line].length).toBeLessThanOrEqual(50);
    expect(lineText(view.header[0]!)).toContain('…');
  });
});

describe('layout', () => {
  it('uses blank lines between sections only when tall enough', () => {
    expect(planLayout({ rows: 30, stageCount: 5, fixedLines: 14, eventCount: 8 })).toEqual({ gaps: true, stageRows: 5, eventRows: 6 });
    expect(planLayout({ rows: 24, stageCount: 5, fixedLines: 14, eventCount: 8 })).toEqual({ gaps: false, stageRows: 5, eventRows: 4 });
    expect(planLayout({ rows: 60, stageCount: 5, fixedLines: 14, eventCount: 30 })).toEqual({ gaps: true, stageRows: 5, eventRows: 8 });
  });

  it('windows the stage rows when there are too many for the terminal', () => {
    const layout = planLayout({ rows: 24, stageCount: 12, fixedLines: 14, eventCount: 8 });
    expect(layout).toEqual({ gaps: false, stageRows: 7, eventRows: 2 });
    expect(stageWindow(12, 0, 7)).toEqual({ start: 0, end: 7 });
    expect(stageWindow(12, 6, 7)).toEqual({ start: 3, end: 10 });
    expect(stageWindow(12, 11, 7)).toEqual({ start: 5, end: 12 });
    const snapshot = progressingSnapshot();
    const many = { ...snapshot, stages: Array.from({ length: 12 }, (_, index) => ({ ...snapshot.stages[0]!, index })), stageIndex: 6 };
    const lines = stageTableLines(many, 7, 80).map(lineText);
    expect(lines[0]).toMatch(/^stages 4-10 of 12/);
    expect(lines).toHaveLength(9);
  });
});

describe('a terminal too short for the whole dashboard', () => {
  it('drops checks rather than let the frame outgrow the terminal and scroll the phase out of sight', () => {
    for (const rows of [6, 8, 12, 16]) {
      const view = buildDashboardView(progressingSnapshot(), options({ columns: 40, rows }));
      const lines = frameLines(view, false);
      expect(lines.length).toBeLessThanOrEqual(rows - 1);
      expect(lines[0]).toMatch(/^bluegreen · .*PROGRESSING/);
      expect(lines.some((line) => line.startsWith('p pause'))).toBe(true);
    }
    const tall = buildDashboardView(progressingSnapshot(), options({ rows: 30 }));
    expect(tall.checks.map(lineText).join('\n')).toContain('error rate');
  });
});

describe('time', () => {
  it('counts elapsed time from the start, to the end once ended', () => {
    expect(elapsedMs(progressingSnapshot(), NOW)).toBe(290_000);
    expect(elapsedMs(rolledBackSnapshot(), NOW + 60_000)).toBe(292_000);
    expect(elapsedMs(startingSnapshot(), START)).toBe(0);
  });

  it('moves a running stage clock on from an older snapshot, not a paused one', () => {
    expect(stageElapsedAt(progressingSnapshot(), NOW + 800)).toBe(50_800);
    expect(stageElapsedAt(pausedSnapshot(), NOW + 800)).toBe(50_000);
    expect(stageElapsedAt(rolledBackSnapshot(), NOW + 800)).toBe(50_000);
  });
});

describe('checks and arms', () => {
  it('colours a check by status and by how close it is', () => {
    const [errorRate, , latency, , quality] = checks({ error_rate: {} });
    expect([checkTone(errorRate!), checkTone(latency!), checkTone(quality!)]).toEqual(['ok', 'warn', 'muted']);
    expect([checkStatusText(errorRate!), checkStatusText(latency!), checkStatusText(quality!)]).toEqual(['ok', 'near', 'waiting']);
    const breach = { ...errorRate!, status: 'breach' as const, proximity: 6 };
    expect(checkTone(breach)).toBe('bad');
    expect(checkLine(breach).some((segment) => segment.text.includes('BREACH') && segment.tone === 'bad')).toBe(true);
  });

  it('keeps the status word in sight in a narrow terminal: the bar goes first, then the label shortens', () => {
    const [errorRate] = checks({ error_rate: {} });
    const breach = { ...errorRate!, status: 'breach' as const, proximity: 6 };
    const text = (width: number) =>
      clip(checkLine(breach, width), width)
        .map((segment) => segment.text)
        .join('');
    expect(text(80)).toContain('█');
    for (const width of [57, 47, 40]) {
      expect(text(width)).toContain('BREACH');
      expect(text(width)).not.toContain('█');
    }
    expect(text(40)).toMatch(/^ {2}error rate /);
  });

  it('writes figures as the breach messages do', () => {
    const [errorRate, consecutive, latency, compare] = checks();
    expect(checkFigure(errorRate!, 0.312)).toBe('31.2%');
    expect(checkFigure(consecutive!, 3)).toBe('3');
    expect(checkFigure(latency!, 6200)).toBe('6.20s');
    // With the decimals of the line it is on: its figure, +0.40pt, needs two.
    expect(checkFigure(compare!, -0.01)).toBe('-1.00pt');
    expect(checkFigure(errorRate!, null)).toBe('-');
  });

  it('colours an arm error rate by the threshold', () => {
    expect(errorRateTone(arm(100, 6, 1, 0), 0.05)).toBe('bad');
    expect(errorRateTone(arm(100, 3, 1, 0), 0.05)).toBe('warn');
    expect(errorRateTone(arm(100, 1, 1, 0), 0.05)).toBe('plain');
    expect(errorRateTone(arm(100, 50, 1, 0), undefined)).toBe('plain');
    expect(errorRateTone(arm(0, 0, null, 0), 0.05)).toBe('plain');
  });

  it('takes rate-limit headroom from the latest stage that reported it, and hides it when none did', () => {
    const snapshot = progressingSnapshot();
    expect(latestRateLimits(snapshot).blue).toEqual({ remainingRequests: 9_779, remainingTokens: 1_977_066 });
    const earlier = { ...snapshot, stageIndex: 3 };
    expect(latestRateLimits(earlier).green?.remainingRequests).toBe(9_963);
    const none = {
      ...snapshot,
      stages: snapshot.stages.map((s) => ({
        ...s,
        arms: { blue: { ...s.arms.blue, rateLimit: undefined }, green: { ...s.arms.green, rateLimit: undefined } },
      })),
    };
    expect(headroomLines(none, 80)).toEqual([]);
  });

  it('puts the headroom one arm a line when both do not fit, never cutting a figure (60 columns, tmux)', () => {
    const snapshot = progressingSnapshot();
    expect(headroomLines(snapshot, 80).map(lineText)).toEqual(['rate-limit headroom   blue 9,779 req · 1.98M tok   green 9,963 req · 2.00M tok']);
    for (const width of [60, 70, 77]) {
      const view = buildDashboardView(snapshot, options({ columns: width, rows: 60 }));
      const lines = view.checks.map(lineText);
      const at = lines.findIndex((line) => line.startsWith('rate-limit headroom'));
      expect(lines.slice(at, at + 2)).toEqual(['rate-limit headroom   blue  9,779 req · 1.98M tok', '                      green 9,963 req · 2.00M tok']);
      // The layout counted the second line: the frame still fits the terminal.
      expect(frameLines(view, false).length).toBeLessThan(60);
    }
    // One arm alone fits on its line at 60 as it was.
    const blueOnly = { ...snapshot, stages: snapshot.stages.map((s) => ({ ...s, arms: { ...s.arms, green: { ...s.arms.green, rateLimit: undefined } } })) };
    expect(headroomLines(blueOnly, 60).map(lineText)).toEqual(['rate-limit headroom   blue 9,779 req · 1.98M tok']);
  });
});

describe('buildDashboardView with live proxies', () => {
  it('shows each proxy and the live figures under the checks, only for a live rollout', () => {
    const live = {
      leaseMs: 5000,
      generatedTraffic: true,
      proxies: [{ url: 'http://127.0.0.1:8788', reachable: true, greenWeight: 0.5, mirror: 0, leaseExpiresAt: NOW + 4000 }],
      stages: [{ stage: 0, arms: { blue: { requests: 2000, failures: 1 }, green: { requests: 200, failures: 1 } }, fallbacks: 1, mirrors: 0 }],
    };
    const view = buildDashboardView(progressingSnapshot(), options({ live }));
    const checkLines = view.checks.map(lineText);
    expect(checkLines).toContain('live traffic (1 proxy, lease 5s):');
    expect(checkLines).toContain('  answering  http://127.0.0.1:8788  green 50%, mirror 0%, lease 4s left');
    // Generated = what the judge saw beyond the live results (the fixture's stage 1 has 2,160 blue, 240 green);
    // blue's live 2,000 include its answer to the fallback, which is not judged.
    expect(checkLines.some((line) => /^\s+1\s+2000\s+200\s+1\s+1\s+0\s+161\s+40$/.test(line))).toBe(true);
    expect(text(buildDashboardView(progressingSnapshot(), options()))).not.toContain('live traffic');
    // status --watch on a rollout whose process died: its last reading of the proxy, with its age.
    const dead = buildDashboardView(
      progressingSnapshot(),
      options({ live: { ...live, updatedAt: NOW - 60_000 }, mode: 'watch', watch: { stateDir: 'st', ownerAlive: false } }),
    );
    expect(dead.checks.map(lineText)).toContain('  answered 1m00s ago  http://127.0.0.1:8788  green 50%, mirror 0%, lease 4s left');
  });

  it("status --watch: the live section (live.json) and the table (state.json) each say their age, the figures' times differing", () => {
    const snapshot = progressingSnapshot();
    const live = {
      leaseMs: 5000,
      updatedAt: snapshot.updatedAt + 900,
      proxies: [{ url: 'http://127.0.0.1:8788', reachable: true, greenWeight: 0.5, mirror: 0, leaseExpiresAt: NOW + 4000 }],
      stages: [{ stage: 0, arms: { blue: { requests: 2000, failures: 1 }, green: { requests: 200, failures: 1 } }, fallbacks: 1, mirrors: 0 }],
    };
    const watching = { mode: 'watch' as const, now: snapshot.updatedAt + 1200, watch: { stateDir: '/s', ownerAlive: true }, live };
    for (const columns of [80, 100]) {
      const view = buildDashboardView(snapshot, options({ ...watching, columns, rows: 40 }));
      expect(lineText(view.table[0]!)).toMatch(/^saved 1\.2s ago +─ blue gpt-4o/);
      expect(view.checks.map(lineText)).toContain('live traffic (1 proxy, lease 5s, read 300ms ago):');
    }
    // The rollout's own dashboard reads both now: no ages.
    const own = buildDashboardView(snapshot, options({ live: { ...live, updatedAt: undefined } }));
    expect(lineText(own.table[0]!)).toMatch(/^ +─ blue gpt-4o/);
    expect(own.checks.map(lineText)).toContain('live traffic (1 proxy, lease 5s):');
  });
});

describe('buildDashboardView with requests lost at a crash (rollout --resume)', () => {
  /** The running stage carrying 3 green and 1 blue request the dead run had in flight. */
  function resumed() {
    const snapshot = progressingSnapshot();
    const running = snapshot.stages[2]!;
    running.arms.green.lost = 3;
    running.arms.blue.lost = 1;
    return snapshot;
  }

  it('says them under the checks, green first, and only when there are some', () => {
    const lines = buildDashboardView(resumed(), options()).checks.map(lineText);
    expect(lines).toContain('  lost at a crash (never answered)  green 3 · blue 1');
    expect(text(buildDashboardView(progressingSnapshot(), options()))).not.toContain('lost at a crash');
    // Another stage's are not the current checks'.
    const earlier = progressingSnapshot();
    earlier.stages[1]!.arms.green.lost = 2;
    expect(text(buildDashboardView(earlier, options()))).not.toContain('lost at a crash');
  });

  it('still fits 80x24 with them: the line counts in the layout, no line is cut', () => {
    const view = buildDashboardView(resumed(), options({ columns: 80, rows: 24 }));
    expect(frameLines(view, false).length).toBeLessThanOrEqual(23);
    expect(view.checks.map(lineText)).toContain('  lost at a crash (never answered)  green 3 · blue 1');
  });
});
