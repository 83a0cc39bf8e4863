// The proxy benchmark's RSS step in its time budget (bench/lib/rss-budget.js): which proxy runs how many requests
// next, on made-up paces. No timing: the step is simulated, its clock advanced by the requests run at the pace.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

interface Served {
  plain: number;
  admin: number;
}
interface RssBudget {
  MIN_RUN: number;
  nextRssRuns: (o: { served: Served; total: number; chunk: number; secondsLeft: number; secondsPerRequest: number }) => Served;
  rssPace: (o: { rate: number; elapsedSeconds: number; answered: number }) => number;
}

// Plain JavaScript without declarations (bench/ is type-checked on its own, against dist/).
const BUDGET = pathToFileURL(path.resolve(import.meta.dirname, '../../bench/lib/rss-budget.js')).href;
const { MIN_RUN, nextRssRuns, rssPace } = (await import(BUDGET)) as RssBudget;

const TOTAL = 1_000_000;
const CHUNK = 25_000;

/** The step run to its end with `seconds` of budget at `rate` req/s: the requests each proxy got, and the time used. */
function step(seconds: number, rate: number) {
  const served = { plain: 0, admin: 0 };
  let used = 0;
  for (;;) {
    const runs = nextRssRuns({
      served,
      total: TOTAL,
      chunk: CHUNK,
      secondsLeft: seconds - used,
      secondsPerRequest: rssPace({ rate, elapsedSeconds: used, answered: served.plain + served.admin }),
    });
    if (runs.plain === 0 && runs.admin === 0) return { served, used };
    served.plain += runs.plain;
    served.admin += runs.admin;
    used += (runs.plain + runs.admin) / rate;
  }
}

describe('the RSS step in its budget', () => {
  it('takes both proxies to the total in turn when the time holds both', () => {
    // 5,500 req/s (0.8x a sustained 7,000): 364 s for both.
    const { served, used } = step(700, 5500);
    expect(served).toEqual({ plain: TOTAL, admin: TOTAL });
    expect(used).toBeCloseTo((2 * TOTAL) / 5500, 6);
    // The first runs alternate: both proxies take a chunk.
    expect(nextRssRuns({ served: { plain: 0, admin: 0 }, total: TOTAL, chunk: CHUNK, secondsLeft: 700, secondsPerRequest: 1 / 5500 })).toEqual({
      plain: CHUNK,
      admin: CHUNK,
    });
  });

  it("keeps the plain proxy's total when the time holds only part of the admin one's, and ends within the budget", () => {
    // 2,000 req/s (a sustained 2,500) and 750 s: 1,500,000 requests, the plain proxy's million first.
    const { served, used } = step(750, 2000);
    expect(served.plain).toBe(TOTAL);
    expect(served.admin).toBeGreaterThanOrEqual(475_000);
    expect(served.admin).toBeLessThanOrEqual(500_000);
    expect(used).toBeLessThanOrEqual(750);
  });

  it('measures the plain proxy as far as the time goes when it cannot reach the total, and the admin one not at all', () => {
    // 1,000 req/s (the floor) and 600 s: 600,000 requests fit.
    const { served, used } = step(600, 1000);
    expect(served.admin).toBe(0);
    expect(served.plain).toBeGreaterThan(600_000 - MIN_RUN);
    expect(served.plain).toBeLessThanOrEqual(600_000);
    expect(used).toBeLessThanOrEqual(600);
  });

  it('runs nothing when less than a run fits, or the time is gone', () => {
    expect(step(0.5, 1000).served).toEqual({ plain: 0, admin: 0 });
    expect(step(-30, 1000).served).toEqual({ plain: 0, admin: 0 });
  });

  it("paces at the step's own speed once it is slower than the rate", () => {
    expect(rssPace({ rate: 2000, elapsedSeconds: 0, answered: 0 })).toBe(1 / 2000);
    // 50,000 requests took 30 s (its runs' overheads, a slower machine): 0.6 ms a request, not 0.5.
    expect(rssPace({ rate: 2000, elapsedSeconds: 30, answered: 50_000 })).toBeCloseTo(0.0006, 9);
    expect(rssPace({ rate: 2000, elapsedSeconds: 20, answered: 50_000 })).toBe(1 / 2000);
  });
});
