// A stage's end reads each proxy's figures after its results (what it passed through untouched, for a nothing_judged
// ending's words). A proxy whose results had just come was called unreachable when that second call failed, and its
// silence clock started: only the view and the passthrough count lag now; the proxy's health is its results feed's.
import OpenAI from 'openai';
import { expect, it } from 'vitest';
import { completionServer, scriptedPlan } from '../proxy/helpers.js';
import { adminRelay } from './admin-relay.js';
import { oneStageLiveRollout, runClockUntil } from './engine-on-proxies.js';

it("does not call a proxy unreachable when only its figures' read fails at a stage's end", async () => {
  const upstream = await completionServer('green-model', 'hello');
  const proxy = '{ admin: { token_env: ADMIN_TOKEN } }';
  let figuresFailed = 0;
  const { running, clock, journal, done, fleet } = await oneStageLiveRollout(scriptedPlan(upstream.url, { proxy }), {
    pollMs: 250,
    errorRate: 0.5,
    adminUrl: async (url) => (await adminRelay(url, { failRead: (path) => (path.startsWith('/admin/figures') ? (figuresFailed++, 500) : undefined) })).url,
  });
  const client = new OpenAI({ baseURL: running.baseUrl, apiKey: 'unused', maxRetries: 0 });
  for (let i = 0; i < 12; i++) await client.chat.completions.create({ model: 'blue-model', user: `user-${i}`, messages: [{ role: 'user', content: 'hi' }] });
  const outcome = await runClockUntil(clock, done, 250);
  expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
  expect(figuresFailed).toBeGreaterThan(0);
  const view = fleet.proxies[0]?.view;
  expect(view?.reachable).not.toBe(false);
  expect(view?.unreachableSince).toBeUndefined();
  expect(journal.filter((event) => /unreachable|did not answer/.test(event.message))).toEqual([]);
});
