// A live rollout that judged nothing while its proxy was busy with requests it passed through (an application asking
// for green's model by name, or for an old name of blue's) said only "too little traffic for min_requests": its
// nothing_judged now says how many the proxies passed through untouched, and why they were not judged.
import OpenAI from 'openai';
import { expect, it } from 'vitest';
import { completionServer, scriptedPlan } from '../proxy/helpers.js';
import { oneStageLiveRollout, runClockUntil } from './engine-on-proxies.js';

it('says, when nothing was judged, how many requests the proxy passed through untouched and why', async () => {
  const upstream = await completionServer('green-model', 'hello');
  const proxy = '{ admin: { token_env: ADMIN_TOKEN } }';
  const { running, clock, journal, done } = await oneStageLiveRollout(scriptedPlan(upstream.url, { proxy }), {
    pollMs: 250,
    errorRate: 0.2,
    onUnjudged: 'rollback',
  });
  // The application asks for green's model by name: every request passes through to blue's upstream, none is split.
  const client = new OpenAI({ baseURL: running.baseUrl, apiKey: 'unused', maxRetries: 0 });
  for (let i = 0; i < 7; i++) await client.chat.completions.create({ model: 'green-model', user: `user-${i}`, messages: [{ role: 'user', content: 'hi' }] });
  const outcome = await runClockUntil(clock, done, 250);
  expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
  const breach = journal.find((event) => event.type === 'breach');
  expect(breach?.message).toContain('too little traffic for min_requests');
  expect(breach?.message).toContain(
    "the proxies passed 7 other requests through to blue's upstream untouched, neither split nor judged: they asked for other models than blue's (blue-model) and proxy.alias; an application asking for green's model (green-model) or an old name for blue (the proxy says which on stderr) should ask for blue-model, or list that name in proxy.alias",
  );
});
