// inflight17: one read of a proxy takes at most 20 pages. A stage's end whose read stopped at that cap took the last
// page's in-flight counts (the hanging green had answered by then: nothing under way) as the end of its wait, and
// judged the stage without the answers in the pages past the cap. It reads on while pages remain. The live source
// reads a scripted admin API on 127.0.0.1 that serves one result a page (a real proxy serves 5,000; a busy one can
// have more than 20 pages' worth arriving during one read), on the fake clock.
import { expect, it } from 'vitest';
import type { FeedEntry } from '../../src/proxy/results-feed.js';
import { armResult, scriptedResults } from '../helpers/results-pages.js';
import { until } from '../helpers/until.js';
import { runClockUntil, stageZeroLiveSource } from './engine-on-proxies.js';

it("reads on past a read's page cap before a stage's end stops waiting", async () => {
  // The feed: nothing yet, one green attempt under way in stage 0. Then 24 blue answers and green's failure, 25th.
  let feed: FeedEntry[] = [];
  let running = 1;
  const admin = await scriptedResults((url) => {
    const after = Number(new URL(url ?? '/', 'http://admin').searchParams.get('after'));
    return {
      epoch: 'e1',
      version: 2,
      missed: 0,
      head: feed.length,
      next: Math.min(after + 1, feed.length),
      results: feed.slice(after, after + 1),
      inFlight: { started: 1, stages: running > 0 ? [{ stage: 0, requests: running }] : [], stallTimeoutMs: 10_000 },
    };
  });
  const warnings: string[] = [];
  const { clock, metrics, source } = stageZeroLiveSource(admin.url, (message) => warnings.push(message));

  const ended = (source.catchUp as NonNullable<typeof source.catchUp>)(0);
  // The wait's first read saw green under way; it answers now, after 24 other results.
  await until(() => admin.seen.length === 1 && clock.pendingTimers() > 0, "the stage's end waiting on its clock");
  feed = Array.from({ length: 25 }, (_, i): FeedEntry => ({
    seq: i + 1,
    stage: 0,
    kind: 'routed',
    result: i < 24 ? armResult('blue', true) : armResult('green', false),
    quality: { ok: i < 24 },
  }));
  running = 0;
  expect(await runClockUntil(clock, ended, 250)).toBe(0);
  // Every result read before the stage is judged: green's failure among them.
  expect(metrics.stage(0).arms.blue.requests).toBe(24);
  expect(metrics.stage(0).arms.green.failures).toBe(1);
  expect(warnings).toEqual([]);
});
