// Models other than the one under rollout pass through to blue's upstream (DESIGN: "others pass through"); they
// spend the operator's upstream key too, so proxy.passthrough can restrict them, the rest refused with 404.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { passthroughNotice, proxySettings } from '../../src/proxy/config.js';
import { proxyBlockOf } from '../../src/plan/proxy-schema.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROUTE_FILE, routeOwner } from '../../src/proxy/route.js';
import { planFromYaml, tempDir } from '../helpers/plans.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, simPlan, UPSTREAM_KEY, type Scripted } from './helpers.js';

const ask = { messages: [{ role: 'user' as const, content: 'hello there' }] };
const openai = (baseURL: string) => new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });

/** An upstream answering every model by its own name. */
async function echoingUpstream(): Promise<Scripted> {
  return scriptedServer((_req, res, body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(openAiCompletion((JSON.parse(body) as { model: string }).model, 'ok'));
  });
}

describe('a request for a model not under rollout', () => {
  it("passes through to blue's upstream by default, untouched", async () => {
    const scripted = await echoingUpstream();
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    const answer = await openai(running.baseUrl).chat.completions.create({ model: 'o1-pro', ...ask });
    expect(answer.model).toBe('o1-pro');
    expect(scripted.seen).toHaveLength(1);
    expect(running.proxy.metrics.snapshot().passedThrough).toBe(1);
  });

  it("says once, on the proxy's log, that a request naming green's model passes through unsplit and unjudged", async () => {
    const scripted = await echoingUpstream();
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    const client = openai(running.baseUrl);
    await client.chat.completions.create({ model: 'o1-pro', ...ask });
    expect(running.logs.filter((line) => line.includes("green's model"))).toEqual([]);
    for (let i = 0; i < 2; i++) {
      const answer = await client.chat.completions.create({ model: 'green-model', ...ask }).withResponse();
      // Blue's upstream served it, as any other model: the application's SDK sees nothing amiss.
      expect(answer.response.headers.get('x-bluegreen-arm')).toBe('blue');
    }
    expect(running.logs.filter((line) => line.includes("green's model"))).toEqual([
      "a request asked for green's model (green-model) by name: it passes through to blue's upstream as another model, neither split nor judged; the application should ask for blue's model (blue-model), which the route sends to green in its share (said once)",
    ]);
    expect(running.proxy.metrics.snapshot().passedThrough).toBe(3);
  });

  it("says, at the start and once on the first request, that the previous plan's blue passes through after green became blue", async () => {
    const scripted = await echoingUpstream();
    // "Making green the new blue" (docs/live.md): the previous plan (old-model -> blue-model) promoted blue-model,
    // and the proxy restarts on the next plan (blue-model -> green-model); the application still asks for old-model.
    const stateDir = tempDir();
    const previous = routeOwner('proxy-previous', 'old-model', 'blue-model');
    writeFileSync(
      path.join(stateDir, ROUTE_FILE),
      JSON.stringify({ greenWeight: 1, mirror: 0, promotedArm: 'green', rollout: previous, reason: 'promoted', updatedAt: 1, revision: 4 }),
    );
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY }, stateDir });
    const fix = "list it in proxy.alias (alias: [old-model]) so this plan's blue (blue-model) answers it, or have the application ask for blue-model";
    expect(running.logs.filter((line) => line.includes('old-model'))).toEqual([
      `${path.join(stateDir, ROUTE_FILE)} was recorded for ${previous}, not ${routeOwner('proxy-scripted', 'blue-model', 'green-model')}: its route is not applied; serving blue`,
      `the saved route was recorded for ${previous}, whose blue was old-model: requests still asking for old-model pass through to blue's upstream as another model (old-model itself), neither split nor judged; ${fix}`,
    ]);
    const client = openai(running.baseUrl);
    for (let i = 0; i < 2; i++) expect((await client.chat.completions.create({ model: 'old-model', ...ask })).model).toBe('old-model');
    expect(running.logs.filter((line) => line.startsWith('a request asked for'))).toEqual([
      `a request asked for old-model, the blue of the plan the saved route was recorded for (${previous}): it passes through to blue's upstream as another model, neither split nor judged; ${fix} (said once)`,
    ]);
    expect(running.proxy.metrics.snapshot().passedThrough).toBe(2);
  });

  it("names the previous plan's blue whole when its name holds ' -> ' (kept apart in the route file, not split from the plan's label)", async () => {
    const scripted = await echoingUpstream();
    const stateDir = tempDir();
    // The previous plan: blue "old -> x" (a name routeOwner()'s label cannot be split back on), green blue-model, promoted.
    const previousPlan = scriptedPlan(scripted.url)
      .replace('name: proxy-scripted', 'name: proxy-previous')
      .replace('blue:  { model: blue-model }', 'blue:  { model: "old -> x" }')
      .replace('green: { model: green-model }', 'green: { model: blue-model }');
    const previous = await runProxy(previousPlan, { env: { UPSTREAM_KEY }, stateDir });
    previous.proxy.route.set({ greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted' });
    await previous.close();
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY }, stateDir });
    expect(running.logs.filter((line) => line.startsWith('the saved route was recorded for'))).toEqual([
      expect.stringContaining(', whose blue was old -> x: requests still asking for old -> x pass through'),
    ]);
    expect((await openai(running.baseUrl).chat.completions.create({ model: 'old -> x', ...ask })).model).toBe('old -> x');
    expect(running.logs.filter((line) => line.startsWith('a request asked for'))).toEqual([expect.stringContaining('a request asked for old -> x, the blue')]);
  });

  it("says nothing of a previous plan's blue that this plan still splits (its alias)", async () => {
    const scripted = await echoingUpstream();
    const stateDir = tempDir();
    writeFileSync(
      path.join(stateDir, ROUTE_FILE),
      JSON.stringify({ greenWeight: 0, mirror: 0, rollout: routeOwner('proxy-previous', 'old-model', 'blue-model'), reason: 'rolled back', updatedAt: 1 }),
    );
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ alias: [old-model] }' }), { env: { UPSTREAM_KEY }, stateDir });
    await openai(running.baseUrl).chat.completions.create({ model: 'old-model', ...ask });
    expect(running.logs.filter((line) => line.includes('old-model'))).toEqual([]);
    expect(running.proxy.metrics.snapshot().passedThrough).toBe(0);
  });

  it('is refused with passthrough: [] with 404 model_not_found, never forwarded, and counted as a rejection', async () => {
    const scripted = await echoingUpstream();
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ passthrough: [] }' }), { env: { UPSTREAM_KEY } });
    const error = await openai(running.baseUrl)
      .chat.completions.create({ model: 'o1-pro', ...ask })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.code).toBe('model_not_found');
    expect(apiError.type).toBe('invalid_request_error');
    expect(apiError.message).toContain('"o1-pro" is not served by this proxy');
    expect(apiError.message).toContain('proxy.passthrough');
    // Refused before an arm was chosen: no arm header, nothing sent upstream.
    expect(apiError.headers?.get('x-bluegreen-arm')).toBeNull();
    expect(scripted.seen).toHaveLength(0);
    const figures = running.proxy.metrics.snapshot();
    expect(figures.rejected.model_not_allowed).toBe(1);
    expect(figures.passedThrough).toBe(0);
    const metrics = await (await fetch(`${running.proxy.url}/metrics`)).text();
    expect(metrics).toContain('bluegreen_proxy_rejected_total{reason="model_not_allowed"} 1');
    // The model under rollout is still served.
    const routed = await openai(running.baseUrl).chat.completions.create({ model: 'blue-model', ...ask });
    expect(routed.model).toBe('blue-model');
  });

  it("answers in Anthropic's error shape on an Anthropic proxy", async () => {
    const running = await runProxy(simPlan({ api: 'anthropic', proxy: '{ passthrough: [] }' }));
    const error = await new Anthropic({ baseURL: running.proxy.url, apiKey: 'unused', maxRetries: 0 }).messages
      .create({ model: 'claude-opus-elsewhere', max_tokens: 16, ...ask })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    expect(running.proxy.metrics.snapshot().rejected.model_not_allowed).toBe(1);
  });

  it('passes the models proxy.passthrough lists, untouched, and refuses the others', async () => {
    const scripted = await echoingUpstream();
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ passthrough: [gpt-4o-mini] }' }), { env: { UPSTREAM_KEY } });
    const passed = await openai(running.baseUrl)
      .chat.completions.create({ model: 'gpt-4o-mini', ...ask })
      .withResponse();
    expect(passed.data.model).toBe('gpt-4o-mini');
    expect(passed.response.headers.get('x-bluegreen-arm')).toBe('blue');
    expect(JSON.parse(scripted.seen[0]?.body ?? '{}')).toMatchObject({ model: 'gpt-4o-mini' });
    const refused = await openai(running.baseUrl)
      .chat.completions.create({ model: 'gpt-4o-mini-2', ...ask })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
    expect(scripted.seen).toHaveLength(1);
    const figures = running.proxy.metrics.snapshot();
    expect(figures.passedThrough).toBe(1);
    expect(figures.rejected.model_not_allowed).toBe(1);
  });

  it("passes any model with passthrough: '*'", async () => {
    const scripted = await echoingUpstream();
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: "{ passthrough: '*' }" }), { env: { UPSTREAM_KEY } });
    for (const model of ['a', 'b']) expect((await openai(running.baseUrl).chat.completions.create({ model, ...ask })).model).toBe(model);
    expect(running.proxy.metrics.snapshot().passedThrough).toBe(2);
  });

  // An upstream that trims model names (many OpenAI-compatible servers do) would serve the model under rollout for
  // these, outside the split: refused rather than passed on, each saying what is wrong with the name.
  it.each([
    ['blue-model ', 'ends with a space'],
    [' blue-model', 'starts with a space'],
    ['blue-model\u0000', 'holds a control character (U+0000 at character 11)'],
    ['blue-model\n', 'holds a control character (U+000A at character 11)'],
    ['blue\u200b-model', 'holds an invisible character (U+200B at character 5)'],
  ])("refuses %j with passthrough: '*' with 400, never forwarded", async (model, why) => {
    const scripted = await echoingUpstream();
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: "{ passthrough: '*' }" }), { env: { UPSTREAM_KEY } });
    const error = await openai(running.baseUrl)
      .chat.completions.create({ model, ...ask })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.message).toContain(`The model ${JSON.stringify(model)} ${why}: no model's name does`);
    expect(apiError.headers?.get('x-bluegreen-arm')).toBeNull();
    // Nor on a relayed path (embeddings), which passes other models too.
    const relayed = await fetch(`${running.baseUrl}/embeddings`, { method: 'POST', body: JSON.stringify({ model, input: 'hi' }) });
    expect(relayed.status).toBe(400);
    expect(scripted.seen).toHaveLength(0);
    const figures = running.proxy.metrics.snapshot();
    expect(figures.rejected.bad_request).toBe(2);
    expect(figures.passedThrough).toBe(0);
  });
});

