// Normalised answer shapes as the quality checks see them, finish reason variants, and Azure's two paths.
import { describe, expect, it } from 'vitest';
import { createQualityChecker } from '../../src/analysis/quality.js';
import { azureRoutes, isAzureHost } from '../../src/upstream/azure.js';
import { normaliseFinish } from '../../src/upstream/finish.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { planFromYaml } from '../helpers/plans.js';
import { upstreamConfig } from './server.js';

const base: UpstreamResult = { arm: 'green', model: 'm', ok: true, content: '', latencyMs: 1, attempts: 1, stream: false };

describe('quality on answer shapes', () => {
  const rules = { min_content_length: 10, finish_reasons: ['stop'] };

  it('a tool-call answer passes unless the plan asks to check its text', () => {
    const toolCall = { ...base, toolCalls: 1, finishReason: 'tool_calls', finish: 'tool_calls' as const };
    expect(createQualityChecker(rules)(toolCall)).toEqual({ ok: true });
    expect(createQualityChecker({ ...rules, tool_calls: 'check' })(toolCall)).toEqual({ ok: false, reason: 'empty content' });
  });

  it('a refusal fails by default and passes with refusals: pass', () => {
    const refusal = { ...base, content: 'I cannot help with that request.', refusal: true as const, finishReason: 'stop', finish: 'stop' as const };
    expect(createQualityChecker(rules)(refusal)).toEqual({ ok: false, reason: 'the model refused' });
    expect(createQualityChecker({ ...rules, refusals: 'pass' })(refusal)).toEqual({ ok: true });
  });

  it('finish_reasons accepts the upstream name or the normalised one', () => {
    const claude = { ...base, content: 'A long enough answer.', finishReason: 'end_turn', finish: 'stop' as const };
    expect(createQualityChecker(rules)(claude)).toEqual({ ok: true });
    expect(createQualityChecker({ finish_reasons: ['end_turn'] })(claude)).toEqual({ ok: true });
    expect(createQualityChecker({ finish_reasons: ['length'] })(claude).ok).toBe(false);
  });
});

describe('normaliseFinish', () => {
  it.each([
    ['stop', 'stop'],
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['length', 'length'],
    ['max_tokens', 'length'],
    ['MAX_TOKENS', 'length'],
    ['tool_calls', 'tool_calls'],
    ['function_call', 'tool_calls'],
    ['tool_use', 'tool_calls'],
    ['content_filter', 'content_filter'],
    ['SAFETY', 'content_filter'],
    ['refusal', 'refusal'],
    ['pause_turn', 'other'],
    ['error', 'other'],
  ])('%s -> %s', (raw, kind) => {
    expect(normaliseFinish(raw)).toBe(kind);
  });

  it('no reason stays undefined', () => {
    expect(normaliseFinish(undefined)).toBeUndefined();
    expect(normaliseFinish('')).toBeUndefined();
  });
});

describe('Azure routes', () => {
  it('deployments path: the resource root (with or without /openai), the deployment, api-version', () => {
    for (const root of ['https://contoso.openai.azure.com', 'https://contoso.openai.azure.com/openai/']) {
      const routes = azureRoutes({ ...upstreamConfig(root, { api: 'azure', apiVersion: '2024-10-21' }), deployment: 'prod 4o' }, 'gpt-4o');
      expect(routes.chat.href).toBe('https://contoso.openai.azure.com/openai/deployments/prod%204o/chat/completions?api-version=2024-10-21');
      expect(routes.models.href).toBe('https://contoso.openai.azure.com/openai/models?api-version=2024-10-21');
      expect(routes.bodyModel).toBe('gpt-4o');
    }
  });

  it('v1 path: no deployment in the path, the deployment as the model', () => {
    const routes = azureRoutes({ ...upstreamConfig('https://contoso.openai.azure.com/openai/v1', { api: 'azure' }), deployment: 'gpt5-canary' }, 'gpt-5');
    expect(routes.chat.href).toBe('https://contoso.openai.azure.com/openai/v1/chat/completions');
    expect(routes.models.href).toBe('https://contoso.openai.azure.com/openai/v1/models');
    expect(routes.bodyModel).toBe('gpt5-canary');
  });

  it('an Azure host gets the azure dialect when the plan leaves api out', () => {
    expect(isAzureHost('https://contoso.openai.azure.com')).toBe(true);
    expect(isAzureHost('https://contoso.cognitiveservices.azure.com/openai/v1')).toBe(true);
    expect(isAzureHost('https://api.openai.com/v1')).toBe(false);
    const plan = planFromYaml(`
name: t
upstream: { base_url: https://contoso.openai.azure.com/openai/v1, api_key_env: AZURE_OPENAI_API_KEY }
blue: { model: gpt-4o }
green: { model: gpt-5-mini, deployment: canary, request: { reasoning_effort: minimal, drop: [], headers: { x-team: search } } }
traffic: { rate: 1 }
stages: [{ duration: 1m, green_weight: 0.5 }]
health_check: {}
`);
    expect(plan.arms.green.upstream).toMatchObject({
      api: 'azure',
      deployment: 'canary',
      modelsEndpoint: 'warn',
      headers: { 'x-team': 'search' },
      request: { tokenParam: 'auto', drop: [], reasoningEffort: 'minimal', params: {} },
    });
    expect(plan.health_check?.probe).toBe('models');
  });
});

describe('keyless local servers', () => {
  it('a loopback base_url (Ollama, a local vLLM) needs no api_key_env; any other does', () => {
    const plan = (baseUrl: string) => `
name: t
upstream: { base_url: "${baseUrl}" }
blue: { model: llama3.2 }
green: { model: qwen3 }
traffic: { rate: 1 }
stages: [{ duration: 1m, green_weight: 0.5 }]
`;
    // hostile28b: an IPv4-mapped loopback ([::ffff:127.0.0.1], ::ffff:7f00:1 to the URL parser) was asked for a key.
    for (const local of ['http://localhost:11434/v1', 'http://127.0.0.1:8000/v1', 'http://[::1]:8000/v1', 'http://[::ffff:127.0.0.1]:8000/v1']) {
      expect(planFromYaml(plan(local)).arms.green.upstream.apiKeyEnv).toBeUndefined();
    }
    expect(() => planFromYaml(plan('http://gpu-box:8000/v1'))).toThrow(/needs api_key_env/);
  });
});
