// A request a route set by hand routed (to green, at the operator's 50%) that ends after the rollout's first route
// is not the rollout's: the proxy tags every result with the stage of the rollout route in force, and a route set by
// hand has none, so in the feed the rollout's first route was set in, an untagged result was routed before it. It
// was counted in stage 1 (a shadow stage then showed green requests the split never sent, and more fallbacks than
// green failures). A restarted proxy's results are untagged until the next renewal, and those stay the rollout's.
// A scripted admin API on 127.0.0.1.
import { expect, it } from 'vitest';
import type { FeedEntry } from '../../src/proxy/results-feed.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { armResult, attemptsPage } from '../helpers/results-pages.js';
import { scriptedServer } from '../proxy/helpers.js';
import { stageZeroLiveSource } from './engine-on-proxies.js';

const entry = (seq: number, stage: number | undefined, kind: FeedEntry['kind'], res: UpstreamResult): FeedEntry => ({
  seq,
  ...(stage !== undefined && { stage }),
  sent: seq,
  kind,
  result: res,
  quality: { ok: true },
});

it("leaves out a result routed by a hand-set route before the rollout's first route, and keeps a restarted proxy's", async () => {
  const state = {
    epoch: 'e1',
    // After the rollout's first route (cursor 0): green's failure under the hand route, blue's answer to it, a shadow stage's blue request.
    feed: [
      entry(1, undefined, 'routed', armResult('green', false)),
      entry(2, undefined, 'fallback', armResult('blue', true)),
      entry(3, 0, 'routed', armResult('blue', true)),
    ],
  };
  const admin = await scriptedServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.method === 'PUT') {
      const route = { greenWeight: 0, mirror: 1, updatedAt: 0, revision: 2 };
      res.end(JSON.stringify({ route, effective: route, now: 0, resultsCursor: 0, resultsEpoch: 'e1' }));
    } else res.end(JSON.stringify(attemptsPage(req.url, state.feed, [], { all: true, tagged: true, epoch: state.epoch })));
  });
  const live = stageZeroLiveSource(admin.url);
  // The rollout's own first route, as a stage sets it (not the helper's cursor set by hand).
  live.proxy.cursor = undefined;
  live.proxy.epoch = undefined;
  await live.proxy.setRoute({ greenWeight: 0, mirror: 1, ttlMs: 5000, stage: 0 });
  live.source.stop();
  await live.source.drain(5_000);
  expect(live.fleet.view().stages[0]).toMatchObject({ stage: 0, fallbacks: 0, arms: { blue: { requests: 1 }, green: { requests: 0, failures: 0 } } });

  // The proxy restarts (a new feed): its results are untagged until the next renewal, and they are this run's.
  state.epoch = 'e2';
  state.feed = [entry(1, undefined, 'routed', armResult('blue', true))];
  await live.source.drain(5_000);
  expect(live.fleet.view().stages[0]).toMatchObject({ arms: { blue: { requests: 2 }, green: { requests: 0 } } });
});
