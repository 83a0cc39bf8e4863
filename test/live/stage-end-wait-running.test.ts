// hostile27b: a stage's end reads each proxy's in-flight counts only for the attempts begun before its wait
// (inFlightUpTo), to know when those have answered. The rate rules count a stage's requests still running as outcomes
// unknown (the arms' inFlight, set from the same pages): those counts, taken from the wait's filtered pages, left out
// the attempts begun during the wait, which go out at the stage's weight and are still running when the stage is
// judged, so the stage's end judged green's fast failures among them without its slow successes. A scripted admin API
// on 127.0.0.1 that counts in flight as a proxy does (up to inFlightUpTo when asked), on the fake clock.
import { expect, it } from 'vitest';
import type { FeedAnswer, FeedEntry } from '../../src/proxy/results-feed.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { scriptedServer } from '../proxy/helpers.js';
import { until } from '../helpers/until.js';
import { runClockUntil, stageZeroLiveSource } from './engine-on-proxies.js';

const result = (ok: boolean): UpstreamResult => ({ arm: 'green', model: 'green-model', ok, content: '', latencyMs: 5, attempts: 1, stream: false });

/**
 * A results page as a proxy answers it: the feed after `after`, and its attempts under way, all green, counted up to
 * inFlightUpTo when asked; `all` (every attempt under way) only from a proxy since session 27.
 */
function page(url: string | undefined, feed: readonly FeedEntry[], attempts: readonly number[], all: boolean): FeedAnswer {
  const query = new URL(url ?? '/', 'http://admin').searchParams;
  const after = Number(query.get('after'));
  const upTo = query.get('inFlightUpTo') === null ? Infinity : Number(query.get('inFlightUpTo'));
  const counted = attempts.filter((seq) => seq <= upTo).length;
  return {
    epoch: 'e1',
    version: 2,
    missed: 0,
    head: feed.length,
    next: feed.length,
    results: feed.slice(after),
    inFlight: {
      started: Math.max(0, ...attempts, feed.length),
      stages: counted > 0 ? [{ stage: 0, requests: counted, green: counted }] : [],
      ...(all && upTo !== Infinity && { all: [{ stage: 0, requests: attempts.length, green: attempts.length }] }),
      stallTimeoutMs: 10_000,
    },
  };
}

it("counts the attempts begun during a stage's end wait, still running, in the arms' requests in flight it is judged with (a proxy before session 27)", async () => {
  // Attempt 1 (green) is under way when the stage's time is up. During the wait it answers, and attempts 2-31 (green,
  // slow) begin and are still running; 4 fast failures of attempts begun during the wait have answered.
  let feed: FeedEntry[] = [];
  let attempts = [1];
  const admin = await scriptedServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(page(req.url, feed, attempts, false)));
  });
  const { clock, metrics, source } = stageZeroLiveSource(admin.url);

  const ended = (source.catchUp as NonNullable<typeof source.catchUp>)(0);
  await until(() => admin.seen.length === 1 && clock.pendingTimers() > 0, "the stage's end waiting on its clock");
  expect(metrics.stage(0).arms.green.inFlight).toBe(1);
  feed = [1, 32, 33, 34, 35].map((seq, i): FeedEntry => ({ seq: i + 1, stage: 0, kind: 'routed', result: result(i === 0), quality: { ok: true } }));
  attempts = Array.from({ length: 30 }, (_, i) => i + 2);
  expect(await runClockUntil(clock, ended, 250)).toBe(0);
  const green = metrics.stage(0).arms.green;
  expect([green.requests, green.failures]).toEqual([5, 4]);
  // The 30 still running are green's requests whose outcome is not known yet, as at any other judgement.
  expect(green.inFlight).toBe(30);
});

// The analyses on the plan's interval go on during the wait: each page then says every attempt under way (`all`)
// beside those the wait counts, so no judgement meanwhile leaves out those begun during it.
it("counts the attempts begun during a stage's end wait in the arms' requests in flight while the wait lasts", async () => {
  let attempts = [1];
  const admin = await scriptedServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(page(req.url, [], attempts, true)));
  });
  const { clock, metrics, source } = stageZeroLiveSource(admin.url);
  const ended = (source.catchUp as NonNullable<typeof source.catchUp>)(0);
  await until(() => admin.seen.length === 1 && clock.pendingTimers() > 0, "the stage's end waiting on its clock");
  // Attempt 1 still runs; 30 more began during the wait.
  attempts = Array.from({ length: 31 }, (_, i) => i + 1);
  await clock.advance(250);
  await until(() => admin.seen.length === 2 && clock.pendingTimers() > 0, "the wait's second read");
  const during = metrics.stage(0).arms.green.inFlight;
  attempts = Array.from({ length: 30 }, (_, i) => i + 2);
  await runClockUntil(clock, ended, 250);
  expect(during).toBe(31);
});
