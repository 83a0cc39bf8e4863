// A green stream cut after its first token reached the client: its failure in the results feed keeps the time
// to that token (ttftMs), as the generated path's failures do (test/upstream/cut-stream-ttft.test.ts), so a
// rollout's ttft_p95 counts it by its first token rather than as an outcome unknown.
import { describe, expect, it } from 'vitest';
import type { FeedAnswer } from '../../src/proxy/results-feed.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { until } from '../helpers/until.js';
import { runProxy, scriptedPlan, scriptedServer, setRoute, streamedRequest, UPSTREAM_KEY } from './helpers.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const CHUNK = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'green-model', choices: [{ index: 0, delta: { content: 'Hel' } }] })}\n\n`;

describe('a proxied stream cut after its first token', () => {
  it.each([false, true])('fails in the results feed with its time to first token (fallback: %s)', async (fallback) => {
    const clock = new FakeClock();
    // 1.5 s on the steady clock, then the headers and one content chunk, then the connection cut (no [DONE]).
    const scripted = await scriptedServer((_req, res) => {
      void clock.advance(1_500).then(() => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(CHUNK, () => res.destroy());
      });
    });
    const proxy = `{ fallback: ${fallback}, admin: { token_env: ADMIN_TOKEN } }`;
    const running = await runProxy(scriptedPlan(scripted.url, { proxy }), {
      env: { UPSTREAM_KEY, ADMIN_TOKEN },
      steadyNow: () => clock.steadyNow(),
    });
    setRoute(running.proxy, 1);
    const client = streamedRequest(running);
    await client.done;
    expect(client.text()).toContain('Hel');
    await until(() => running.proxy.metrics.snapshot().arms.green.failures === 1, "green's failure recorded");
    const res = await fetch(`${running.proxy.adminUrl as string}/admin/results?after=0`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const { results } = (await res.json()) as FeedAnswer;
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ kind: 'routed', result: { arm: 'green', ok: false, stream: true, ttftMs: 1_500, latencyMs: 1_500 } });
  });
});
