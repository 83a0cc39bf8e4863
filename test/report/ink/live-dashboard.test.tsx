// The dashboard's live section through real Ink (ink-testing-library): what a person sees of each proxy (route,
// lease, health) and of the live figures per stage (fallbacks, mirrors, and generated traffic apart).
import { describe, expect, it } from 'vitest';
import type { LiveView } from '../../../src/live/fleet.js';
import { NOW, progressingSnapshot } from './fixtures.js';
import { renderView } from './frames.js';
import { forceColour } from './force-colour.js';

forceColour();

const RED = '\u001b[31m';
const YELLOW = '\u001b[33m';

/** Two proxies: one answering under a lease, one silent for 3 s whose lease ran out; live figures for stages 1-3. */
function liveView(generatedTraffic: boolean): LiveView {
  return {
    leaseMs: 5000,
    generatedTraffic,
    proxies: [
      { url: 'http://10.0.0.5:8788', reachable: true, greenWeight: 0.5, mirror: 0.2, leaseExpiresAt: NOW + 4200, lastContactAt: NOW - 100 },
      {
        url: 'http://10.0.0.6:8788',
        reachable: false,
        greenWeight: 0.5,
        mirror: 0.2,
        leaseExpiresAt: NOW - 1000,
        unreachableSince: NOW - 3000,
        error: 'unreachable: connect ECONNREFUSED',
      },
    ],
    stages: [
      { stage: 0, arms: { blue: { requests: 1100, failures: 0 }, green: { requests: 120, failures: 2 } }, fallbacks: 2, mirrors: 0 },
      { stage: 1, arms: { blue: { requests: 900, failures: 0 }, green: { requests: 150, failures: 0 } }, fallbacks: 0, mirrors: 30 },
      { stage: 2, arms: { blue: { requests: 300, failures: 1 }, green: { requests: 90, failures: 1 } }, fallbacks: 1, mirrors: 12 },
    ],
  };
}

describe('dashboard live section (real Ink render)', () => {
  it('shows each proxy with its route, lease and health, and the live figures of the latest stages', () => {
    const { frame } = renderView(progressingSnapshot(), { live: liveView(false) });
    const lines = frame.split('\n');
    expect(lines).toContain('live traffic (2 proxies, lease 5s):');
    expect(lines).toContain('  answering  http://10.0.0.5:8788  green 50%, mirror 20%, lease T left');
    expect(lines).toContain('  NOT ANSWERING for 3s  http://10.0.0.6:8788  green 50%, mirror 20%, lease ran out T ago (on blue)');
    expect(lines).toContain('    last error: unreachable: connect ECONNREFUSED');
    // The table: a header a person can read, one row per stage: live blue, live green, green's failures, fallbacks, mirrors.
    // Blue's live count includes the fallbacks it answered, which the stage table's blue leaves out: said in its header.
    expect(lines).toContain('  stage  blue+fb   green  green err  fallbacks  mirrors');
    expect(lines).toContain('      1     1100     120          2          2        0');
    expect(lines).toContain('      3      300      90          1          1       12');
    // No generated traffic: no generated columns to puzzle over.
    expect(frame).not.toContain('gen blue');
  });

  it('puts the generated requests beside the live ones when the rollout also sends its own traffic', () => {
    const { frame } = renderView(progressingSnapshot(), { live: liveView(true) });
    const lines = frame.split('\n');
    expect(lines).toContain('  stage  blue+fb   green  green err  fallbacks  mirrors  gen blue  gen green');
    // The fixture's judged stage 1 is 2,160 blue and 240 green requests: the rest of what was judged was generated
    // (blue's live 1,100 include its 2 answers to fallbacks, which are not judged).
    expect(lines).toContain('      1     1100     120          2          2        0      1062        120');
  });

  it('paints a silent proxy red, and fits an 80x24 terminal', () => {
    const { raw } = renderView(progressingSnapshot(), { live: liveView(true), colors: true });
    const silent = raw.split('\n').find((line) => line.includes('10.0.0.6'));
    expect(silent).toContain(RED);
    const answering = raw.split('\n').find((line) => line.includes('10.0.0.5')) ?? '';
    expect(answering).not.toContain(RED);
    expect(answering).not.toContain(YELLOW);
    const { frame } = renderView(progressingSnapshot(), { live: liveView(true), columns: 80, rows: 24 });
    for (const line of frame.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(80);
    expect(frame.split('\n').length).toBeLessThan(24);
    expect(frame).toContain('gen green');
  });
});

describe('dashboard live section on a narrow terminal', () => {
  it("breaks a proxy's line between words at 60 columns, its lease kept whole on the next line (it was cut)", () => {
    const { frame } = renderView(progressingSnapshot(), { live: liveView(false), columns: 60 });
    const lines = frame.split('\n');
    expect(lines.every((line) => line.length <= 60)).toBe(true);
    const at = lines.indexOf('  NOT ANSWERING for 3s  http://10.0.0.6:8788  green 50%,');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe('    mirror 20%, lease ran out T ago (on blue)');
    expect(lines[at + 2]).toBe('    last error: unreachable: connect ECONNREFUSED');
  });
});
