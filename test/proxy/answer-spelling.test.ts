// A whole OpenAI answer spelled like an earlier one is read by its spelling, not parsed (src/upstream/openai-answer.ts):
// through a real proxy, the figures of answers whose keys sit in odd places (inside the text, escaped, twice,
// nested in the message) are exactly what JSON.parse reads, the fast path's or not.
import { describe, expect, it } from 'vitest';
import { openAiDialect } from '../../src/upstream/openai.js';
import { runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

const answer = (content: string, counts: [number, number, number], extra = ''): string =>
  `{"id":"chatcmpl-${counts.join('-')}","object":"chat.completion","created":${1767225600 + counts[0]},"model":"blue-model",` +
  `"choices":[{"index":0,"message":{"role":"assistant","content":${content}${extra}},"finish_reason":"stop"}],` +
  `"usage":{"prompt_tokens":${counts[0]},"completion_tokens":${counts[1]},"total_tokens":${counts[2]}}}`;

// The quality rule reads the content: an escape read as written rather than decoded would fail it.
const ANSWERS = [
  answer('"ok, the first"', [3, 4, 7]),
  answer('"ok \\"usage\\":{\\"prompt_tokens\\":999,\\"completion_tokens\\":999,\\"total_tokens\\":1998}"', [5, 6, 11]),
  answer('"\\u006fk, escaped"', [8, 9, 17]),
  answer('"not ok"', [10, 11, 21]),
  answer('"ok, usage in the message"', [12, 13, 25], ',"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}'),
  answer('"ok, usage twice"', [14, 15, 29]).replace('"usage":', '"usage":{"prompt_tokens":2,"completion_tokens":2,"total_tokens":4},"usage":'),
  answer('"ok, the first again"', [16, 17, 33]),
];

describe('whole answers read by their spelling', () => {
  it('give the figures and quality JSON.parse reads, whatever sits in the text', async () => {
    let next = 0;
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(ANSWERS[next++]);
    });
    const plan = `${scriptedPlan(scripted.url, { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' })}analysis: { quality: { regex: "^ok" } }\n`;
    const running = await runProxy(plan, { env: { UPSTREAM_KEY, ADMIN_TOKEN } });
    for (const text of ANSWERS) {
      const sent = await fetch(`${running.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'blue-model', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(sent.status).toBe(200);
      // The client gets the answer as it came.
      expect(await sent.text()).toBe(text);
    }
    const feed = await fetch(`${running.proxy.adminUrl as string}/admin/results?after=0`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const { results } = (await feed.json()) as { results: { result: { ok: boolean; usage?: unknown; finish?: string }; quality: { ok: boolean } }[] };
    const expected = ANSWERS.map((text) => {
      const parsed = openAiDialect.parse(JSON.parse(text));
      if (!parsed.ok) throw new Error(parsed.reason);
      return { ok: true, usage: parsed.reply.usage, finish: 'stop', quality: /^ok/.test(parsed.reply.content) };
    });
    expect(results.map(({ result, quality }) => ({ ok: result.ok, usage: result.usage, finish: result.finish, quality: quality.ok }))).toEqual(expected);
    // The figures JSON.parse reads: the last usage of two, never one quoted in the text or nested in the message.
    expect(expected.map((e) => [e.usage?.promptTokens, e.quality])).toEqual([
      [3, true],
      [5, true],
      [8, true],
      [10, false],
      [12, true],
      [14, true],
      [16, true],
    ]);
  });
});
