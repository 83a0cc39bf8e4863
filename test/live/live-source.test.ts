// The live source reads each proxy's results feed from its cursor. A proxy restarted between two reads numbers its
// results from 1 again: the source reads the new feed from its start, even once it has passed the old cursor.
import { afterEach, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/index.js';
import type { Breach } from '../../src/analysis/types.js';
import type { TrafficContext } from '../../src/engine/traffic-source.js';
import { ProxyFleet } from '../../src/live/fleet.js';
import { liveTraffic } from '../../src/live/live-source.js';
import { MetricsRecorder } from '../../src/metrics/index.js';
import type { FeedAnswer, FeedEntry } from '../../src/proxy/results-feed.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { analysisConfig } from '../helpers/plans.js';
import { scriptedServer, type Scripted } from '../proxy/helpers.js';
import { ADMIN_TOKEN } from './helpers.js';

let admin: Scripted | undefined;
let fleet: ProxyFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  await admin?.close();
  fleet = admin = undefined;
});

/** A live source reading one feed server from its start, into a one-stage rollout's metrics at 50% green. */
function readerOf(server: Scripted, seen: Pick<TrafficContext, 'warn' | 'breach'> & { onPoll?: () => void } = {}) {
  const clock = new FakeClock();
  const proxies = new ProxyFleet([server.url.replace(/\/v1$/, '')], ADMIN_TOKEN, clock, 5000, 250);
  fleet = proxies;
  (proxies.proxies[0] as { cursor?: number }).cursor = 0;
  const metrics = new MetricsRecorder({
    stages: [{ durationMs: 60_000, greenWeight: 0.5 }],
    prices: { blue: undefined, green: undefined },
    now: () => clock.now(),
  });
  const source = liveTraffic({ fleet: proxies, clock, stageCount: 1, ...(seen.onPoll && { onPoll: seen.onPoll }) })({
    metrics,
    current: () => ({ stage: 0, greenWeight: 0.5 }),
    onGreenResult: () => undefined,
    fail: (error) => {
      throw error;
    },
    ...(seen.warn && { warn: seen.warn }),
    ...(seen.breach && { breach: seen.breach }),
  });
  return { metrics, source, proxies, clock };
}

function entries(count: number): FeedEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const result: UpstreamResult = { arm: i % 2 ? 'green' : 'blue', model: 'm', ok: true, content: '', latencyMs: 5, attempts: 1, stream: false };
    return { seq: i + 1, stage: 0, kind: 'routed', result, quality: { ok: true } };
  });
}

/** A scripted admin API serving `feed`, paged the way the proxy pages it. */
async function feedServer(feed: { epoch: string; results: FeedEntry[] }): Promise<Scripted> {
  return scriptedServer((req, res) => {
    const after = Number(new URL(req.url ?? '/', 'http://admin').searchParams.get('after') ?? '0');
    const results = feed.results.filter((entry) => entry.seq > after);
    const page: FeedAnswer = { next: results.at(-1)?.seq ?? after, missed: 0, head: feed.results.length, epoch: feed.epoch, results };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(page));
  });
}

