// models_endpoint in preflight: require (must list the models), warn (the default), skip (chat probes instead).
import { describe, expect, it } from 'vitest';
import { PreflightError, preflight, type PreflightTarget } from '../../src/upstream/index.js';
import type { ModelsEndpoint } from '../../src/plan/plan.js';
import { tempDir } from '../helpers/plans.js';
import { json, openAiReply, startServer, upstreamConfig, type Handler } from './server.js';

const KEY = 'sk-models-endpoint-77';
const env = { UPSTREAM_API_KEY: KEY };

function targets(base: string, modelsEndpoint: ModelsEndpoint): PreflightTarget[] {
  return (['blue', 'green'] as const).map((arm) => ({
    arm,
    model: arm === 'blue' ? 'gpt-4o' : 'o3',
    upstream: upstreamConfig(base, { modelsEndpoint, retries: { max: 0, baseDelayMs: 1, maxDelayMs: 1 } }),
  }));
}

const listing: Handler = (req, res) => (req.method === 'GET' ? json(200, { data: [{ id: 'gpt-4o' }] })(req, res) : json(200, openAiReply('OK'))(req, res));

async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PreflightError);
  const message = (error as PreflightError).message;
  expect(message).not.toContain(KEY);
  return message;
}

describe('models_endpoint', () => {
  it('warn: an unlisted model is a warning', async () => {
    const server = await startServer(listing);
    const report = await preflight(targets(server.base, 'warn'), { env, cwd: tempDir() });
    expect(report.warnings).toEqual([expect.stringContaining('green model o3 is not listed')]);
  });

  it('require: an unlisted model fails preflight, naming the option', async () => {
    const server = await startServer(listing);
    expect(await rejection(preflight(targets(server.base, 'require'), { env, cwd: tempDir() }))).toBe(
      `green model o3 is not listed by ${server.base}/models (models_endpoint: require); check the model name, or set models_endpoint: warn`,
    );
  });

  it('skip: never asks /models; a tiny chat request (adapted to the model) proves each arm', async () => {
    const server = await startServer((req, res) =>
      req.method === 'GET' ? json(404, { error: 'no models here' })(req, res) : json(200, openAiReply('OK'))(req, res),
    );
    const report = await preflight(targets(server.base, 'skip'), { env, cwd: tempDir() });
    expect(report.warnings).toEqual([]);
    expect(server.requests.map((r) => `${r.method} ${r.url} ${String(r.json?.model)}`)).toEqual([
      'POST /v1/chat/completions gpt-4o',
      'POST /v1/chat/completions o3',
    ]);
    expect(server.requests[1]?.json).toMatchObject({ max_completion_tokens: 16 });
  });

  it('skip: a model the upstream refuses fails preflight with the chat failure', async () => {
    const server = await startServer((req, res) => {
      const model = req.json?.model;
      if (model === 'o3')
        return json(404, { error: { message: 'The model `o3` does not exist', type: 'invalid_request_error', code: 'model_not_found' } })(req, res);
      return json(200, openAiReply('OK'))(req, res);
    });
    const message = await rejection(preflight(targets(server.base, 'skip'), { env, cwd: tempDir() }));
    expect(message).toContain('preflight chat request failed: green arm: 404');
    expect(message).toContain('check the model name o3');
  });
});
