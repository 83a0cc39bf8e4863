import { describe, expect, it } from 'vitest';
import { colorsEnabled, paint } from '../../../src/report/ink/theme.js';
import type { RolloutSnapshot } from '../../../src/engine/types.js';
import {
  abortedSnapshot,
  interruptedSnapshot,
  pausedSnapshot,
  progressingSnapshot,
  promotedSnapshot,
  rolledBackSnapshot,
  startingSnapshot,
  NOW,
} from './fixtures.js';
import { cleanFrame, renderView } from './frames.js';
import { forceColour } from './force-colour.js';

// Colour on, so that the NO_COLOR tests show the dashboard itself dropping every escape code.
forceColour();

const final = (snapshot: RolloutSnapshot) => ({ exitCode: snapshot.exitCode ?? 1, reason: snapshot.reason });

describe('dashboard frames, one per phase (100x30)', () => {
  it('progressing', () => {
    expect(renderView(progressingSnapshot()).frame).toMatchSnapshot();
  });

  it('paused', () => {
    expect(renderView(pausedSnapshot()).frame).toMatchSnapshot();
  });

  it('promoted (final frame)', () => {
    const snapshot = promotedSnapshot();
    expect(renderView(snapshot, { final: final(snapshot) }).frame).toMatchSnapshot();
  });

  it('rolled back (final frame)', () => {
    const snapshot = rolledBackSnapshot();
    expect(renderView(snapshot, { final: final(snapshot) }).frame).toMatchSnapshot();
  });

  it('aborted (final frame)', () => {
    const snapshot = abortedSnapshot();
    expect(renderView(snapshot, { final: final(snapshot) }).frame).toMatchSnapshot();
  });

  it('interrupted (final frame)', () => {
    const snapshot = interruptedSnapshot();
    expect(renderView(snapshot, { final: final(snapshot) }).frame).toMatchSnapshot();
  });

  it('starting', () => {
    expect(renderView(startingSnapshot()).frame).toMatchSnapshot();
  });
});

describe('dashboard in an 80x24 terminal', () => {
  const cases: [string, RolloutSnapshot, boolean][] = [
    ['progressing', progressingSnapshot(), false],
    ['paused', pausedSnapshot(), false],
    ['rolled back', rolledBackSnapshot(), true],
    ['promoted', promotedSnapshot(), true],
    ['aborted', abortedSnapshot(), true],
    ['interrupted', interruptedSnapshot(), true],
  ];
  for (const [name, snapshot, ended] of cases) {
    it(`${name}: no line over 80 columns, fewer than 24 rows`, () => {
      const { frame } = renderView(snapshot, { columns: 80, rows: 24, final: ended ? final(snapshot) : undefined });
      const lines = frame.split('\n');
      for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80);
      expect(lines.length).toBeLessThan(24);
      expect(frame).toContain('stage 3/5');
      expect(frame).toMatch(/▶3 +50% /);
    });
  }

  it('progressing at 80x24 still shows every stage, the checks and a few events', () => {
    expect(renderView(progressingSnapshot(), { columns: 80, rows: 24 }).frame).toMatchSnapshot();
  });
});

