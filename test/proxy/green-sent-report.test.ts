// The proxy's report of each stage's green sends (GET /admin/results inFlight.greenSent, session 35), for the
// rollout's p95 ratio judging green's upper bound sent-before on live traffic: every attempt on green (the split's,
// one that failed and fell back included, and mirror copies), so exactly the green results the feed carries of the
// stage plus those still running, and not exact once one ends with no result in the feed. A real proxy on 127.0.0.1
// in front of a scripted upstream.
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { expect, it } from 'vitest';
import type { FeedAnswer } from '../../src/proxy/results-feed.js';
import type { SentReport } from '../../src/proxy/metrics.js';
import { until } from '../helpers/until.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';

const TOKEN = 'admin-token-for-tests';
const REQUESTS = 16;

const admin = async (url: string, method: string, body?: unknown) =>
  fetch(url, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });

const chunk = (model: string) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] })}\n\n`;

/**
 * A proxy with fallback in front of an upstream that answers blue at once, fails green's requests asking to (500:
 * the split's fall back to blue), holds green's others until release(), and starts a held stream for green's streamed.
 */
async function proxyWithGreenHeld() {
  const held: ServerResponse[] = [];
  const server = await scriptedServer((_req, res, body) => {
    if (body.includes('blue-model')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(openAiCompletion('blue-model', 'hello'));
    if (body.includes('please fail')) return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"green broke"}}');
    if (body.includes('"stream":true')) res.writeHead(200, { 'content-type': 'text/event-stream' }).write(chunk('green-model'));
    held.push(res);
  });
  const running = await runProxy(scriptedPlan(server.url, { proxy: '{ fallback: true, admin: { token_env: ADMIN_TOKEN } }' }), {
    env: { UPSTREAM_KEY, ADMIN_TOKEN: TOKEN },
  });
  const url = running.proxy.adminUrl as string;
  const page = async () => (await (await admin(`${url}/admin/results?after=0`, 'GET')).json()) as FeedAnswer;
  const route = async (greenWeight: number, mirror: number, stage: number) =>
    expect((await admin(`${url}/admin/route`, 'PUT', { greenWeight, mirror, ttlMs: 60_000, stage })).status).toBe(200);
  const release = (): void => {
    for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end(openAiCompletion('green-model', 'hello'));
  };
  const greenAttempts = (): number => server.seen.filter((request) => request.body.includes('green-model')).length;
  return { running, server, held, page, route, release, greenAttempts };
}

/** The page's report of `stage` in `list`, and the green results of the stage in its feed (what a rollout judges as green's). */
function greenOf(answer: FeedAnswer, stage: number): { report: SentReport | undefined; results: number; running: number } {
  const report = answer.inFlight?.greenSent?.find((each) => each.stage === stage);
  const results = answer.results.filter((entry) => entry.stage === stage && entry.kind !== 'fallback' && entry.result.arm === 'green').length;
  const running = (answer.inFlight?.stages ?? []).filter((tag) => tag.stage === stage).reduce((sum, tag) => sum + (tag.green ?? 0), 0);
  return { report, results, running };
}

const sum = (counts: readonly number[] | undefined) => (counts ?? []).reduce((total, count) => total + count, 0);

it("reports every green attempt of a stage, the split's, its fallbacks' and mirror copies, as the feed's green results and those running", async () => {
  const { running, page, route, release, held, greenAttempts } = await proxyWithGreenHeld();
  // Half the requests to green, a copy of every blue one to green: each request is one green attempt, no more.
  await route(0.5, 1, 1);
  const client = new OpenAI({ baseURL: running.baseUrl, apiKey: 'unused', maxRetries: 0 });
  const calls = Array.from({ length: REQUESTS }, (_, i) =>
    client.chat.completions
      .create({ model: 'blue-model', user: `user-${i}`, messages: [{ role: 'user', content: i % 2 === 0 ? 'please fail' : 'hi' }] })
      .catch(() => undefined),
  );
  await until(() => greenAttempts() === REQUESTS, 'every green attempt at the upstream');
  await until(async () => greenOf(await page(), 1).results + held.length === REQUESTS, 'every green attempt answered but the held ones');
  const whileHeld = await page();
  const during = greenOf(whileHeld, 1);
  // Some fell back, some were copies, some are held: all of them, and each of their results, are green's sends.
  expect(whileHeld.results.some((entry) => entry.kind === 'fallback')).toBe(true);
  expect(whileHeld.results.some((entry) => entry.kind === 'mirror')).toBe(true);
  expect(held.length).toBeGreaterThan(0);
  expect(during.report).toMatchObject({ stage: 1, sends: REQUESTS, exact: true });
  expect(during.results + during.running).toBe(REQUESTS);
  expect(sum(during.report?.running)).toBe(during.running);
  expect(during.report?.sentAtLeast[0]).toBe(REQUESTS);
  // Blue's are its own attempts alone, not its answers to green's fallbacks.
  const blueOwn = whileHeld.results.filter((entry) => entry.stage === 1 && entry.kind === 'routed' && entry.result.arm === 'blue').length;
  expect(whileHeld.inFlight?.blueSent?.find((each) => each.stage === 1)?.sends).toBe(blueOwn);

  release();
  await Promise.all(calls);
  await until(async () => greenOf(await page(), 1).results === REQUESTS, "every green attempt's result in the feed");
  const after = greenOf(await page(), 1);
  expect(after.report).toMatchObject({ stage: 1, sends: REQUESTS, exact: true });
  expect(sum(after.report?.running)).toBe(0);
});

it("stays exact for a green client's abort before the first byte (a result in the feed), not for one gone after it", async () => {
  const { running, page, route, held } = await proxyWithGreenHeld();
  const client = new OpenAI({ baseURL: running.baseUrl, apiKey: 'unused', maxRetries: 0 });
  await route(1, 0, 2);
  const early = new AbortController();
  const gone = client.chat.completions
    .create({ model: 'blue-model', messages: [{ role: 'user', content: 'hi' }] }, { signal: early.signal })
    .catch(() => undefined);
  await until(() => held.length === 1, 'the green request held');
  early.abort();
  await gone;
  await until(async () => greenOf(await page(), 2).results === 1, "the abort's client_abort result in the feed");
  const aborted = await page();
  expect(aborted.results.find((entry) => entry.stage === 2)?.result.failure).toBe('client_abort');
  expect(greenOf(aborted, 2).report).toMatchObject({ stage: 2, sends: 1, exact: true });

  // A streamed answer the client leaves after its first event: no result in the feed, so the counts are no longer the sample's.
  await route(1, 0, 3);
  const late = new AbortController();
  const stream = await client.chat.completions.create(
    { model: 'blue-model', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    { signal: late.signal },
  );
  await (async () => {
    for await (const _chunk of stream) late.abort();
  })().catch(() => undefined);
  await until(async () => (await page()).inFlight?.stages.length === 0, 'the stream ended at the proxy');
  const left = await page();
  expect(greenOf(left, 3)).toMatchObject({ report: { stage: 3, sends: 1, exact: false }, results: 0 });
  for (const res of held.splice(0)) res.destroy();
});
