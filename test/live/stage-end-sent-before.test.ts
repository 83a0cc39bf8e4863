// A live stage's end is judged on the attempts each proxy began before its first read (the stage's cut), as generated
// traffic's is on the requests sent before its time was up: the proxy numbers each result's attempt (FeedEntry.sent)
// and counts its attempts under way up to a number (inFlightUpTo). Before, the attempts begun during the end's wait
// counted in its judgement: their fast failures answered, their slow successes running as outcomes unknown. A
// scripted admin API on 127.0.0.1 that numbers attempts as a proxy does, on the fake clock.
import { expect, it } from 'vitest';
import type { FeedAnswer, FeedEntry } from '../../src/proxy/results-feed.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { scriptedServer } from '../proxy/helpers.js';
import { until } from '../helpers/until.js';
import { runClockUntil, stageZeroLiveSource } from './engine-on-proxies.js';

const result = (ok: boolean): UpstreamResult => ({ arm: 'green', model: 'green-model', ok, content: '', latencyMs: 5, attempts: 1, stream: false });

/** A page as a proxy answers it; `tagged`: a proxy since session 28 (its results say their attempt's number). */
function page(url: string | undefined, feed: readonly FeedEntry[], attempts: readonly number[], tagged: boolean): FeedAnswer {
  const query = new URL(url ?? '/', 'http://admin').searchParams;
  const after = Number(query.get('after'));
  const upTo = query.get('inFlightUpTo') === null ? Infinity : Number(query.get('inFlightUpTo'));
  const counted = attempts.filter((seq) => seq <= upTo).length;
  const results = feed.slice(after).map((entry) => {
    if (tagged) return entry;
    const { sent: _sent, ...older } = entry;
    return older;
  });
  return {
    epoch: 'e1',
    version: 2,
    missed: 0,
    head: feed.length,
    next: feed.length,
    results,
    inFlight: {
      started: Math.max(0, ...attempts, ...feed.map((entry) => entry.sent ?? 0)),
      stages: counted > 0 ? [{ stage: 0, requests: counted, green: counted }] : [],
      ...(upTo !== Infinity && { all: attempts.length > 0 ? [{ stage: 0, requests: attempts.length, green: attempts.length }] : [] }),
      stallTimeoutMs: 10_000,
      ...(tagged && { sentTagged: true }),
    },
  };
}

/**
 * Attempt 1 (green) is under way when the stage's time is up. During the end's wait it answers, attempts 2-31 (green,
 * slow) begin and are still running, and 4 fast failures (attempts 32-35) have answered.
 */
async function stageEnd(tagged: boolean) {
  let feed: FeedEntry[] = [];
  let attempts = [1];
  const admin = await scriptedServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(page(req.url, feed, attempts, tagged)));
  });
  const { clock, metrics, source } = stageZeroLiveSource(admin.url);
  // As StageSteps does for a source that tags its sends, before the end's wait.
  expect(source.tagsSends).toBe(true);
  metrics.cut(0);
  const ended = (source.catchUp as NonNullable<typeof source.catchUp>)(0);
  await until(() => admin.seen.length === 1 && clock.pendingTimers() > 0, "the stage's end waiting on its clock");
  feed = [1, 32, 33, 34, 35].map((sent, i): FeedEntry => ({ seq: i + 1, stage: 0, sent, kind: 'routed', result: result(i === 0), quality: { ok: true } }));
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