// Found in session 13: a stage whose time was up sat at "100%  0s left" for as long as its requests in flight took
// (minutes, with retries), as if hung. The dashboard says what it waits for, and for how long at most.
describe("a stage's end waiting for its requests in flight", () => {
  /** Stage 3's time up, its end waiting for 14 requests, up to 4m05s from the snapshot (taken 2 s before NOW). */
  const waiting = (): RolloutSnapshot => ({
    ...progressingSnapshot(),
    stageElapsedMs: 120_000,
    updatedAt: progressingSnapshot().updatedAt - 2_000,
    stageEndWait: { stage: 2, requests: 14, upToMs: 245_000 },
  });

  it('shows it on the stage line, counting down from the snapshot, at 100x30 and within 80 columns', () => {
    const { frame } = renderView(waiting());
    expect(frame).toMatch(/stage 3\/5 {2}█+ 100% {2}waiting for 14 requests in flight \(up to 4m03s\)$/m);
    expect(frame).not.toContain('0s left');
    const narrow = renderView(waiting(), { columns: 80, rows: 24 }).frame;
    for (const line of narrow.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(80);
    expect(narrow).toContain('waiting for 14 requests in flight (up to 4m03s)');
  });

  it('keeps the count and the bound at 60 to 79 columns, live and paused too, shortening the words rather than cut', () => {
    // tmux, demo-live.yaml at 79 columns: "100%  waiting for 2 requests in flight at the proxies (up …".
    const live = (paused: boolean): RolloutSnapshot => ({
      ...waiting(),
      ...(paused && { phase: 'paused' as const }),
      stageEndWait: { stage: 2, requests: 14, upToMs: 245_000, atProxies: true, beforePromotion: true },
    });
    for (const paused of [false, true]) {
      for (let columns = 60; columns <= 79; columns++) {
        const line = renderView(live(paused), { columns, rows: 40 }).frame.split('\n')[1] ?? '';
        expect([...line].length, line).toBeLessThanOrEqual(columns);
        expect(line).not.toContain('…');
        expect(line, `${columns}`).toMatch(new RegExp(`^stage 3/5 .* 100% {2}waiting.* 14 (requests )?in flight.*up to 4m03s\\)?${paused ? ', paused' : ''}$`));
      }
    }
    // Wider, more of the words: at 120 all but "of any stage, before the promotion" (the whole took 122 columns).
    expect(renderView(live(false), { columns: 120 }).frame).toContain(' 100%  waiting for 14 requests in flight at the proxies (up to 4m03s)\n');
    const notLive = { ...live(false), stageEndWait: { stage: 2, requests: 14, upToMs: 245_000, beforePromotion: true } };
    expect(renderView(notLive, { columns: 120 }).frame).toContain(
      ' 100%  waiting for 14 requests in flight, of any stage, before the promotion (up to 4m03s)\n',
    );
  });

  it('says so while paused too, and nothing once the rollout has ended', () => {
    expect(renderView({ ...waiting(), phase: 'paused' }).frame).toContain('waiting for 14 requests in flight (up to 4m03s), paused');
    const ended = { ...waiting(), phase: 'rolled_back' as const, endedAt: NOW, exitCode: 10, reason: 'x' };
    expect(renderView(ended, { final: final(ended) }).frame).not.toContain('waiting for');
  });
});

describe('NO_COLOR', () => {
  it('turns colours off', () => {
    expect(colorsEnabled({ NO_COLOR: '1' })).toBe(false);
    expect(colorsEnabled({ NO_COLOR: '' })).toBe(true);
    expect(colorsEnabled({ TERM: 'dumb' })).toBe(false);
    expect(colorsEnabled({ TERM: 'xterm-256color' })).toBe(true);
  });

  it('maps every tone to no style at all when colours are off', () => {
    for (const tone of ['title', 'muted', 'ok', 'warn', 'bad', 'blue', 'green', 'accent', 'key'] as const) {
      expect(paint('text', tone, false)).toBe('text');
      expect(paint('text', 'plain', true)).toBe('text');
    }
  });

  it('renders colour when it is on', () => {
    expect(renderView(progressingSnapshot(), { colors: true }).raw).toMatch(/\u001b\[[0-9;]*m/);
  });

  it('renders frames without a single escape code', () => {
    for (const snapshot of [progressingSnapshot(), rolledBackSnapshot()]) {
      const { raw } = renderView(snapshot, { colors: colorsEnabled({ NO_COLOR: '1' }), final: snapshot.exitCode !== undefined ? final(snapshot) : undefined });
      expect(raw).not.toContain('\u001b');
      expect(raw).toContain('gpt-4o-to-gpt-4.1');
    }
  });
});

describe('cleanFrame', () => {
  it('replaces clock times and durations, keeps figures', () => {
    expect(cleanFrame('09:34:40  x · 4:50 elapsed · 1m10s left · 8.9s left · updated 1.2s ago · 845ms')).toBe(
      'hh:mm:ss  x · m:ss elapsed · T left · T left · updated T ago · 845ms',
    );
  });
});

// Session 27, tmux at 60, 70 and 79 columns: below 80 the check lines were never tried, and a comparison's sample
// was cut ("n=25…"), the headroom cut green's figures ("green 9,…"). Every width from 60 to 79, through Ink.
describe('dashboard from 60 to 79 columns', () => {
  const base = progressingSnapshot();
  // min_requests 10 recorded, quality waiting at 4 of them; a comparison with samples as wide as a long stage's.
  const snapshot: RolloutSnapshot = {
    ...base,
    plan: { ...base.plan, minRequests: 10 },
    checks: base.checks.map((check) => (check.blueSample !== undefined ? { ...check, sample: 2540, blueSample: 6830 } : check)),
  };
  const cases: [string, RolloutSnapshot, boolean][] = [
    ['progressing', snapshot, false],
    ['rolled back', { ...rolledBackSnapshot(), plan: snapshot.plan }, true],
  ];
  for (const [name, shown, ended] of cases) {
    it(`${name}: no line wider than the terminal, no check line cut`, () => {
      for (let columns = 60; columns <= 79; columns++) {
        const { frame } = renderView(shown, { columns, rows: 40, final: ended ? final(shown) : undefined });
        const lines = frame.split('\n');
        for (const line of lines) expect([...line].length, `${columns}: ${line}`).toBeLessThanOrEqual(columns);
        const start = lines.findIndex((line) => line.startsWith('checks · '));
        const checks = lines.slice(start + 1, start + 1 + shown.checks.length);
        expect(checks.length).toBe(shown.checks.length);
        for (const line of checks) {
          expect(line, `${columns}: ${line}`).not.toContain('…');
          // Each ends on its whole sample, its count towards min_requests, or its whole interval.
          expect(line, `${columns}: ${line}`).toMatch(/(n=\d[\d,]*(\/\d[\d,]*)?|\(\d+\/\d+\)|\d%( over)?|pt)$/);
        }
        expect(frame, `${columns}`).toMatch(/quality failures .* waiting \(4\/10\)$/m);
        const headroom = lines.filter((line) => / (blue|green) +[\d,.]+k? req/.test(line));
        expect(headroom.join('\n'), `${columns}`).toMatch(/blue +9,779 req · 1\.98M tok[^]*green +9,963 req · 2\.00M tok/);
      }
    });
  }
});
