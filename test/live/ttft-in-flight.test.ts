// ttft_p95 counts as outcomes unknown only green's streamed requests still running (ttft29): a request that does not
// stream has no first token, and with most of the traffic unstreamed, counting every request in flight roughly halved a
// real TTFT breach's visibility mid-stage. A proxy says, per stage tag, how many of green's attempts under way stream
// (`greenStreamed`); one before session 29 does not, and all of green's count, as before. A real proxy on 127.0.0.1
// in front of an upstream that holds every request, and a scripted admin API for the older proxy, on the fake clock.
import type { ServerResponse } from 'node:http';
import { expect, it } from 'vitest';
import type { FeedAnswer } from '../../src/proxy/results-feed.js';
import { runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from '../proxy/helpers.js';
import { until } from '../helpers/until.js';
import { ADMIN_TOKEN } from './helpers.js';
import { runClockUntil, stageZeroLiveSource } from './engine-on-proxies.js';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

it("counts, of green's requests in flight at a proxy, the streamed ones apart, before the stage's cut and after", async () => {
  const held: ServerResponse[] = [];
  const upstream = await scriptedServer((_req, res) => void held.push(res));
  // Held longer than the test: the proxy's own timeouts never end them.
  const yaml = scriptedPlan(upstream.url, { proxy: '{ fallback: false, admin: { token_env: ADMIN_TOKEN } }' }).replace(
    '{ connect: 2s, request: 5s, idle: 2s }',
    '{ connect: 2s, request: 60s, idle: 60s }',
  );
  const running = await runProxy(yaml, { env: { UPSTREAM_KEY, ADMIN_TOKEN } });
  const admin = running.proxy.adminUrl as string;
  const route = await fetch(`${admin}/admin/route`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ greenWeight: 1, mirror: 0, ttlMs: 60_000, stage: 0 }),
  });
  expect(route.status).toBe(200);
  await route.body?.cancel();
  const chat = (stream: boolean) =>
    fetch(`${running.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'blue-model', stream, messages: [{ role: 'user', content: 'hi' }] }),
    }).catch(() => undefined);
  // 9 unstreamed requests and 1 streamed, all on green, all held.
  const calls = [...Array.from({ length: 9 }, () => chat(false)), chat(true)];
  await until(() => held.length === 10, 'every request at the upstream');

  const { clock, metrics, source } = stageZeroLiveSource(admin);
  // As StageSteps does for a source that tags its sends, before the end's wait: the judged figures are the cut's.
  metrics.cut(0);
  const ended = (source.catchUp as NonNullable<typeof source.catchUp>)(0);
  await until(() => metrics.stage(0).arms.green.inFlight === 10 && clock.pendingTimers() > 0, "the stage's end waiting on its clock");
  expect(metrics.stage(0).arms.green).toMatchObject({ inFlight: 10, atProxies: 10, streamedInFlight: 1 });
  expect(metrics.judgedStage(0).arms.green).toMatchObject({ inFlight: 10, streamedInFlight: 1 });

  for (const res of held) res.destroy();
  await Promise.all(calls);
  expect(await runClockUntil(clock, ended, 250)).toBe(0);
  expect(metrics.stage(0).arms.green).toMatchObject({ inFlight: 0, requests: 10 });
  expect(metrics.stage(0).arms.green.streamedInFlight).toBeUndefined();
});

it("counts every one of green's requests in flight as a stream's where a proxy does not say which stream (before session 29)", async () => {
  let stages: NonNullable<FeedAnswer['inFlight']>['stages'] = [{ stage: 0, requests: 12, green: 10 }];
  const admin = await scriptedServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const page: FeedAnswer = { epoch: 'e1', version: 2, missed: 0, head: 0, next: 0, results: [], inFlight: { started: 12, stages, stallTimeoutMs: 10_000 } };
    res.end(JSON.stringify(page));
  });
  const { clock, metrics, source } = stageZeroLiveSource(admin.url);
  const ended = (source.catchUp as NonNullable<typeof source.catchUp>)(0);
  await until(() => admin.seen.length === 1 && clock.pendingTimers() > 0, "the stage's end waiting on its clock");
  const green = metrics.stage(0).arms.green;
  expect(green.inFlight).toBe(10);
  // Absent: ttft_p95 counts all 10 as outcomes unknown.
  expect(green.streamedInFlight).toBeUndefined();
  // More streamed than green's (no proxy says so): all of green's, no more.
  stages = [{ stage: 0, requests: 12, green: 10, greenStreamed: 99 }];
  await clock.advance(250);
  await until(() => admin.seen.length === 2 && clock.pendingTimers() > 0, "the wait's second read");
  expect(metrics.stage(0).arms.green.streamedInFlight).toBeUndefined();
  stages = [{ stage: 0, requests: 12, green: 10, greenStreamed: 3 }];
  await clock.advance(250);
  await until(() => admin.seen.length === 3 && clock.pendingTimers() > 0, "the wait's third read");
  expect(metrics.stage(0).arms.green).toMatchObject({ inFlight: 10, streamedInFlight: 3 });
  stages = [];
  expect(await runClockUntil(clock, ended, 250)).toBe(0);
});
