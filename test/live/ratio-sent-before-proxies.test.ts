// Live traffic through several proxies gives the p95 ratio blue's send times too (src/live/live-sent.ts): each
// proxy's report checked against the blue results read from it, summed on one look. Two real proxies on 127.0.0.1 in
// front of one scripted upstream, the engine driving them on the fake clock (one of them restarted mid-stage); then
// scripted admin APIs for a proxy restarted, never read, or whose read failed after a page.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/evaluate.js';
import type { SentBefore } from '../../src/analysis/quantile.js';
import { blueReference, blueSentReference } from '../../src/analysis/reference.js';
import { unanswered } from '../../src/analysis/rate-rules.js';
import { bucketTotal } from '../../src/metrics/buckets.js';
import type { FeedAnswer } from '../../src/proxy/results-feed.js';
import { blueAnswers, pageWith, scriptedResults } from '../helpers/results-pages.js';
import { until } from '../helpers/until.js';
import { tempDir } from '../helpers/plans.js';
import { runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from '../proxy/helpers.js';
import { ADMIN_TOKEN, proxyPorts } from './helpers.js';
import { heldBlue, oneStageLiveRollout, runClockUntil, stageZeroLiveSource } from './engine-on-proxies.js';

const POLL_MS = 250;
/** Per proxy. */
const REQUESTS = 12;

it("gives the p95 ratio blue's send times from two live proxies, covering blue's sample at both while its requests run and once they answered", async () => {
  const { server, hung, release } = await heldBlue();
  const proxy = '{ fallback: false, admin: { token_env: ADMIN_TOKEN }, limits: { max_stream_duration: 10s } }';
  const covered: { requests: number; running: number }[] = [];
  const { running, others, clock, done } = await oneStageLiveRollout(scriptedPlan(server.url, { proxy }), {
    pollMs: POLL_MS,
    errorRate: 0.5,
    proxies: 2,
    compareToBlue: '{ max_latency_p95_ratio: 3 }',
    judge: (input) => {
      const reference = blueReference(input);
      const sent = blueSentReference(input);
      const sample = bucketTotal(reference.latencyBuckets) + unanswered(reference);
      if (sent !== undefined) {
        // Whenever given, they are blue's whole sample at both proxies: its requests, and its running ones' ages.
        expect(sent.requests).toBe(sample);
        expect(sent.runningAgesMs.length).toBe(unanswered(reference));
        expect(sent.sentAtLeast(1)).toBeLessThanOrEqual(sent.requests);
        expect(sent.sentAtLeast(3_600_000)).toBe(0);
        covered.push({ requests: sample, running: unanswered(reference) });
      }
      return evaluate(input);
    },
  });
  const send = async (baseUrl: string): Promise<Promise<unknown>[]> => {
    const before = server.seen.length;
    const client = new OpenAI({ baseURL: baseUrl, apiKey: 'unused', maxRetries: 0 });
    const calls = Array.from({ length: REQUESTS }, (_, i) =>
      client.chat.completions.create({ model: 'blue-model', user: `user-${i}`, messages: [{ role: 'user', content: 'hi' }] }).catch(() => undefined),
    );
    await until(() => server.seen.length === before + REQUESTS, 'every request of the proxy at the upstream');
    return calls;
  };
  const first = await send(running.baseUrl);
  const blueAtFirst = hung.length;
  const second = await send((others[0] as (typeof others)[number]).baseUrl);
  const blue = hung.length;
  // Blue's requests at each proxy (the split is by user, the same at both).
  expect(blueAtFirst).toBeGreaterThanOrEqual(2);
  expect(blue - blueAtFirst).toBe(blueAtFirst);
  await runClockUntil(
    clock,
    until(() => covered.some((seen) => seen.running === blue && seen.requests === blue), "a judgement given both proxies' running blue send times"),
    POLL_MS,
  );
  release();
  await Promise.all([...first, ...second]);
  const answeredAfter = covered.length;
  await runClockUntil(
    clock,
    until(
      () => covered.slice(answeredAfter).some((seen) => seen.running === 0 && seen.requests === blue),
      "a judgement given both proxies' answered blue send times",
    ),
    POLL_MS,
  );
  const outcome = await runClockUntil(clock, done, POLL_MS);
  expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
});

it('falls back to the conservative count for the stage once one of two live proxies restarted in it', async () => {
  const { server, hung, release } = await heldBlue();
  const yaml = scriptedPlan(server.url, { proxy: '{ fallback: false, admin: { token_env: ADMIN_TOKEN }, limits: { max_stream_duration: 10s } }' });
  const ports = await proxyPorts();
  const where = { listen: `127.0.0.1:${ports.listen}`, adminListen: `127.0.0.1:${ports.admin}`, stateDir: tempDir() };
  const judged: { sent: SentBefore | undefined; requests: number }[] = [];
  const { running, others, clock, journal, engine, done } = await oneStageLiveRollout(yaml, {
    pollMs: POLL_MS,
    errorRate: 0.5,
    proxies: 2,
    proxy: where,
    renewOnRestart: true,
    // Long enough that every judgement here is of stage 1, before its end's cut.
    stageDuration: '10m',
    compareToBlue: '{ max_latency_p95_ratio: 3 }',
    judge: (input) => {
      const reference = blueReference(input);
      judged.push({ sent: blueSentReference(input), requests: bucketTotal(reference.latencyBuckets) + unanswered(reference) });
      return evaluate(input);
    },
  });
  const calls = [running.baseUrl, (others[0] as (typeof others)[number]).baseUrl].flatMap((baseUrl) => {
    const client = new OpenAI({ baseURL: baseUrl, apiKey: 'unused', maxRetries: 0 });
    return Array.from({ length: REQUESTS }, (_, i) =>
      client.chat.completions.create({ model: 'blue-model', user: `user-${i}`, messages: [{ role: 'user', content: 'hi' }] }).catch(() => undefined),
    );
  });
  await until(() => server.seen.length === 2 * REQUESTS, 'every request at the upstream');
  const blue = hung.length;
  release();
  await Promise.all(calls);
  await runClockUntil(
    clock,
    until(() => judged.some(({ sent, requests }) => sent?.requests === blue && requests === blue), "a judgement given both proxies' blue send times"),
    POLL_MS,
  );
  await running.close();
  await runProxy(yaml, { env: { ADMIN_TOKEN, UPSTREAM_KEY }, ...where });
  const restarted = `proxy ${running.proxy.adminUrl as string} restarted`;
  await runClockUntil(
    clock,
    until(() => journal.some((event) => event.message.startsWith(restarted)), 'the rollout to see the proxy restarted'),
    POLL_MS,
  );
  const after = judged.length;
  await runClockUntil(
    clock,
    until(() => judged.length >= after + 3, 'three judgements after the restart'),
    POLL_MS,
  );
  // The old process's figures of the stage are gone with it: none of the later judgements is given send times (the
  // fake clock runs on while the wait polls, so more than three may have come: each is checked).
  const later = judged.slice(after).map(({ sent }) => sent);
  expect(later.length).toBeGreaterThanOrEqual(3);
  expect(later.filter((sent) => sent !== undefined)).toEqual([]);
  engine.abort('test');
  expect(await runClockUntil(clock, done, POLL_MS)).toMatchObject({ phase: 'aborted' });
});

/** Proxy B's admin API: its page, or a 500 while `failing` says so. */
async function failingResults(page: (url: string | undefined) => FeedAnswer, failing: () => boolean) {
  return scriptedServer((req, res) => {
    res.writeHead(failing() ? 500 : 200, { 'content-type': 'application/json' });
    res.end(failing() ? '{}' : JSON.stringify(page(req.url)));
  });
}

describe("several live proxies' blue sends", () => {
  it("are given summed while each proxy's page is exact, an older page of one whose read failed since included, and not once one restarted", async () => {
    let pageA = (url: string | undefined) => pageWith(url, 'e1', blueAnswers(3), { sends: 3, sentAtLeast: [3, 3, 2], running: [] });
    let failing = false;
    const a = await scriptedResults((url) => pageA(url));
    const b = await failingResults(
      (url) => pageWith(url, 'e1', blueAnswers(2), { sends: 2, sentAtLeast: [2], running: [] }),
      () => failing,
    );
    const { clock, source } = stageZeroLiveSource([a.url, b.url]);
    const read = () => runClockUntil(clock, (source.catchUp as NonNullable<typeof source.catchUp>)(0), POLL_MS);
    await read();
    expect(source.sent?.('blue', 0)?.requests).toBe(5);
    // B's read fails: its last page, every result of which was read, is still its look.
    failing = true;
    await read();
    expect(source.sent?.('blue', 0)?.requests).toBe(5);
    // A restarted (feed e2): its old process's figures of the stage are lost, so the stage's count is conservative.
    failing = false;
    pageA = (url) => pageWith(url, 'e2', blueAnswers(1), { sends: 1, sentAtLeast: [1], running: [] });
    await read();
    expect(source.sent?.('blue', 0)).toBeUndefined();
  });

  it('are none while one proxy has never been read', async () => {
    const a = await scriptedResults((url) => pageWith(url, 'e1', blueAnswers(3), { sends: 3, sentAtLeast: [3], running: [] }));
    const b = await failingResults(
      (url) => pageWith(url, 'e1', [], { sends: 0, sentAtLeast: [], running: [] }),
      () => true,
    );
    const { clock, source } = stageZeroLiveSource([a.url, b.url]);
    await runClockUntil(clock, (source.catchUp as NonNullable<typeof source.catchUp>)(0), POLL_MS);
    expect(b.seen.length).toBeGreaterThan(0);
    expect(source.sent?.('blue', 0)).toBeUndefined();
  });
});
