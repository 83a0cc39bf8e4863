// A rollout counts, of the attempts a proxy reports under way, only its own stage tags (those naming no run, from a
// proxy before session 28, too): another run that ended on the proxy, its long requests still running in its own
// stage 0, is neither waited for at this run's stage 0's end nor counted in its arms' requests in flight. A scripted
// admin API on 127.0.0.1, on the fake clock.
import { expect, it } from 'vitest';
import type { FeedAnswer } from '../../src/proxy/results-feed.js';
import { scriptedResults } from '../helpers/results-pages.js';
import { until } from '../helpers/until.js';
import { runClockUntil, stageZeroLiveSource } from './engine-on-proxies.js';

function page(tags: NonNullable<FeedAnswer['inFlight']>['stages']): FeedAnswer {
  return { epoch: 'e1', version: 2, missed: 0, head: 0, next: 0, results: [], inFlight: { started: 9, stages: tags, stallTimeoutMs: 10_000 } };
}

it("leaves another run's stage tags out of the requests in flight it waits for and counts", async () => {
  let tags = [
    { stage: 0, controller: 'another-run', requests: 7, green: 7 },
    { stage: 0, requests: 2, green: 2 },
  ];
  const admin = await scriptedResults(() => page(tags));
  const { clock, metrics, source } = stageZeroLiveSource(admin.url);
  const ended = (source.catchUp as NonNullable<typeof source.catchUp>)(0);
  await until(() => admin.seen.length === 1 && clock.pendingTimers() > 0, "the stage's end waiting on its clock");
  // The 2 of a tag naming no run count (a proxy before session 28); the other run's 7 never do.
  expect(metrics.stage(0).arms.green.inFlight).toBe(2);
  tags = [{ stage: 0, controller: 'another-run', requests: 7, green: 7 }];
  // Its end waits for nothing of another run's: it ends at the next read, with nothing left.
  expect(await runClockUntil(clock, ended, 250)).toBe(0);
  expect(metrics.stage(0).arms.green.inFlight).toBe(0);
});
