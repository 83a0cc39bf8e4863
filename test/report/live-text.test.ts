// The live section's view logic: proxy lines (route, lease, health) and live vs generated per stage.
import { describe, expect, it } from 'vitest';
import type { LiveView } from '../../src/live/fleet.js';
import type { StageStats } from '../../src/metrics/types.js';
import { liveLines, liveStageRows, proxyErrorLine, proxyLine } from '../../src/report/live-text.js';

const view: LiveView = {
  leaseMs: 5000,
  proxies: [
    { url: 'http://a:8788', reachable: true, greenWeight: 0.25, mirror: 0.5, leaseExpiresAt: 10_000 },
    { url: 'http://b:8788', reachable: false, greenWeight: 0.25, mirror: 0, leaseExpiresAt: 6000, unreachableSince: 5000, error: 'refused', missed: 3 },
  ],
  stages: [{ stage: 0, arms: { blue: { requests: 30, failures: 0 }, green: { requests: 10, failures: 2 } }, fallbacks: 2, mirrors: 4 }],
};

const judged = [{ index: 0, arms: { blue: { requests: 50 }, green: { requests: 17 } } }] as unknown as StageStats[];

describe('live text', () => {
  it('describes each proxy: route, lease left or run out, health', () => {
    expect(proxyLine(view.proxies[0]!, 7000)).toBe('http://a:8788  answering: green 25%, mirror 50%, lease 3s left');
    expect(proxyLine(view.proxies[1]!, 7000)).toBe(
      'http://b:8788  NOT ANSWERING for 2s: green 25%, mirror 0%, lease ran out 1s ago (on blue), 3 results missed',
    );
    // Why, on a line of its own.
    expect(proxyErrorLine(view.proxies[1]!)).toBe('    last error: refused');
    expect(proxyErrorLine(view.proxies[0]!)).toBeUndefined();
    expect(proxyLine({ url: 'u', reachable: true, greenWeight: 1, mirror: 0, promotedArm: 'green' }, 0)).toBe('u  answering: promoted green, no lease');
  });

  it('keeps live and generated apart: generated is what the judge saw beyond the live results', () => {
    // Blue's 30 live requests include its 2 answers to fallbacks, which the judge does not see: 50 - 28 generated.
    expect(liveStageRows(view, judged)).toEqual([
      { stage: 0, liveBlue: 30, liveGreen: 10, liveGreenFailures: 2, fallbacks: 2, mirrors: 4, generatedBlue: 22, generatedGreen: 7 },
    ]);
    expect(liveLines(view, judged, 7000)[0]).toBe('live traffic (2 proxies, lease 5s):');
  });
});
