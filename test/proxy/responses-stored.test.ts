// Responses API continuations (previous_response_id) stay on the arm that answered what they continue: the state
// they name is stored with that arm's upstream. The official openai SDK as the application.
import OpenAI from 'openai';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { StoredResponses } from '../../src/proxy/stored-responses.js';
import { runProxy, scriptedServer, setRoute, simPlan, twoUpstreamsPlan, UPSTREAM_KEY } from './helpers.js';

const client = (baseURL: string) => new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });

async function turn(openai: OpenAI, model: string, previous?: string): Promise<{ arm: string | null; fallback: string | null; id: string }> {
  const body = { model, input: 'and then?', ...(previous !== undefined && { previous_response_id: previous }) };
  const { data, response } = await openai.responses.create(body).withResponse();
  return { arm: response.headers.get('x-bluegreen-arm'), fallback: response.headers.get('x-bluegreen-fallback'), id: data.id };
}

describe('a continuation by previous_response_id', () => {
  it('goes to the arm that answered the response it continues, plain or streamed, whatever the split draws', async () => {
    const running = await runProxy(simPlan(), { random: createRandom(7) });
    setRoute(running.proxy, 0.5);
    const openai = client(running.baseUrl);
    const conversations = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const first = await turn(openai, 'gpt-4o');
        const arms = [first.arm];
        let previous = first.id;
        for (let i = 0; i < 3; i++) {
          const next = await turn(openai, 'gpt-4o', previous);
          arms.push(next.arm);
          previous = next.id;
        }
        // Streamed: its id is read from the stream as it passes.
        const stream = await openai.responses.create({ model: 'gpt-4o', input: 'and?', previous_response_id: previous, stream: true }).withResponse();
        for await (const event of stream.data) if (event.type === 'response.completed') previous = event.response.id;
        arms.push(stream.response.headers.get('x-bluegreen-arm'));
        arms.push((await turn(openai, 'gpt-4o', previous)).arm);
        return arms;
      }),
    );
    for (const arms of conversations) expect(new Set(arms)).toEqual(new Set([arms[0]]));
    expect(new Set(conversations.map((arms) => arms[0]))).toEqual(new Set(['blue', 'green']));
  });

  it('goes to the arm taking all traffic once its own gets none (rolled back, or green at 100%)', async () => {
    const running = await runProxy(simPlan());
    const openai = client(running.baseUrl);
    setRoute(running.proxy, 1);
    const onGreen = await turn(openai, 'gpt-4o');
    expect(onGreen.arm).toBe('green');
    setRoute(running.proxy, 0);
    expect((await turn(openai, 'gpt-4o', onGreen.id)).arm).toBe('blue');
    const onBlue = await turn(openai, 'gpt-4o');
    setRoute(running.proxy, 0.9);
    expect((await turn(openai, 'gpt-4o', onBlue.id)).arm).toBe('blue');
    setRoute(running.proxy, 1);
    expect((await turn(openai, 'gpt-4o', onBlue.id)).arm).toBe('green');
  });

  it("held on green on another upstream, is not answered by blue when green fails (blue cannot read green's state)", async () => {
    let greenFails = false;
    const answer = (res: ServerResponse, model: string, id: string) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'response',
          status: 'completed',
          model,
          output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: `from ${model}` }] }],
          usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 },
        }),
      );
    };
    let n = 0;
    const blue = await scriptedServer((_req, res, body) => answer(res, (JSON.parse(body) as { model: string }).model, `resp_blue_${n++}`));
    const green = await scriptedServer((_req, res, body) => {
      if (!greenFails) return answer(res, (JSON.parse(body) as { model: string }).model, `resp_green_${n++}`);
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'green is down', type: 'server_error', param: null, code: null } }));
    });
    const plan = twoUpstreamsPlan(blue.url, green.url);
    const running = await runProxy(plan, { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0.5);
    const openai = client(running.baseUrl);
    // Until one conversation starts on green.
    let onGreen: Awaited<ReturnType<typeof turn>> | undefined;
    while (!onGreen) {
      const next = await turn(openai, 'blue-model');
      if (next.arm === 'green') onGreen = next;
    }
    greenFails = true;
    const error = await turn(openai, 'blue-model', onGreen.id).catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('x-bluegreen-arm')).toBe('green');
    // A request starting afresh still falls back.
    setRoute(running.proxy, 1);
    expect(await turn(openai, 'blue-model')).toMatchObject({ arm: 'blue', fallback: 'true' });
    expect(running.proxy.metrics.snapshot().fallbacks).toBe(1);
  });
});

describe('StoredResponses', () => {
  it('forgets the oldest ids past its capacity, and ignores ids no upstream gives', () => {
    const stored = new StoredResponses(true, 3);
    for (const id of ['a', 'b', 'c', 'd']) stored.remember(id, 'green');
    expect(stored.size).toEqual({ responses: 3, items: 0 });
    expect(stored.pinned({ previous_response_id: 'a' }, 0.5)).toBeUndefined();
    expect(stored.pinned({ previous_response_id: 'd' }, 0.5)).toBe('green');
    stored.remember('x'.repeat(300), 'blue');
    stored.remember('', 'blue');
    expect(stored.size).toEqual({ responses: 3, items: 0 });
    expect(stored.pinned({ previous_response_id: 5 }, 0.5)).toBeUndefined();
  });

  it("keeps output items apart: an answer's many items never push response ids out; a deleted response is forgotten", () => {
    const stored = new StoredResponses(false, 3);
    stored.remember('resp_1', 'green', ['rs_1', 'fc_1', 'fc_2', 'msg_1']);
    stored.remember('resp_2', 'green', ['msg_2']);
    expect(stored.size).toEqual({ responses: 2, items: 3 });
    expect(stored.armOf('resp_1')).toBe('green');
    expect(stored.pinned({ previous_response_id: 'resp_1' }, 0.5)).toBe('green');
    // The oldest items went, the newest are still known.
    expect(stored.pinned({ input: [{ type: 'item_reference', id: 'rs_1' }] }, 0.5)).toBeUndefined();
    expect(stored.pinned({ input: [{ type: 'item_reference', id: 'msg_2' }] }, 0.5)).toBe('green');
    stored.forget('resp_1');
    expect(stored.armOf('resp_1')).toBe('blue');
    expect(stored.size).toEqual({ responses: 1, items: 3 });
  });
});
