// A whole (non-streamed) answer quoting the upstream key in another spelling than the raw one: an upstream or a
// relay echoing it URL-encoded (as it would put it in a query) or JSON-escaped (any JSON answer quoting it). A
// key with "+", "/", a quote or a backslash in its first characters spells differently from its first bytes
// on, so only a search for every spelling's start finds it. Real servers on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { REDACTED } from '../../src/core/redact.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, setRoute } from './helpers.js';

const KEY = 'ak+/Zq"9\\x=Yw0123456789abcdefghij';
const URL_FORM = encodeURIComponent(KEY);
const JSON_FORM = JSON.stringify(KEY).slice(1, -1);

async function ask(baseUrl: string, stream: boolean): Promise<{ status: number; text: string }> {
  const res = await fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'blue-model', stream, messages: [{ role: 'user', content: 'echo my key' }] }),
  });
  return { status: res.status, text: await res.text() };
}

/** Every spelling of the key, and every spelling's first 12 characters: none may reach the client. */
function expectNoKey(text: string): void {
  for (const form of [KEY, URL_FORM, JSON_FORM]) {
    expect(text).not.toContain(form);
    expect(text).not.toContain(form.slice(0, 12));
  }
}

describe('an upstream echoing its key in another spelling', () => {
  it('a whole successful answer: the URL-encoded, JSON-escaped and truncated echoes are all redacted', async () => {
    const scripted = await scriptedServer((req, res) => {
      const sent = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const content = `url ${encodeURIComponent(sent)} json ${sent} cut ${encodeURIComponent(sent).slice(0, 16)}… end`;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion('blue-model', content));
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY: KEY } });
    setRoute(running.proxy, 0);
    // The upstream really was sent this key, and its answer really holds the spellings.
    const upstreamAnswer = openAiCompletion('blue-model', `url ${URL_FORM} json ${KEY}`);
    expect(upstreamAnswer).toContain(JSON_FORM);
    expect(upstreamAnswer).not.toContain(KEY.slice(0, 12));

    const answer = await ask(running.baseUrl, false);
    expect(scripted.seen[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(answer.status).toBe(200);
    expectNoKey(answer.text);
    const content = (JSON.parse(answer.text) as { choices: { message: { content: string } }[] }).choices[0]?.message.content;
    expect(content).toBe(`url ${REDACTED} json ${REDACTED} cut ${REDACTED}… end`);
  });

  it('a streamed answer, as before: the same spellings redacted', async () => {
    const scripted = await scriptedServer((req, res) => {
      const sent = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const chunk = (content: string) => `data: ${JSON.stringify({ model: 'blue-model', choices: [{ index: 0, delta: { content } }] })}\n\n`;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`${chunk(`url ${encodeURIComponent(sent)}`)}${chunk(`json ${sent}`)}data: [DONE]\n\n`);
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY: KEY } });
    setRoute(running.proxy, 0);
    const answer = await ask(running.baseUrl, true);
    expect(answer.status).toBe(200);
    expectNoKey(answer.text);
    expect(answer.text.split(REDACTED)).toHaveLength(3);
    expect(answer.text).toContain('data: [DONE]');
  });
});
