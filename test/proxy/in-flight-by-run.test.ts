// The attempts under way a proxy reports per stage tag (GET /admin/results `inFlight`) name the rollout run whose
// route set the stage: a run that took the proxy after another ended there, whose long requests still run, numbers
// its stages from 0 too, and counted the other run's stage 2 as its own (waited for it at its stage's end, judged
// with it as outcomes unknown). Found in session 27 (src/proxy/metrics.ts inFlightByStage).
import type { ServerResponse } from 'node:http';
import { expect, it } from 'vitest';
import type { FeedAnswer } from '../../src/proxy/results-feed.js';
import { runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';
import { until } from '../helpers/until.js';

const ADMIN_TOKEN = 'admin-token-for-tests';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

it("counts each run's attempts under its own stage tag, not another run's of the same stage number", async () => {
  // The upstream holds every request until the test ends.
  const held: ServerResponse[] = [];
  const upstream = await scriptedServer((_req, res) => void held.push(res));
  const running = await runProxy(scriptedPlan(upstream.url, { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { UPSTREAM_KEY, ADMIN_TOKEN } });
  const admin = running.proxy.adminUrl as string;
  const put = async (body: Record<string, unknown>) => {
    const res = await fetch(`${admin}/admin/route`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ mirror: 0, ...body }),
    });
    expect(res.status).toBe(200);
    await res.body?.cancel();
  };
  const chat = () =>
    void fetch(`${running.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'blue-model', messages: [{ role: 'user', content: 'hi' }] }),
    }).catch(() => undefined);

  await put({ controller: 'run-a', greenWeight: 1, ttlMs: 60_000, stage: 2 });
  chat();
  await until(() => held.length === 1, "run-a's request at the upstream");
  // run-a ends (back to blue); run-b takes the proxy and reaches its own stage 2 while run-a's request still runs.
  await put({ controller: 'run-a', greenWeight: 0, ended: true });
  await put({ controller: 'run-b', greenWeight: 1, ttlMs: 60_000, stage: 2 });
  chat();
  await until(() => held.length === 2, "run-b's request at the upstream");

  const page = (await (await fetch(`${admin}/admin/results?after=0`, { headers: auth })).json()) as FeedAnswer;
  expect(page.inFlight?.stages).toEqual([
    { stage: 2, controller: 'run-a', requests: 1, green: 1, greenStreamed: 0 },
    { stage: 2, controller: 'run-b', requests: 1, green: 1, greenStreamed: 0 },
  ]);
  for (const res of held) res.destroy();
});
