// The proxy's report of each stage's blue sends (GET /admin/results inFlight.blueSent), for the rollout's p95 ratio
// judged sent-before on live traffic: blue's own attempts (not its answers to green's fallbacks), aged on the proxy's
// steady clock, and not exact once one ends with no result in the feed.
import { expect, it } from 'vitest';
import { ProxyMetrics } from '../../src/proxy/metrics.js';
import { ageStepAtOrAbove, ageStepMs } from '../../src/metrics/send-ages.js';
import { armResult } from '../helpers/results-pages.js';

it("counts a stage's blue sends by age on the proxy's steady clock, its running ones at the grid age above their own", () => {
  let steady = 1000;
  const figures = new ProxyMetrics({ prices: { blue: undefined, green: undefined }, quality: () => ({ ok: true }), now: Date.now, steadyNow: () => steady });
  figures.startStage(0, 'run-1');
  const first = figures.started('blue', false);
  steady += 100;
  const green = figures.started('green', false);
  // Blue answering for green: no request the split sent blue.
  const fallback = figures.started('blue', false, green);
  steady += 900;
  figures.started('blue', false);
  figures.finished(armResult('blue', true), 'routed', first);
  steady += 10;
  const [report] = figures.inFlightByStage().blueSent ?? [];
  expect(report).toMatchObject({ stage: 0, controller: 'run-1', sends: 2, exact: true });
  // Asked at an age, counted at the grid age at or above it: 10 ms is 10.4 ms there, past the second's age (10 ms),
  // and 1,000 ms is 1,024 ms, past the first's (1,010 ms): fewer counted as old, never more.
  const at = (ms: number) => report?.sentAtLeast[ageStepAtOrAbove(ms)] ?? 0;
  expect([at(1), at(8), at(10), at(500), at(1000)]).toEqual([2, 2, 1, 1, 0]);
  // The one running (age 10), not the fallback: at the first grid age at or above 10 ms.
  expect(report?.running.reduce((sum, count) => sum + count, 0)).toBe(1);
  expect(report?.running.length).toBe(ageStepAtOrAbove(10) + 1);
  expect(ageStepMs(report?.running.length ?? 0) - 1).toBeGreaterThanOrEqual(10);
  // A blue attempt whose client went after its first bytes leaves no result: the counts are no longer the sample's.
  figures.cancelled('blue', fallback);
  expect(figures.inFlightByStage().blueSent?.[0]?.exact).toBe(false);
});
