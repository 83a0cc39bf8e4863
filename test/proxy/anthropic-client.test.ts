// The official @anthropic-ai/sdk as the application, through the proxy, against the simulator.
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { runProxy, setRoute, simPlan } from './helpers.js';
import { until } from '../helpers/until.js';

const client = (baseURL: string, apiKey = 'unused') => new Anthropic({ baseURL, apiKey, maxRetries: 0 });
const ask = { max_tokens: 64, messages: [{ role: 'user' as const, content: 'hello there' }] };

describe('proxy with the Anthropic SDK', () => {
  it("answers a plain message, rewriting the model to the arm's", async () => {
    const running = await runProxy(simPlan({ api: 'anthropic' }));
    setRoute(running.proxy, 1);
    const { data, response } = await client(running.proxy.url)
      .messages.create({ model: 'claude-blue', ...ask })
      .withResponse();
    expect(response.headers.get('x-bluegreen-arm')).toBe('green');
    expect(data.model).toBe('claude-green');
    expect(data.content[0]?.type).toBe('text');
    const green = running.proxy.metrics.snapshot().arms.green;
    expect(green.successes).toBe(1);
    expect(green.tokens.completion).toBe(data.usage.output_tokens);
  });

  it("judges quality.finish_reasons by the normalised finish too: Claude's end_turn is a stop, as on the traffic path", async () => {
    const running = await runProxy(simPlan({ api: 'anthropic', quality: '{ finish_reasons: [stop] }' }));
    await client(running.proxy.url).messages.create({ model: 'claude-blue', ...ask });
    expect(running.proxy.metrics.snapshot().arms.blue).toMatchObject({ successes: 1, qualityFailures: 0 });
  });

  it("retrieves a model by id as the list shows it (models.retrieve); an unknown one is a 404 in Anthropic's shape", async () => {
    const running = await runProxy(simPlan({ api: 'anthropic' }));
    const anthropic = client(running.proxy.url);
    const listed = new Map<string, unknown>();
    for await (const model of anthropic.models.list()) listed.set(model.id, model);
    expect(await anthropic.models.retrieve('claude-blue')).toEqual(listed.get('claude-blue'));
    expect(await anthropic.models.retrieve('claude-green')).toEqual(listed.get('claude-green'));
    const unknown = await anthropic.models.retrieve('no-such-model').catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect(unknown).toMatchObject({ status: 404, error: { type: 'error', error: { type: 'not_found_error' } } });
  });

  it("retrieves an alias as blue's entry named after the alias: its id and display_name, not blue's model's name", async () => {
    const running = await runProxy(simPlan({ api: 'anthropic', proxy: '{ alias: [team-chat] }' }));
    const anthropic = client(running.proxy.url);
    const blue = await anthropic.models.retrieve('claude-blue');
    expect(blue.display_name).toBe('claude-blue');
    // The alias serves blue or green as the rollout goes: named as the application names it, the rest blue's entry.
    expect(await anthropic.models.retrieve('team-chat')).toEqual({ ...blue, id: 'team-chat', display_name: 'team-chat' });
  });

  it('streams events through and reads them on the way', async () => {
    const running = await runProxy(simPlan({ api: 'anthropic' }));
    const stream = client(running.proxy.url).messages.stream({ model: 'claude-blue', ...ask });
    let text = '';
    stream.on('text', (delta) => (text += delta));
    const final = await stream.finalMessage();
    expect(text.length).toBeGreaterThan(0);
    expect(final.stop_reason).toBeDefined();
    // Recorded once the upstream's stream has ended at the proxy, which may be just after the client's end.
    await until(() => running.proxy.metrics.snapshot().arms.blue.successes === 1, 'the stream recorded');
    const blue = running.proxy.metrics.snapshot().arms.blue;
    expect(blue.ttft?.count).toBe(1);
    expect(blue.tokens.completion).toBe(final.usage.output_tokens);
  });

  it("answers a malformed body and an unknown key in Anthropic's error shape", async () => {
    const running = await runProxy(simPlan({ api: 'anthropic', proxy: '{ client_keys_env: APP_KEYS }' }), { env: { APP_KEYS: 'app-key-1-0123456789' } });
    const denied = await client(running.proxy.url, 'wrong')
      .messages.create({ model: 'claude-blue', ...ask })
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((denied as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const response = await fetch(`${running.proxy.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'app-key-1-0123456789' }, body: '{"model":' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const ok = await client(running.proxy.url, 'app-key-1-0123456789').messages.create({ model: 'claude-blue', ...ask });
    expect(ok.model).toBe('claude-blue');
  });
});