describe('live source', () => {
  it("judges blue on the requests the split sent it, not on its answers to green's fallbacks", async () => {
    // 50% green, 3% of requests rejected 400 by both models (the application's own), green failing 4% more (500).
    const results: FeedEntry[] = [];
    const push = (kind: FeedEntry['kind'], arm: 'blue' | 'green', status?: number) => {
      const failure = status === undefined ? {} : { ok: false, status, failure: status === 400 ? ('client_error' as const) : ('server_error' as const) };
      const result: UpstreamResult = { arm, model: 'm', ok: true, content: '', latencyMs: 5, attempts: 1, stream: false, ...failure };
      results.push({ seq: results.length + 1, stage: 0, kind, result, quality: { ok: true } });
    };
    for (let i = 0; i < 100; i++) {
      push('routed', 'blue', i < 3 ? 400 : undefined);
      const green = i < 3 ? 400 : i < 7 ? 500 : undefined;
      push('routed', 'green', green);
      // Blue answers each failed green attempt: the same 400 to the application's bad requests, 200 to the others.
      if (green !== undefined) push('fallback', 'blue', green === 400 ? 400 : undefined);
    }
    admin = await feedServer({ epoch: 'one', results });
    const { metrics, source, proxies } = readerOf(admin);
    await source.drain(0);
    const judged = metrics.stage(0).arms;
    // Blue 3 of 100 (3%), green 7 of 100: before, blue's 7 fallback answers (3 of them the same 400) made it 6 of
    // 107 (5.6%), hiding 2.6 of green's 4 extra points from the comparisons with blue.
    expect([judged.blue.requests, judged.blue.failures]).toEqual([100, 3]);
    expect([judged.green.requests, judged.green.failures]).toEqual([100, 7]);
    // The live figures still show the traffic blue served, fallbacks apart.
    expect(proxies.view().stages[0]).toMatchObject({ arms: { blue: { requests: 107, failures: 6 }, green: { requests: 100, failures: 7 } }, fallbacks: 7 });
  });

  it("counts the requests the proxies still serve in each stage and arm as the arms' requests in flight, judged as unknown", async () => {
    // Green's first 40 answers: its 16 fast failures (a 500 in 5 ms) and 24 slow successes; 460 more still running.
    const results: FeedEntry[] = Array.from({ length: 40 }, (_, i) => {
      const failed = i < 16 ? { ok: false, status: 500, failure: 'server_error' as const } : {};
      const result: UpstreamResult = { arm: 'green', model: 'm', ok: true, content: '', latencyMs: 5, attempts: 1, stream: false, ...failed };
      return { seq: i + 1, stage: 0, kind: 'routed', result, quality: { ok: true } };
    });
    admin = await scriptedServer((_req, res) => {
      const page: FeedAnswer = {
        next: results.length,
        missed: 0,
        head: results.length,
        epoch: 'one',
        results,
        inFlight: { started: 540, stages: [{ stage: 0, requests: 500, green: 460 }] },
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(page));
    });
    const { metrics, source } = readerOf(admin);
    await source.drain(0);
    const arms = metrics.stage(0).arms;
    expect([arms.green.requests, arms.green.failures, arms.green.inFlight, arms.blue.inFlight]).toEqual([40, 16, 460, 40]);
    // 16 of 500 sent (3.2%) is no evidence of more than 5%: 16 of the 40 answered (40%) was a rollback.
    const config = analysisConfig({ thresholds: { error_rate: 0.05 } });
    const verdict = evaluate({ stageIndex: 0, stageCount: 1, green: arms.green, blue: arms.blue, config });
    expect(verdict.breach).toBeUndefined();
    expect(evaluate({ stageIndex: 0, stageCount: 1, green: { ...arms.green, inFlight: 0 }, blue: arms.blue, config }).breach?.rule).toBe('error_rate');
  });

  it("leaves out in-flight counts that are not whole numbers (a server that is no bluegreen proxy), never the arms' figures as text or NaN", async () => {
    admin = await scriptedServer((_req, res) => {
      const tags = [
        { stage: 0, requests: '500', green: '460' },
        { stage: 0, requests: -3, green: 1 },
        { stage: 0.5, requests: 10, green: 5 },
        { stage: 0, requests: 10, green: 2.5 },
        { stage: 0, requests: 7, green: 4 },
      ];
      const page = { next: 0, missed: 0, head: 0, epoch: 'one', results: [], inFlight: { started: 9, stages: tags, all: 'every one' } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(page));
    });
    const { metrics, source } = readerOf(admin);
    await source.drain(0);
    const arms = metrics.stage(0).arms;
    // Only the one whole tag counts: 4 on green, 3 on blue.
    expect([arms.green.inFlight, arms.blue.inFlight]).toEqual([4, 3]);
  });

  it('reads a restarted proxy (a new feed epoch) from its start, though its head is past the old cursor', async () => {
    const feed = { epoch: 'first-process', results: entries(100) };
    admin = await feedServer(feed);
    const { source, proxies } = readerOf(admin);
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
    expect(proxies.view().proxies[0]?.reachable).toBe(true);
  });

  it("says a silent proxy's lease and silence as durations (5s), not in raw milliseconds", async () => {
    admin = await scriptedServer((_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"down"}'));
    const warnings: string[] = [];
    const breaches: Breach[] = [];
    let polled: () => void = () => undefined;
    const nextPoll = () => new Promise<void>((resolve) => (polled = resolve));
    const { source, clock } = readerOf(admin, { warn: (message) => warnings.push(message), breach: (breach) => breaches.push(breach), onPoll: () => polled() });
    source.start();
    let poll = nextPoll();
    await clock.advance(250);
    await poll;
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/is not answering \(.*\); it returns to blue by its lease if this lasts, and the rollout rolls back after 5s of silence$/);
    // Silent for the whole lease (5 s since its first failed read): the breach says it in the same words.
    poll = nextPoll();
    await clock.advance(5000);
    await poll;
    source.stop();
    expect(breaches).toHaveLength(1);
    expect(breaches[0]).toMatchObject({ rule: 'proxy_unreachable', figure: 5000, limit: 5000, unit: 'ms' });
    expect(breaches[0]?.message).toMatch(/ has not answered for 5s \(.*\): its lease ran out and it serves blue; rolling every proxy back$/);
  });
});
