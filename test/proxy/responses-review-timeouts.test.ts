// Review (review11): a Responses stream sends response.created and response.in_progress at once, then nothing
// while the model thinks (gpt-5 and o-series: tens of seconds with no reasoning summary asked for). On chat that
// wait comes before the first body byte and upstream.timeout.request bounds it; here the opening events are the
// first bytes, so the proxy times the model's thinking by upstream.timeout.idle instead. The proxy's timers are
// faked (setTimeout only) and moved by hand while a scripted upstream sends what the test asks for.
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runProxy, scriptedPlan, scriptedServer, setRoute, streamedRequest, UPSTREAM_KEY } from './helpers.js';
import { responseObject, responsesEvent, textItem } from './responses-fixtures.js';
import { until } from '../helpers/until.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const sse = responsesEvent;
const response = (status: string, output: unknown[]) => responseObject('resp_1', 'blue-model', status, output);
const text = textItem('thought it over');

describe('a Responses stream that thinks after its opening events (review11)', () => {
  // BUG (responses11, src/proxy/forwarding.ts streamBegan/armIdle with the Responses path's leading events): the
  // silence after response.created / response.in_progress is cut by upstream.timeout.idle (default 30s) as the
  // arm's timeout, and the client's stream breaks, where the same model on chat completions has
  // upstream.timeout.request (default 60s) for its time to first token. Expected: the wait for the first output
  // after the leading events is bounded by upstream.timeout.request, as the wait for a chat stream's first byte.
  it('is not cut by timeout.idle before its first output, within timeout.request', async () => {
    let upstream: ServerResponse | undefined;
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        sse({ type: 'response.created', response: response('in_progress', []) }) + sse({ type: 'response.in_progress', response: response('in_progress', []) }),
      );
      upstream = res;
    });
    const yaml = scriptedPlan(scripted.url).replace('timeout: { connect: 2s, request: 5s, idle: 2s }', 'timeout: { connect: 2s, request: 10s, idle: 2s }');
    const running = await runProxy(yaml, { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    const client = streamedRequest(running, '/responses', '{"model":"blue-model","input":"think hard","stream":true}');
    await until(() => client.text().includes('response.in_progress'), 'the opening events at the client');
    // The model thinks for 3 s: past timeout.idle (2 s), well within timeout.request (10 s).
    await vi.advanceTimersByTimeAsync(3000);
    upstream?.write(sse({ type: 'response.output_text.delta', output_index: 0, content_index: 0, item_id: 'msg_1', delta: 'thought it over' }));
    upstream?.end(sse({ type: 'response.completed', response: response('completed', [text]) }));
    await client.done;
    expect(client.ended()).toBe('complete');
    expect(client.text()).toContain('response.completed');
    await until(() => running.proxy.metrics.snapshot().arms.blue.requests === 1, 'the stream recorded');
    expect(running.proxy.metrics.snapshot().arms.blue).toMatchObject({ successes: 1, failuresByClass: {} });
  });
});
