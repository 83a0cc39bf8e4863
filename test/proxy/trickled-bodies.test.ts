// A request took one of max_concurrency's places before its body was read: clients trickling bodies (a byte now
// and then, within body_timeout) could fill them all, and every other request got 503 meanwhile. A body is read
// outside the limit now, and a request takes its place once it is read (refused then, with 503, when the places
// are full). Real proxy, raw client sockets and a scripted upstream on 127.0.0.1.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { until } from '../helpers/until.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY, type Running } from './helpers.js';

const BODY = '{"model":"blue-model","messages":[{"role":"user","content":"hi"}]}';

/** A request whose headers and first `sent` body bytes are sent, the rest held back: `finish()` sends it and resolves with the answer. */
async function trickling(proxy: Running, body = BODY, sent = 5): Promise<{ socket: Socket; answered(): boolean; answer(): string; finish(): Promise<string> }> {
  const port = Number(new URL(proxy.proxy.url).port);
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  // A request refused before its body came whole has its connection closed: the rest written then may fail.
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(
    `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, sent)}`,
  );
  return {
    socket,
    answered: () => answer !== '',
    answer: () => answer,
    finish: async () => {
      if (!socket.destroyed) socket.write(body.slice(sent));
      await until(() => answer.includes('\r\n\r\n') && answer.includes('}'), 'the trickled request to be answered');
      socket.destroy();
      return answer;
    },
  };
}

describe('request bodies still on their way', () => {
  it('do not hold max_concurrency places: a whole request is served while they trickle', async () => {
    const upstream = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion('blue-model', 'hello there, an answer'));
    });
    const running = await runProxy(scriptedPlan(upstream.url, { proxy: '{ limits: { max_concurrency: 1 } }' }), { env: { UPSTREAM_KEY } });
    const slow = [await trickling(running), await trickling(running)];
    // In flight, or (refused before their bodies came, as they were) answered.
    await until(() => running.proxy.inFlight() + slow.filter((one) => one.answered()).length === 2, 'both trickled requests to be in flight');
    expect(slow.map((one) => one.answered())).toEqual([false, false]);
    const res = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    // Read, they are served in turn.
    for (const one of slow) expect(await one.finish()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('take a place once read, and get 503 then when the places are full', async () => {
    let release!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    const upstream = await scriptedServer((_req, res) => {
      release = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(openAiCompletion('blue-model', 'hello there, an answer'));
      };
      held();
    });
    const running = await runProxy(scriptedPlan(upstream.url, { proxy: '{ limits: { max_concurrency: 1 } }' }), { env: { UPSTREAM_KEY } });
    const slow = await trickling(running);
    await until(() => running.proxy.inFlight() === 1, 'the trickled request to be in flight');
    const whole = fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
    // The whole request reached the upstream (it was refused 503 while the trickled body held the place).
    await Promise.race([holding, whole]);
    expect(upstream.seen).toHaveLength(1);
    const refused = await slow.finish();
    expect(refused).toMatch(/^HTTP\/1\.1 503 /);
    expect(refused.toLowerCase()).toContain('retry-after: 1');
    release();
    expect((await whole).status).toBe(200);
    expect(running.proxy.metrics.snapshot().rejected).toMatchObject({ overloaded: 1 });
  });
  it('hold at most max_concurrency x max_body_bytes bytes together: the body that would pass it gets 503', async () => {
    const upstream = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion('blue-model', 'hello there, an answer'));
    });
    // One place of 1,000 bytes: two bodies of 900 on their way, 600 of each sent, cannot both be held.
    const plan = scriptedPlan(upstream.url, { proxy: '{ limits: { max_concurrency: 1, max_body_bytes: 1000 } }' });
    const running = await runProxy(plan, { env: { UPSTREAM_KEY } });
    const body = `{"model":"blue-model","messages":[{"role":"user","content":"${'x'.repeat(900 - 60)}"}]}`.padEnd(900, ' ');
    const first = await trickling(running, body, 600);
    const second = await trickling(running, body, 600);
    await until(() => first.answered() || second.answered(), 'the body past the budget to be refused');
    const [refused, held] = first.answered() ? [first, second] : [second, first];
    await until(() => refused.answer().includes('}'), 'the whole refusal');
    expect(refused.answer()).toMatch(/^HTTP\/1\.1 503 /);
    expect(refused.answer().toLowerCase()).toContain('retry-after: 1');
    expect(refused.answer()).toContain('request bodies on their way');
    // The other goes on, and its bytes are given back once read: a whole request after it fits.
    expect(await held.finish()).toMatch(/^HTTP\/1\.1 200 /);
    const after = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(after.status).toBe(200);
    await after.arrayBuffer();
    expect(running.proxy.metrics.snapshot().rejected).toMatchObject({ overloaded: 1 });
  });
});
