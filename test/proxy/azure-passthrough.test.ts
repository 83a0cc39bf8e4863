// An Azure blue reached through its deployment's path answers every request with that deployment, whatever
// model the body names: a request for another model passed through there would be answered by blue's model,
// outside the split and the figures. So nothing passes through to such a blue (found by hostile10: the
// application asking for gpt-4o-mini got blue's gpt-4o deployment's answer, tagged as a passthrough).
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { passthroughNotice, proxySettings } from '../../src/proxy/config.js';
import { proxyBlockOf } from '../../src/plan/proxy-schema.js';
import { planFromYaml } from '../helpers/plans.js';
import { openAiCompletion, runProxy, scriptedServer, UPSTREAM_KEY } from './helpers.js';

/** An Azure plan on `root` (the resource), on its deployments path unless `v1`. */
function azurePlan(root: string, options: { v1?: boolean; proxy?: string } = {}): string {
  const base = options.v1 ? `${root}/openai/v1` : root;
  return `
name: azure-proxy
upstream: { base_url: ${base}, api: azure, ${options.v1 ? '' : 'api_version: 2024-10-21, '}api_key_env: UPSTREAM_KEY, models_endpoint: skip, timeout: { connect: 2s, request: 5s } }
blue:  { model: gpt-4o, deployment: gpt-4o-prod }
green: { model: gpt-5-mini, deployment: gpt-5-mini-canary }
traffic: { rate: 1 }
stages:
  - { duration: 1m, green_weight: 0.5 }
proxy: ${options.proxy ?? '{}'}
`;
}

const ask = { messages: [{ role: 'user' as const, content: 'hello there' }] };

describe('an Azure blue on its deployments path', () => {
  it('refuses other models (404) rather than have blue deployment answer them', async () => {
    // Azure's way: the deployment in the path answers, the body's model is not read.
    const azure = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion('gpt-4o-2024-08-06', 'blue deployment here'));
    });
    const root = azure.url.replace(/\/v1$/, '');
    const running = await runProxy(azurePlan(root), { env: { UPSTREAM_KEY } });
    const client = new OpenAI({ baseURL: running.baseUrl, apiKey: 'unused', maxRetries: 0 });
    const error = await client.chat.completions.create({ model: 'gpt-4o-mini', ...ask }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('model_not_found');
    // The message says why, not to list the model in proxy.passthrough (which would be a plan error here).
    expect((error as Error).message).toContain("blue's Azure upstream answers every request on its deployment's path with that deployment");
    expect((error as Error).message).not.toContain('proxy.passthrough');
    expect(azure.seen).toHaveLength(0);
    expect(running.proxy.metrics.snapshot().rejected.model_not_allowed).toBe(1);
    // The model under rollout still goes to its deployment.
    const answer = await client.chat.completions.create({ model: 'gpt-4o', ...ask });
    expect(answer.choices[0]?.message.content).toBe('blue deployment here');
    expect(azure.seen.map((seen) => seen.path)).toEqual(['/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21']);
  });

  const settings = (yaml: string) => {
    const plan = planFromYaml(yaml);
    return proxySettings(plan, proxyBlockOf(plan), { env: {}, cwd: '/' });
  };

  it('says at startup why other models are refused', () => {
    const notice = passthroughNotice(settings(azurePlan('https://contoso.openai.azure.com')));
    expect(notice).toContain('requests for models other than gpt-4o are refused (404)');
    expect(notice).toContain('Azure answers every request sent there with that deployment (gpt-4o-prod)');
    expect(notice).toContain('/openai/v1');
  });

  it('refuses a plan whose proxy.passthrough lists models (exit 2), naming the key and why', () => {
    const listing = azurePlan('https://contoso.openai.azure.com', { proxy: '{ passthrough: [gpt-4o-mini] }' });
    expect(() => planFromYaml(listing)).toThrow(/proxy\.passthrough: lists models that cannot pass: .*deployment's path/);
    expect(settings(azurePlan('https://contoso.openai.azure.com', { proxy: '{ passthrough: [] }' })).passthrough).toEqual(new Set());
    // On the v1 path the body's model names the deployment: a list is fine.
    expect(settings(azurePlan('https://contoso.openai.azure.com', { v1: true, proxy: '{ passthrough: [gpt-4o-mini] }' })).passthrough).toEqual(
      new Set(['gpt-4o-mini']),
    );
  });

  it("passes other models on Azure's v1 path, where the body's model names the deployment", () => {
    const v1 = settings(azurePlan('https://contoso.openai.azure.com', { v1: true }));
    expect(v1.passthrough).toBe('*');
    expect(v1.pinnedDeployment).toBeUndefined();
  });
});

describe('the Responses API on Azure', () => {
  it('is split on the /openai/v1 path (the deployment as the model), and a 404 saying why on the deployments path', async () => {
    const azure = await scriptedServer((_req, res, body) => {
      const model = (JSON.parse(body) as { model: string }).model;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'resp_1',
          object: 'response',
          status: 'completed',
          model,
          output: [{ type: 'message', content: [{ type: 'output_text', text: 'hi' }] }],
        }),
      );
    });
    const root = azure.url.replace(/\/v1$/, '');
    const v1 = await runProxy(azurePlan(root, { v1: true }), { env: { UPSTREAM_KEY } });
    const answer = await new OpenAI({ baseURL: v1.baseUrl, apiKey: 'unused', maxRetries: 0 }).responses.create({ model: 'gpt-4o', input: 'hi' });
    expect(answer.output_text).toBe('hi');
    expect(azure.seen.map((seen) => [seen.path, (JSON.parse(seen.body) as { model: string }).model])).toEqual([['/openai/v1/responses', 'gpt-4o-prod']]);
    const deployments = await runProxy(azurePlan(root), { env: { UPSTREAM_KEY } });
    const error = await new OpenAI({ baseURL: deployments.baseUrl, apiKey: 'unused', maxRetries: 0 }).responses
      .create({ model: 'gpt-4o', input: 'hi' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as Error).message).toContain('an Azure deployments path, which has no Responses API');
    expect(azure.seen).toHaveLength(1);
  });
});
