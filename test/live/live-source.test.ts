// The live source reads each proxy's results feed from its cursor. A proxy restarted between two reads numbers its
// results from 1 again: the source reads the new feed from its start, even once it has passed the old cursor.
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyFleet } from '../../src/live/fleet.js';
import { liveTraffic } from '../../src/live/live-source.js';
import { MetricsRecorder } from '../../src/metrics/index.js';
import type { FeedAnswer, FeedEntry } from '../../src/proxy/results-feed.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { scriptedServer, type Scripted } from '../proxy/helpers.js';
import { ADMIN_TOKEN } from './helpers.js';

let admin: Scripted | undefined;
let fleet: ProxyFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  await admin?.close();
  fleet = admin = undefined;
});

function entries(count: number): FeedEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const result: UpstreamResult = { arm: i % 2 ? 'green' : 'blue', model: 'm', ok: true, content: '', latencyMs: 5, attempts: 1, stream: false };
    return { seq: i + 1, stage: 0, kind: 'routed', result, quality: { ok: true } };
  });
}

describe('live source', () => {
  it('reads a restarted proxy (a new feed epoch) from its start, though its head is past the old cursor', async () => {
    // A scripted admin API: the feed the test says, paged the way the proxy pages it.
    const feed = { epoch: 'first-process', results: entries(100) };
    admin = await scriptedServer((req, res) => {
      const after = Number(new URL(req.url ?? '/', 'http://admin').searchParams.get('after') ?? '0');
      const results = feed.results.filter((entry) => entry.seq > after);
      const page: FeedAnswer = { next: results.at(-1)?.seq ?? after, missed: 0, head: feed.results.length, epoch: feed.epoch, results };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(page));
    });
    const clock = new FakeClock();
    fleet = new ProxyFleet([admin.url.replace(/\/v1$/, '')], ADMIN_TOKEN, clock, 5000, 250);
    (fleet.proxies[0] as { cursor?: number }).cursor = 0;
    const metrics = new MetricsRecorder({
      stages: [{ durationMs: 60_000, greenWeight: 0.5 }],
      prices: { blue: undefined, green: undefined },
      now: () => clock.now(),
    });
    const source = liveTraffic({ fleet, clock, stageCount: 1 })({
      metrics,
      current: () => ({ stage: 0, greenWeight: 0.5 }),
      onGreenResult: () => undefined,
    });
    const judged = () => {
      const stage = fleet?.view().stages[0];
      return (stage?.arms.blue.requests ?? 0) + (stage?.arms.green.requests ?? 0);
    };
    await source.drain(0);
    expect(judged()).toBe(100);
    // The proxy restarted and has already served more than the old cursor by the next read.
    Object.assign(feed, { epoch: 'second-process', results: entries(150) });
    await source.drain(0);
    expect(judged()).toBe(250);
    expect(fleet.view().proxies[0]?.reachable).toBe(true);
  });
});
