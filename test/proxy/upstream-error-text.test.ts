// An upstream answering 200 with an error in its body (or its stream's first event) has its message quoted in the
// failure's errorMessage, which a rollout prints in its `first bad_response` warning, journals and reports. Before
// hostile19 it came whole: terminal escapes (an OSC setting the window title, colours), bidirectional overrides and
// 5,000 characters reached the operator's terminal, events.jsonl and state.json, on the traffic path and through
// the proxy's results feed alike; error bodies with a non-2xx status were already cut to one short line. An answer's
// finish_reason outside the plan's quality.finish_reasons was quoted whole in the failure's reason (loose20).
import { describe, expect, it } from 'vitest';
import { json, sse, scriptedClient } from '../upstream/server.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const HOSTILE = `\u001b]0;PWNED\u0007\u001b[31mred \u202eevil ${'é'.repeat(5000)} end`;

/** Answers every request 200 with an error object carrying HOSTILE, as a body or as a stream's first event. */
async function hostileUpstream() {
  return scriptedServer((_req, res, body) => {
    const stream = (JSON.parse(body) as { stream?: boolean }).stream === true;
    const error = JSON.stringify({ error: { message: HOSTILE, type: 'server_error' } });
    res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
    res.end(stream ? `data: ${error}\n\n` : error);
  });
}

function expectOneShortLine(message: string | undefined): void {
  expect(message).toContain('red');
  expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
  expect((message ?? '').length).toBeLessThan(400);
}

describe("an upstream's error message in a 200 answer", () => {
  it("reaches the traffic path's failures on one short line without control characters", async () => {
    const error = { error: { message: HOSTILE, type: 'server_error' } };
    const { client } = await scriptedClient([json(200, error), sse([error])], { model: 'green-model', apiKey: UPSTREAM_KEY, random: () => 0.5 });
    for (const stream of [false, true]) {
      const result = await client.send({ messages: [{ role: 'user', content: 'hi' }], params: {}, stream, maxTokens: 16, source: 'synthetic' });
      expect(result).toMatchObject({ ok: false, failure: 'bad_response' });
      expectOneShortLine(result.errorMessage);
    }
  });

  it("reaches the proxy's results feed on one short line without control characters", async () => {
    const scripted = await hostileUpstream();
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { UPSTREAM_KEY, ADMIN_TOKEN } });
    for (const stream of [false, true]) {
      await fetch(`${running.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'blue-model', stream, messages: [{ role: 'user', content: 'hi' }] }),
      }).then((answer) => answer.text());
    }
    const feed = await fetch(`${running.proxy.adminUrl as string}/admin/results?after=0`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const { results } = (await feed.json()) as { results: { result: { errorMessage?: string } }[] };
    expect(results).toHaveLength(2);
    for (const { result } of results) expectOneShortLine(result.errorMessage);
  });

  it("reaches the proxy's results feed as a finish_reason the quality rules refuse, on one short line", async () => {
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion('blue-model', 'an answer').replace('"finish_reason":"stop"', `"finish_reason":${JSON.stringify(HOSTILE)}`));
    });
    const plan = `${scriptedPlan(scripted.url, { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' })}analysis: { quality: { finish_reasons: [stop] } }\n`;
    const running = await runProxy(plan, { env: { UPSTREAM_KEY, ADMIN_TOKEN } });
    await fetch(`${running.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'blue-model', messages: [{ role: 'user', content: 'hi' }] }),
    }).then((answer) => answer.text());
    const feed = await fetch(`${running.proxy.adminUrl as string}/admin/results?after=0`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const { results } = (await feed.json()) as { results: { quality: { ok: boolean; reason?: string } }[] };
    expect(results).toHaveLength(1);
    expect(results[0]?.quality.ok).toBe(false);
    expect(results[0]?.quality.reason).toMatch(/^finish reason ".*", expected one of stop$/);
    expectOneShortLine(results[0]?.quality.reason);
  });
});
