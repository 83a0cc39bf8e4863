// A live stage's end is judged on the attempts each proxy began before its first read (the stage's cut), as generated
// traffic's is on the requests sent before its time was up: the proxy numbers each result's attempt (FeedEntry.sent)
// and counts its attempts under way up to a number (inFlightUpTo). Before, the attempts begun during the end's wait
// counted in its judgement: their fast failures answered, their slow successes running as outcomes unknown. A
// scripted admin API on 127.0.0.1 that numbers attempts as a proxy does, on the fake clock.
import { expect, it } from 'vitest';
import type { FeedEntry } from '../../src/proxy/results-feed.js';
import { attemptsPage, greenResult, scriptedResults } from '../helpers/results-pages.js';
import { scriptedServer } from '../proxy/helpers.js';
import { until } from '../helpers/until.js';
import { runClockUntil, stageZeroLiveSource } from './engine-on-proxies.js';

/**
 * Attempt 1 (green) is under way when the stage's time is up. During the end's wait it answers, attempts 2-31 (green,
 * slow) begin and are still running, and 4 fast failures (attempts 32-35) have answered.
 */
async function stageEnd(tagged: boolean) {
  let feed: FeedEntry[] = [];
  let attempts = [1];
  // A proxy since session 27 (every attempt under way beside those counted), numbering its attempts when `tagged`.
  const admin = await scriptedResults((url) => attemptsPage(url, feed, attempts, { all: true, tagged }));
  const { clock, metrics, source } = stageZeroLiveSource(admin.url);
  // As StageSteps does for a source that tags its sends, before the end's wait.
  expect(source.tagsSends).toBe(true);
  metrics.cut(0);
  const ended = (source.catchUp as NonNullable<typeof source.catchUp>)(0);
  await until(() => admin.seen.length === 1 && clock.pendingTimers() > 0, "the stage's end waiting on its clock");
  feed = [1, 32, 33, 34, 35].map((sent, i): FeedEntry => ({ seq: i + 1, stage: 0, sent, kind: 'routed', result: greenResult(i === 0), quality: { ok: true } }));
  attempts = Array.from({ length: 30 }, (_, i) => i + 2);
  expect(await runClockUntil(clock, ended, 250)).toBe(0);
  return metrics;
}

it("judges a live stage's end on the attempts the proxy began before it, not on those begun during its wait", async () => {
  const metrics = await stageEnd(true);
  const judged = metrics.judgedStage(0).arms.green;
  expect([judged.requests, judged.failures, judged.inFlight]).toEqual([1, 0, 0]);
  // The stage's figures hold every request all the same.
  const all = metrics.stage(0).arms.green;
  expect([all.requests, all.failures, all.inFlight]).toEqual([5, 4, 30]);
});

it("judges every request of the stage, as before, from a proxy that does not number its results' attempts", async () => {
  const metrics = await stageEnd(false);
  const judged = metrics.judgedStage(0).arms.green;
  expect([judged.requests, judged.failures, judged.inFlight]).toEqual([5, 4, 30]);
});

it("tells a stopped proxy's results begun after the cut by their origin's number, when the proxy restarts during the end's wait", async () => {
  // The cut is read in feed e1 (attempt 1 under way). The proxy is then stopped and restarted (feed e2): attempt 1's
  // success and 4 fast failures of attempts 32-35, begun during the wait, come handed over, numbered in e1.
  let epoch = 'e1';
  let feed: FeedEntry[] = [];
  let attempts = [1];
  let controller = '';
  const admin = await scriptedServer((req, res, body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.method === 'PUT') {
      controller = (JSON.parse(body) as { controller: string }).controller;
      return res.end(JSON.stringify({ route: { greenWeight: 0.5, mirror: 0, leaseExpiresAt: Date.now() + 60_000 }, resultsCursor: 0, resultsEpoch: 'e1' }));
    }
    res.end(JSON.stringify(attemptsPage(req.url, feed, attempts, { all: true, tagged: true, epoch })));
  });
  const warnings: string[] = [];
  const { clock, metrics, source, proxy } = stageZeroLiveSource(admin.url, (message) => warnings.push(message));
  await proxy.setRoute({ greenWeight: 0.5, mirror: 0, ttlMs: 60_000, stage: 0 });
  metrics.cut(0);
  const ended = (source.catchUp as NonNullable<typeof source.catchUp>)(0);
  await until(() => admin.seen.length === 2 && clock.pendingTimers() > 0, "the stage's end waiting on its clock");
  epoch = 'e2';
  attempts = [];
  feed = [1, 32, 33, 34, 35].map((sent, i): FeedEntry => ({
    seq: i + 1,
    stage: 0,
    kind: 'routed',
    result: greenResult(i === 0),
    quality: { ok: true },
    origin: { epoch: 'e1', seq: i + 1, controller, sent },
  }));
  expect(await runClockUntil(clock, ended, 250)).toBe(0);
  expect(warnings.some((message) => message.includes('restarted'))).toBe(true);
  const judged = metrics.judgedStage(0).arms.green;
  expect([judged.requests, judged.failures]).toEqual([1, 0]);
  const all = metrics.stage(0).arms.green;
  expect([all.requests, all.failures]).toEqual([5, 4]);
});

it('tells the results of a feed the proxy started after the cut (restarted during the wait, its old one lost) as begun after it', async () => {
  // Found by live29, left until edges31: the cut is read in feed e1 (attempt 1 under way). The proxy is then killed
  // (-9: nothing handed over) and restarted (feed e2, numbering from 1 again), and 4 fast failures begun in e2 during
  // the wait answer there. Compared with the cut's number in e1, they were judged as begun before the cut.
  let epoch = 'e1';
  let feed: FeedEntry[] = [];
  let attempts = [1];
  const admin = await scriptedServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.method === 'PUT')
      return res.end(JSON.stringify({ route: { greenWeight: 0.5, mirror: 0, leaseExpiresAt: Date.now() + 60_000 }, resultsCursor: 0, resultsEpoch: epoch }));
    res.end(JSON.stringify(attemptsPage(req.url, feed, attempts, { all: true, tagged: true, epoch })));
  });
  const { clock, metrics, source, proxy } = stageZeroLiveSource(admin.url);
  await proxy.setRoute({ greenWeight: 0.5, mirror: 0, ttlMs: 60_000, stage: 0 });
  metrics.cut(0);
  const ended = (source.catchUp as NonNullable<typeof source.catchUp>)(0);
  await until(() => admin.seen.length === 2 && clock.pendingTimers() > 0, "the stage's end waiting on its clock");
  epoch = 'e2';
  attempts = [];
  feed = [1, 2, 3, 4].map((sent, i): FeedEntry => ({ seq: i + 1, stage: 0, sent, kind: 'routed', result: greenResult(false), quality: { ok: true } }));
  expect(await runClockUntil(clock, ended, 250)).toBe(0);
  const judged = metrics.judgedStage(0).arms.green;
  expect([judged.requests, judged.failures]).toEqual([0, 0]);
  const all = metrics.stage(0).arms.green;
  expect([all.requests, all.failures]).toEqual([4, 4]);
});
