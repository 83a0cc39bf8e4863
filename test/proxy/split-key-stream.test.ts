// An upstream echoing the proxy's key in a streamed answer, split across two chunks at every position: through
// the proxy, a real client never receives the key (at most HOLD_FROM - 1 of its leading characters, "sk-"), and
// the rest of the stream arrives intact and in order; a stream cut while the key's start is held back sends none
// of it. The upstream sends the second chunk only once the client has what the proxy made of the first, so each
// chunk reaches the proxy on its own.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { REDACTED } from '../../src/core/redact.js';
import { HOLD_FROM } from '../../src/proxy/split-key.js';
import { runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';
import { until } from '../helpers/until.js';

const event = (content: string) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'blue-model', choices: [{ index: 0, delta: { content } }] })}\n\n`;
const FIRST = event('Hello, é');
const QUOTING = event(`your key is ${UPSTREAM_KEY} ✓`);
const KEY_AT = QUOTING.indexOf(UPSTREAM_KEY);
const LAST = `${event(' bye')}data: [DONE]\n\n`;

/** A loopback upstream that opens an SSE answer for each request and leaves the writing to the test. */
async function upstream(): Promise<{ url: string; answers: ServerResponse[] }> {
  const answers: ServerResponse[] = [];
  const scripted = await scriptedServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    answers.push(res);
  });
  return { url: scripted.url, answers };
}

/** Reads the proxy's streamed answer as it comes; `received` grows with every chunk the client gets. */
function ask(baseUrl: string): { received: () => string; done: Promise<'ended' | 'broken'> } {
  let bytes = Buffer.alloc(0);
  const done = (async () => {
    const response = await fetch(`${baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'blue-model', stream: true, messages: [{ role: 'user', content: 'my key?' }] }),
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done: finished, value } = await reader.read();
        if (finished) return 'ended' as const;
        bytes = Buffer.concat([bytes, value]);
      }
    } catch {
      return 'broken' as const;
    }
  })();
  return { received: () => bytes.toString('utf8'), done };
}

describe('a key split across two stream chunks, through the proxy', () => {
  it('never reaches the client, whatever the split; the stream arrives whole and in order', async () => {
    const scripted = await upstream();
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    for (let split = 1; split < UPSTREAM_KEY.length; split++) {
      const client = ask(running.baseUrl);
      await until(() => scripted.answers.length === split, `split ${split}: the request upstream`);
      const answer = scripted.answers[split - 1] as ServerResponse;
      answer.write(FIRST + QUOTING.slice(0, KEY_AT + split));
      // The client gets what comes before the key at once: only a key's start is held back.
      await until(() => client.received().includes(QUOTING.slice(0, KEY_AT)), `split ${split}: the text before the key`);
      answer.end(QUOTING.slice(KEY_AT + split) + LAST);
      expect(await client.done).toBe('ended');
      const shown = split < HOLD_FROM ? UPSTREAM_KEY.slice(0, split) : '';
      expect(client.received(), `split ${split}`).toBe(FIRST + QUOTING.replace(UPSTREAM_KEY, shown + REDACTED) + LAST);
      expect(client.received()).not.toContain(UPSTREAM_KEY.slice(0, HOLD_FROM));
    }
  });

  it('sends none of a held key start when the upstream breaks off after it', async () => {
    const scripted = await upstream();
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    for (const [n, split] of [HOLD_FROM, 12, UPSTREAM_KEY.length - 1].entries()) {
      const client = ask(running.baseUrl);
      await until(() => scripted.answers.length === n + 1, 'the request upstream');
      const answer = scripted.answers[n] as ServerResponse;
      answer.write(FIRST + QUOTING.slice(0, KEY_AT + split));
      await until(() => client.received().includes(QUOTING.slice(0, KEY_AT)), 'the text before the key');
      answer.destroy();
      // The client sees a broken stream, not one that looks whole, and nothing of the key.
      expect(await client.done).toBe('broken');
      expect(client.received()).toBe(FIRST + QUOTING.slice(0, KEY_AT));
    }
  });
});
