// hostile27b: a stage's end reads each proxy's in-flight counts only for the attempts begun before its wait
// (inFlightUpTo), to know when those have answered. The rate rules count a stage's requests still running as outcomes
// unknown (the arms' inFlight, set from the same pages): those counts, taken from the wait's filtered pages, left out
// the attempts begun during the wait, which go out at the stage's weight and are still running when the stage is
// judged, so the stage's end judged green's fast failures among them without its slow successes. A scripted admin API
// on 127.0.0.1 that counts in flight as a proxy does (up to inFlightUpTo when asked), on the fake clock.
import { expect, it } from 'vitest';
import type { FeedEntry } from '../../src/proxy/results-feed.js';
import { attemptsPage, greenResult, scriptedResults } from '../helpers/results-pages.js';
import { until } from '../helpers/until.js';
import { runClockUntil, stageZeroLiveSource } from './engine-on-proxies.js';

it("counts the attempts begun during a stage's end wait, still running, in the arms' requests in flight it is judged with (a proxy before session 27)", async () => {
  // Attempt 1 (green) is under way when the stage's time is up. During the wait it answers, and attempts 2-31 (green,
  // slow) begin and are still running; 4 fast failures of attempts begun during the wait have answered.
  let feed: FeedEntry[] = [];
  let attempts = [1];
  const admin = await scriptedResults((url) => attemptsPage(url, feed, attempts, { all: false, tagged: false }));
  const { clock, metrics, source } = stageZeroLiveSource(admin.url);

  const ended = (source.catchUp as NonNullable<typeof source.catchUp>)(0);
  await until(() => admin.seen.length === 1 && clock.pendingTimers() > 0, "the stage's end waiting on its clock");
  expect(metrics.stage(0).arms.green.inFlight).toBe(1);
  feed = [1, 32, 33, 34, 35].map((_attempt, i): FeedEntry => ({ seq: i + 1, stage: 0, kind: 'routed', result: greenResult(i === 0), quality: { ok: true } }));
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
  // A proxy of session 27: every attempt under way beside those counted, its results not numbered.
  const admin = await scriptedResults((url) => attemptsPage(url, [], attempts, { all: true, tagged: false }));
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
