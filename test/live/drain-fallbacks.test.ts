// A live rollout's ending reads its proxies until blue's answers to green's fallbacks they had begun by its first read
// have answered: a green failure that fell back is recorded as blue's attempt begins, the fallback once blue answers, and a single
// read left the report with fewer fallbacks than green's failures that fell back. Bounded, as a stage's end is, by
// the proxies' stall timeouts and a poll: what still runs then is said. A scripted admin API on 127.0.0.1 that
// numbers attempts as a proxy does, on the fake clock.
import { expect, it } from 'vitest';
import type { FeedEntry } from '../../src/proxy/results-feed.js';
import { armResult, attemptsPage, scriptedResults } from '../helpers/results-pages.js';
import { until } from '../helpers/until.js';
import { runClockUntil, stageZeroLiveSource } from './engine-on-proxies.js';

// attemptsPage's stallTimeoutMs.
const STALL_MS = 10_000;

/** Green's attempt 1 failed and fell back: blue's attempt 2 is under way as the rollout ends (rolled back). */
async function endingWithFallbackRunning() {
  const state = {
    feed: [{ seq: 1, stage: 0, sent: 1, kind: 'routed', result: armResult('green', false), quality: { ok: true } }] as FeedEntry[],
    attempts: [2],
  };
  const admin = await scriptedResults((url) => attemptsPage(url, state.feed, state.attempts, { all: true, tagged: true, fallbacks: true }));
  const warnings: string[] = [];
  const live = stageZeroLiveSource(admin.url, (message) => warnings.push(message));
  live.source.stop();
  const drained = live.source.drain(5_000);
  await until(() => admin.seen.length === 1 && live.clock.pendingTimers() > 0, 'the ending waiting on its clock');
  return { ...live, state, drained, warnings };
}

it("waits at its ending for blue's answer to a fallback begun before it, so the report counts every fallback", async () => {
  const { clock, fleet, state, drained, warnings } = await endingWithFallbackRunning();
  state.feed = [...state.feed, { seq: 2, stage: 0, sent: 2, kind: 'fallback', result: armResult('blue', true), quality: { ok: true } }];
  state.attempts = [];
  await runClockUntil(clock, drained, 250);
  const [stage] = fleet.view().stages;
  expect(stage).toMatchObject({ stage: 0, fallbacks: 1, arms: { green: { requests: 1, failures: 1 }, blue: { requests: 1 } } });
  expect(warnings.filter((message) => message.includes('still being answered'))).toEqual([]);
});

it('waits no longer than the proxies stall bound and a poll, and says how many are still being answered', async () => {
  const { clock, fleet, drained, warnings } = await endingWithFallbackRunning();
  const start = clock.steadyNow();
  await runClockUntil(clock, drained, 250);
  expect(clock.steadyNow() - start).toBe(STALL_MS + 250);
  expect(fleet.view().stages[0]).toMatchObject({ fallbacks: 0, arms: { green: { failures: 1 } } });
  expect(warnings).toContain(
    "the rollout ended with 1 fallback to blue begun before its ending still being answered at the proxies after 10s (their upstream timeouts and a poll): green's failures that fell back are in the rollout's figures, that fallback is not",
  );
});
