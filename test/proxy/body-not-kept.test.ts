// A request forwarded with no attempt to follow (blue, or green without fallback) does not keep its body's text and
// parsed tree through the upstream's wait: for a model that is seconds, and a conversation's body is tens of
// kilobytes twice over (its text and its parse), which every scavenge meanwhile copied and then promoted.
import { createServer, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { exposedGc } from '../helpers/heap.js';
import { listenForTest } from '../helpers/loopback.js';
import { openAiCompletion, runProxy, scriptedPlan, UPSTREAM_KEY } from './helpers.js';
import { until } from '../helpers/until.js';

const REQUESTS = 16;
// One body for every request (one copy in this process, the client's): a 256 KB conversation.
const BODY = JSON.stringify({ model: 'blue-model', messages: [{ role: 'user', content: 'x'.repeat(256 * 1024) }] });

const held: ServerResponse[] = [];
afterEach(() => {
  for (const res of held.splice(0)) res.destroy();
});

/** An upstream that reads each request whole and holds its answer until the test writes it; closed after the test. */
async function holdingUpstream(): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => held.push(res));
  });
  return `http://${await listenForTest(server)}/v1`;
}

describe('a forwarded request', () => {
  it('keeps neither its text nor its parse while the upstream answers', async () => {
    const gc = exposedGc();
    const upstream = await holdingUpstream();
    const running = await runProxy(scriptedPlan(upstream), { env: { UPSTREAM_KEY } });
    const send = () => fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
    // One request first, so what the first request sets up (pools, compiled code) is in the heap before it is read.
    const first = send();
    await until(() => held.length === 1, 'the first request at the upstream');
    held.pop()?.end(openAiCompletion('blue-model', 'hi'));
    await (await first).text();
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    const answers = Array.from({ length: REQUESTS }, send);
    await until(() => held.length === REQUESTS, 'every request at the upstream');
    gc();
    gc();
    const kept = process.memoryUsage().heapUsed - before;
    for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end(openAiCompletion('blue-model', 'hi'));
    for (const answer of await Promise.all(answers)) expect(answer.status).toBe(200);
    // 1.4 MB here; kept, the text and the parsed content were 512 KB more a request (9.8 MB in all).
    expect(kept).toBeLessThan(4 * 1024 * 1024);
  });
});
