// The provider corpus (test/fixtures/providers/, each answer written from its provider's documentation),
// served by a scripted loopback server: each is parsed to the right normalised result.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createQualityChecker } from '../../src/analysis/quality.js';
import type { ApiDialect } from '../../src/plan/plan.js';
import { createUpstreamClient, type UpstreamResult } from '../../src/upstream/index.js';
import { recordingSleep, startServer, upstreamConfig, type Handler, type TestServer } from './server.js';

const ROOT = path.resolve(import.meta.dirname, '../fixtures/providers');
const KEY = 'sk-corpus-secret-0042';

interface Fixture {
  doc: string;
  api: ApiDialect;
  model: string;
  stream: boolean;
  status: number;
  body?: unknown;
  /** Data payloads (strings sent as they are) or { event, data } pairs. */
  events?: unknown[];
  raw?: string;
  raw_prefix?: string;
  expect: {
    ok: boolean;
    content?: string;
    finishReason?: string;
    finish?: string;
    toolCalls?: number;
    reasoning?: boolean;
    refusal?: boolean;
    usage?: { promptTokens: number; completionTokens: number; totalTokens: number };
    usageEstimated?: boolean;
    servedModel?: string;
    failure?: string;
    errorContains?: string[];
    quality?: 'pass' | 'fail';
  };
}

const files = readdirSync(ROOT, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.json'))
  .sort();

function load(file: string): Fixture {
  return JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as Fixture;
}

/** Answers exactly as the fixture says: a JSON body, SSE events (named or data-only), or raw SSE text. */
function answer(fixture: Fixture): Handler {
  return (_req, res) => {
    if (fixture.raw !== undefined) {
      res.writeHead(fixture.status, { 'content-type': 'text/event-stream' });
      res.end(fixture.raw);
      return;
    }
    if (fixture.events) {
      res.writeHead(fixture.status, { 'content-type': 'text/event-stream' });
      for (const entry of fixture.events) {
        if (typeof entry === 'object' && entry !== null && 'event' in entry && 'data' in entry) {
          const named = entry as { event: string; data: unknown };
          res.write(`event: ${named.event}\ndata: ${JSON.stringify(named.data)}\n\n`);
        } else res.write(`data: ${typeof entry === 'string' ? entry : JSON.stringify(entry)}\n\n`);
      }
      res.end();
      return;
    }
    res.writeHead(fixture.status, { 'content-type': 'application/json' });
    // OpenRouter may send whitespace before the JSON while the model warms up.
    res.end((fixture.raw_prefix ?? '') + JSON.stringify(fixture.body));
  };
}

async function send(fixture: Fixture): Promise<{ result: UpstreamResult; server: TestServer }> {
  const server = await startServer(answer(fixture));
  const base = fixture.api === 'azure' ? server.origin : server.base;
  const client = createUpstreamClient({
    arm: 'green',
    model: fixture.model,
    upstream: upstreamConfig(base, {
      api: fixture.api,
      apiVersion: fixture.api === 'azure' ? '2024-10-21' : undefined,
      retries: { max: 0, baseDelayMs: 1, maxDelayMs: 1 },
    }),
    apiKey: KEY,
    sleep: recordingSleep().sleep,
  });
  try {
    const result = await client.send({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello to the team please.' },
      ],
      params: { temperature: 0.3 },
      stream: fixture.stream,
      maxTokens: 64,
      source: 'sampled',
    });
    return { result, server };
  } finally {
    await client.close();
  }
}

const quality = createQualityChecker({ min_content_length: 1, finish_reasons: ['stop', 'length'] });

describe('provider corpus', () => {
  it('covers every provider the docs name', () => {
    const providers = new Set(files.map((file) => file.split(path.sep)[0]));
    expect([...providers].sort()).toEqual(['anthropic', 'azure', 'gemini', 'ollama', 'openai', 'openrouter', 'vllm']);
  });

  for (const file of files) {
    it(file, async () => {
      const fixture = load(file);
      expect(fixture.doc).toMatch(/^https:\/\//);
      const { result } = await send(fixture);
      const want = fixture.expect;
      expect(result.ok, result.errorMessage).toBe(want.ok);
      if (want.content !== undefined) expect(result.content).toBe(want.content);
      if (want.finishReason !== undefined) expect(result.finishReason).toBe(want.finishReason);
      if (want.finish !== undefined) expect(result.finish).toBe(want.finish);
      expect(result.toolCalls).toBe(want.toolCalls);
      expect(result.reasoning ?? false).toBe(want.reasoning ?? false);
      expect(result.refusal ?? false).toBe(want.refusal ?? false);
      if (want.usage) expect(result.usage).toEqual(want.usage);
      if (want.ok) expect(result.usage?.estimated ?? false).toBe(want.usageEstimated ?? false);
      if (want.usageEstimated) expect(result.usage?.completionTokens).toBeGreaterThan(0);
      if (want.servedModel !== undefined) expect(result.servedModel).toBe(want.servedModel);
      if (want.failure !== undefined) expect(result.failure).toBe(want.failure);
      for (const text of want.errorContains ?? []) expect(result.errorMessage).toContain(text);
      if (want.quality !== undefined) expect(quality(result).ok).toBe(want.quality === 'pass');
      expect(JSON.stringify(result)).not.toContain(KEY);
    });
  }

  it('sends Azure requests to the deployment path with api-version and the api-key header', async () => {
    const { server: upstream } = await send(load('azure/deployment-chat.json'));
    const [req] = upstream.requests;
    expect(req?.url).toBe('/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21');
    expect(req?.headers['api-key']).toBe(KEY);
    expect(req?.headers.authorization).toBeUndefined();
  });

  it('adapts the request to a reasoning model: max_completion_tokens, no temperature', async () => {
    const { server: upstream } = await send(load('openai/reasoning-o3.json'));
    const body = upstream.requests[0]?.json;
    expect(body).toMatchObject({ model: 'o3', max_completion_tokens: 64 });
    expect(body).not.toHaveProperty('max_tokens');
    expect(body).not.toHaveProperty('temperature');
  });
});
