// The live section's view logic: proxy lines (route, lease, health) and live vs generated per stage.
import { describe, expect, it } from 'vitest';
import type { LiveView } from '../../src/live/fleet.js';
import type { StageStats } from '../../src/metrics/types.js';
import { liveLines, liveStageRows, liveTableLines, proxyErrorLine, proxyHealth, proxyLine, proxyRouteLine } from '../../src/report/live-text.js';

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
    expect(proxyLine(view.proxies[0]!, 7000)).toBe('answering  http://a:8788  green 25%, mirror 50%, lease 3s left');
    expect(proxyLine(view.proxies[1]!, 7000)).toBe(
      'NOT ANSWERING for 2s  http://b:8788  green 25%, mirror 0%, lease ran out 1s ago (on blue), 3 results missed',
    );
    // Why, on a line of its own.
    expect(proxyErrorLine(view.proxies[1]!)).toBe('    last error: refused');
    expect(proxyErrorLine(view.proxies[0]!)).toBeUndefined();
    // A route it took but could not save (live.json records it): said under it, for `status` too.
    expect(proxyErrorLine({ ...view.proxies[0]!, unsaved: 'could not save the route to /s/proxy-route.json: ENOSPC' })).toBe(
      '    route taken, not saved there: could not save the route to /s/proxy-route.json: ENOSPC',
    );
    expect(proxyLine({ url: 'u', reachable: true, greenWeight: 1, mirror: 0, promotedArm: 'green' }, 0)).toBe('answering  u  promoted green, no lease');
    // One that refused this rollout's route (409) answered: refusing, with its reason, never "NOT ANSWERING".
    const refusing = { url: 'u', reachable: true, greenWeight: 0.25, mirror: 0, leaseExpiresAt: 10_000, refused: 'PUT /admin/route answered 409: x' };
    expect(proxyLine(refusing, 7000)).toBe('REFUSING  u  green 25%, mirror 0%, lease 3s left');
    expect(proxyErrorLine(refusing)).toBe("    refused this rollout's route: PUT /admin/route answered 409: x");
    expect(proxyHealth(refusing, 7000)).toBe('bad');
  });

  it("a rollout's last reading, once it reads its proxies no more: said in the past, with its age, never 'answering'", () => {
    // Session 35's user test: status on an ended live run said "answering" of a proxy last read minutes before.
    expect(proxyLine(view.proxies[0]!, 307_000, 7000)).toBe('answered 5m00s ago  http://a:8788  green 25%, mirror 50%, lease ran out 4m57s ago (on blue)');
    expect(proxyLine(view.proxies[1]!, 307_000, 7000)).toBe(
      'did NOT ANSWER 5m00s ago (silent for 2s then)  http://b:8788  green 25%, mirror 0%, lease ran out 5m01s ago (on blue), 3 results missed',
    );
    expect(proxyLine({ url: 'u', reachable: true, greenWeight: 0, mirror: 0, refused: 'x' }, 10_000, 7000)).toMatch(/^REFUSED 3s ago {2}u/);
    const stopped = liveLines({ ...view, updatedAt: 7000 }, judged, 307_000, true);
    expect(stopped[1]).toMatch(/^ {2}answered 5m00s ago {2}/);
    expect(stopped.join('\n')).not.toContain('answering');
    expect(liveLines({ ...view, updatedAt: 7000 }, judged, 7500)[1]).toMatch(/^ {2}answering {2}/);
  });

  it('says the health before the URL: a long URL cut at the end of a narrow terminal still shows it', () => {
    const url = `https://${'proxy-'.repeat(20)}.internal.example.com:8788`;
    const line = proxyLine({ url, reachable: false, greenWeight: 0.25, mirror: 0, leaseExpiresAt: 6000, unreachableSince: 5000 }, 7000);
    expect(line.slice(0, 80)).toContain('NOT ANSWERING for 2s');
  });

  it("says the lease of this folder's proxy's route file, and that it ran out once it did", () => {
    const route = { greenWeight: 0.25, mirror: 0, leaseExpiresAt: 10_000, reason: 'stage 1/3 of demo', updatedAt: 5000 };
    expect(proxyRouteLine(route, 7000)).toBe(
      "this folder's proxy (proxy-route.json): green 25%, mirror 0%, lease 3s left, stage 1/3 of demo (since 1970-01-01T00:00:05.000Z)",
    );
    // Its proxy stopped before writing blue: the weights in the file are not served.
    expect(proxyRouteLine(route, 12_000)).toBe(
      "this folder's proxy (proxy-route.json): green 25%, mirror 0%, lease ran out 2s ago (on blue), stage 1/3 of demo (since 1970-01-01T00:00:05.000Z)",
    );
    // A route without a lease (blue, a promotion) says none.
    expect(proxyRouteLine({ greenWeight: 1, mirror: 0, promotedArm: 'green', updatedAt: 5000 }, 7000)).toBe(
      "this folder's proxy (proxy-route.json): promoted green (since 1970-01-01T00:00:05.000Z)",
    );
  });

  it('keeps live and generated apart: generated is what the judge saw beyond the live results', () => {
    // Blue's 30 live requests include its 2 answers to fallbacks, which the judge does not see: 50 - 28 generated.
    expect(liveStageRows(view, judged)).toEqual([
      { stage: 0, liveBlue: 30, liveGreen: 10, liveGreenFailures: 2, fallbacks: 2, mirrors: 4, neutral: 0, generatedBlue: 22, generatedGreen: 7 },
    ]);
    expect(liveLines(view, judged, 7000)[0]).toBe('live traffic (2 proxies, lease 5s):');
    // Read from live.json (status), its age: the stage table's figures are as of state.json's last save.
    expect(liveLines({ ...view, updatedAt: 6700 }, judged, 7000)[0]).toBe('live traffic (2 proxies, lease 5s, read 300ms ago):');
  });

  it('shows the neutral results apart once there are any, in neither arm’s columns', () => {
    const withNeutral: LiveView = {
      ...view,
      stages: [{ ...view.stages[0]!, arms: { blue: { requests: 30, failures: 0, neutral: 3 }, green: { requests: 10, failures: 2, neutral: 5 } } }],
    };
    const rows = liveStageRows(withNeutral, judged);
    expect(rows[0]).toMatchObject({ liveBlue: 30, liveGreen: 10, liveGreenFailures: 2, neutral: 8 });
    expect(liveTableLines(rows, false)).toEqual([
      '  stage  blue+fb   green  green err  fallbacks  mirrors  neutral',
      '      1       30      10          2          2        4        8',
    ]);
    // None: no column.
    expect(liveTableLines(liveStageRows(view, judged), false)[0]).not.toContain('neutral');
  });
});