describe('proxy.passthrough in the plan', () => {
  const plan = (passthrough: string, listen = '127.0.0.1:8787') =>
    planFromYaml(scriptedPlan('http://127.0.0.1:9/v1', { proxy: `{ listen: "${listen}", alias: [chat], passthrough: ${passthrough}, client_keys_env: K }` }));
  const settings = (passthrough: string, listen?: string) => {
    const loaded = plan(passthrough, listen);
    return proxySettings(loaded, proxyBlockOf(loaded), { env: { K: 'client-key-0123456789' }, cwd: '/' });
  };

  it('refuses anything but a list of names or "*"', () => {
    expect(() => plan('all')).toThrow(/proxy\.passthrough/);
    expect(() => plan('[""]')).toThrow(/proxy\.passthrough\[0\]: must not be empty/);
  });

  it('is said at startup, with a warning when any model may pass off loopback', () => {
    expect(passthroughNotice(settings('[]'))).toBe(
      'requests for models other than blue-model, chat are refused (404); list any that may pass in proxy.passthrough',
    );
    expect(passthroughNotice(settings('[m1, m2]'))).toBe(
      "requests for m1, m2 pass through to blue's upstream; other models than blue-model, chat are refused (404)",
    );
    expect(passthroughNotice(settings("'*'"))).toBe("requests for models other than blue-model, chat pass through to blue's upstream (proxy.passthrough: '*')");
    expect(passthroughNotice(settings("'*'", '0.0.0.0:8787'))).toBe(
      "warning: requests for models other than blue-model, chat pass through to blue's upstream (proxy.passthrough: '*'): any client holding a client key can spend the upstream key on any model (list the models that may pass in proxy.passthrough)",
    );
  });
});
