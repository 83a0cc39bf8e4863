// A rollout's stage end waits for the attempts the proxy still counts under way (GET /admin/results `inFlight`), so
// every attempt must leave that count exactly once: one never ended holds a stage's end to its bound; one ended
// twice hides another still running (inflight17).
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { FeedAnswer } from '../../src/proxy/results-feed.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY, type Running } from './helpers.js';
import { until } from '../helpers/until.js';

const ADMIN_TOKEN = 'admin-token-for-tests';

/** A proxy (fallback as asked) in front of `url`, routing every request green, in stage 0. */
async function proxyOn(url: string, fallback: boolean): Promise<Running> {
  const running = await runProxy(scriptedPlan(url, { proxy: `{ fallback: ${fallback}, admin: { token_env: ADMIN_TOKEN } }` }), {
    env: { UPSTREAM_KEY, ADMIN_TOKEN },
  });
  setRoute(running.proxy, 1);
  running.proxy.metrics.startStage(0);
  return running;
}

async function inFlight(running: Running): Promise<FeedAnswer['inFlight']> {
  const res = await fetch(`${running.proxy.adminUrl as string}/admin/results?after=0`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return ((await res.json()) as FeedAnswer).inFlight;
}

const chat = (running: Running, signal?: AbortSignal) =>
  fetch(`${running.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'blue-model', messages: [{ role: 'user', content: 'hi' }] }),
    ...(signal && { signal }),
  });

describe('attempts under way at the proxy', () => {
  it("leave the count when the proxy's own code fails while handling their answer", async () => {
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion('green-model', 'hello'));
    });
    const running = await proxyOn(scripted.url, false);
    // A fault of the proxy's own (injected: recording the answer throws once), the path chat.ts hands to `bug`.
    const { metrics } = running.proxy;
    const finished = metrics.finished.bind(metrics);
    let fault = true;
    metrics.finished = (...args) => {
      if (!fault) return finished(...args);
      fault = false;
      throw new Error('an injected fault');
    };
    expect((await chat(running)).status).toBe(200);
    await until(() => running.logs.some((line) => line.includes('an injected fault')), 'the internal error logged');
    // Before the fix the attempt stayed under way for ever: a stage's end waited its whole bound for it.
    expect(metrics.inFlightOf('green')).toBe(0);
    expect((await inFlight(running))?.stages).toEqual([]);
    expect((await chat(running)).status).toBe(200);
    expect(metrics.inFlightOf('green')).toBe(0);
  });

  it('leave it once when the client goes as green fails and blue answers for it, whenever it goes', async () => {
    // Green fails at once (500), so the proxy falls back to blue, which holds the request until the test answers.
    const held: ServerResponse[] = [];
    const scripted = await scriptedServer((_req, res, body) => {
      if (body.includes('green-model')) {
        res.writeHead(500, { 'content-type': 'application/json' });
        return void res.end('{"error":{"message":"green broke"}}');
      }
      held.push(res);
    });
    const running = await proxyOn(scripted.url, true);
    const { metrics } = running.proxy;
    /** One request whose client leaves when `leave` says. */
    const leaving = async (leave: (client: AbortController) => Promise<void>) => {
      const client = new AbortController();
      const request = chat(running, client.signal).catch(() => undefined);
      await leave(client);
      await request;
      await until(() => metrics.inFlightOf('blue') + metrics.inFlightOf('green') === 0 || held.length > 0, 'the request ended or held');
      for (const res of held.splice(0)) res.destroy();
      await until(() => metrics.inFlightOf('blue') === 0 && metrics.inFlightOf('green') === 0, 'every attempt ended');
    };
    // Clients leaving at every moment from before green's failure to after blue's attempt began (on a loaded
    // machine all of these may leave before green answers)...
    for (let delayMs = 0; delayMs <= 20; delayMs += 2) await leaving(async (client) => void setTimeout(() => client.abort(), delayMs));
    // ...and one leaving once blue's attempt is under way: green's failure was recorded before it began.
    await leaving(async (client) => {
      await until(() => metrics.inFlightOf('blue') > 0, "blue's attempt to begin");
      client.abort();
    });
    // Never below 0 either (an attempt ended twice, or on the wrong arm).
    expect([metrics.inFlightOf('blue'), metrics.inFlightOf('green')]).toEqual([0, 0]);
    expect((await inFlight(running))?.stages).toEqual([]);
    expect(metrics.snapshot().arms.green.failures).toBeGreaterThan(0);
  });
});
