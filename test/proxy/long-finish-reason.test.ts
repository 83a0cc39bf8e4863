// An upstream whose finish reason (or served model) is not a word but a page: the results feed a rollout reads
// (and writes into its state) keeps at most MAX_UPSTREAM_WORD characters of it, on one line, for a whole answer
// and a stream alike; the reason is still normalised (to `other`) from what was sent.
import { describe, expect, it } from 'vitest';
import { MAX_UPSTREAM_WORD } from '../../src/upstream/reply.js';
import { runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const LONG = `${'reason\n"quoted"\u0001 '.repeat(5000)}end`;

describe('a finish reason of any length', () => {
  it('is kept to a short line in the results feed', async () => {
    const scripted = await scriptedServer((_req, res, body) => {
      const stream = (JSON.parse(body) as { stream?: boolean }).stream === true;
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      if (stream) {
        const chunk = (delta: object, finish: string | null) =>
          `data: ${JSON.stringify({ model: LONG, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        return void res.end(`${chunk({ content: 'hi' }, null)}${chunk({}, LONG)}data: [DONE]\n\n`);
      }
      res.end(JSON.stringify({ model: LONG, choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: LONG }] }));
    });
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { UPSTREAM_KEY, ADMIN_TOKEN } });
    for (const stream of [false, true]) {
      const answer = await fetch(`${running.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'blue-model', stream, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(answer.status).toBe(200);
      await answer.arrayBuffer();
    }
    const feed = await fetch(`${running.proxy.adminUrl as string}/admin/results?after=0`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const { results } = (await feed.json()) as { results: { result: { ok: boolean; finishReason?: string; finish?: string; servedModel?: string } }[] };
    expect(results.map(({ result }) => result.ok)).toEqual([true, true]);
    for (const { result } of results) {
      expect(result.finish).toBe('other');
      for (const word of [result.finishReason, result.servedModel]) {
        expect(word?.length).toBe(MAX_UPSTREAM_WORD);
        expect(word).toMatch(/^reason "quoted" reason .*…$/);
      }
    }
  });
});
