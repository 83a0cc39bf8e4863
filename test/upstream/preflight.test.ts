import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/core/exit.js';
import { PreflightError, preflight, type PreflightTarget } from '../../src/upstream/index.js';
import { json, stall, startServer, upstreamConfig } from './server.js';
import { refusedPort } from '../live/helpers.js';

const KEY = 'sk-preflight-secret-42';
const modelList = json(200, {
  object: 'list',
  data: [
    { id: 'gpt-4o', object: 'model' },
    { id: 'gpt-4.1', object: 'model' },
  ],
});

function targets(base: string, overrides: Parameters<typeof upstreamConfig>[1] = {}): PreflightTarget[] {
  return [
    { arm: 'blue', model: 'gpt-4o', upstream: upstreamConfig(base, overrides) },
    { arm: 'green', model: 'gpt-4.1', upstream: upstreamConfig(base, overrides) },
  ];
}

async function failure(promise: Promise<unknown>): Promise<PreflightError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PreflightError);
  const preflightError = err as PreflightError;
  expect(preflightError.exitCode).toBe(EXIT.preflight);
  expect(preflightError.message).not.toContain(KEY);
  return preflightError;
}

describe('preflight', () => {
  let dir: string;
  const env = { UPSTREAM_API_KEY: KEY };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bluegreen-preflight-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('passes, checking a shared upstream once and returning its models', async () => {
    const { base, requests } = await startServer(modelList);
    const report = await preflight(targets(base), { env, cwd: dir });
    expect(report).toEqual({ warnings: [], models: { blue: ['gpt-4o', 'gpt-4.1'], green: ['gpt-4o', 'gpt-4.1'] } });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method: 'GET', url: '/v1/models' });
    expect(requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('checks arms on different upstreams separately', async () => {
    const { base, requests } = await startServer(modelList);
    const [blue, green] = targets(base);
    const other = await startServer(json(200, { data: [{ id: 'claude-sonnet-4-20250514' }] }));
    try {
      const report = await preflight(
        [blue!, { ...green!, model: 'claude-sonnet-4-20250514', upstream: upstreamConfig(other.base, { api: 'anthropic', apiKeyEnv: 'ANTHROPIC_API_KEY' }) }],
        { env: { ...env, ANTHROPIC_API_KEY: 'sk-ant-x' }, cwd: dir },
      );
      expect(report).toEqual({ warnings: [], models: { blue: ['gpt-4o', 'gpt-4.1'], green: ['claude-sonnet-4-20250514'] } });
      expect(requests).toHaveLength(1);
      expect(other.requests[0]?.url).toBe('/v1/models?limit=1000');
      expect(other.requests[0]?.headers['x-api-key']).toBe('sk-ant-x');
    } finally {
      await other.close();
    }
  });

  it('uses the key from ./.env', async () => {
    const { base, requests } = await startServer(modelList);
    writeFileSync(path.join(dir, '.env'), `UPSTREAM_API_KEY=${KEY}\n`);
    await preflight(targets(base), { env: {}, cwd: dir });
    expect(requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('fails when the key variable is not set', async () => {
    const { base, requests } = await startServer(modelList);
    const err = await failure(preflight(targets(base), { env: {}, cwd: dir }));
    expect(err.message).toBe(
      'UPSTREAM_API_KEY is not set (looked in the environment and ./.env: export UPSTREAM_API_KEY=... or put UPSTREAM_API_KEY=... in ./.env)',
    );
    expect(requests).toHaveLength(0);
  });

  it('says a key variable set but empty is empty, not unset (a CI secret that did not resolve)', async () => {
    const { base, requests } = await startServer(modelList);
    const err = await failure(preflight(targets(base), { env: { UPSTREAM_API_KEY: '  ' }, cwd: dir }));
    expect(err.message).toBe(
      'UPSTREAM_API_KEY is set but empty (looked in the environment and ./.env: export UPSTREAM_API_KEY=... or put UPSTREAM_API_KEY=... in ./.env)',
    );
    expect(requests).toHaveLength(0);
  });

  it('fails with an exact message when the key is rejected', async () => {
    const { base } = await startServer(json(401, { error: { message: `Incorrect API key provided: ${KEY}`, code: 'invalid_api_key' } }));
    const err = await failure(preflight(targets(base), { env, cwd: dir }));
    expect(err.message).toBe(`UPSTREAM_API_KEY was rejected by ${base} (401)`);
  });

  it('fails when the upstream is unreachable', async () => {
    const port = await refusedPort();
    const err = await failure(preflight(targets(`http://127.0.0.1:${port}/v1`), { env, cwd: dir }));
    expect(err.message).toBe(`could not reach http://127.0.0.1:${port}/v1 (ECONNREFUSED); check upstream.base_url`);
  });

  it('fails when the upstream does not answer in time', async () => {
    const { base } = await startServer(stall);
    const err = await failure(preflight(targets(base), { env, cwd: dir, timeoutMs: 150 }));
    expect(err.message).toBe(`${base} did not answer GET /models within 150ms; check upstream.base_url and the network`);
  });

  it('fails on another non-2xx with a sentence naming the status', async () => {
    const { base } = await startServer(json(404, { error: { message: 'Not found' } }));
    const err = await failure(preflight(targets(base), { env, cwd: dir }));
    expect(err.message).toBe(
      `${base} answered GET /models with 404; check upstream.base_url (it usually ends in /v1), or set upstream.models_endpoint: skip for a gateway without a models list`,
    );
  });

  it('warns, without failing, when a model is not listed', async () => {
    const { base } = await startServer(json(200, { data: [{ id: 'gpt-4o' }] }));
    const report = await preflight(targets(base), { env, cwd: dir });
    expect(report.models).toEqual({ blue: ['gpt-4o'], green: ['gpt-4o'] });
    expect(report.warnings).toEqual([`green model gpt-4.1 is not listed by ${base}/models; continuing (relays often do not list every model)`]);
  });

  it.each([
    ['something that is not a model list', '<html>relay console</html>'],
    ['an empty list', { object: 'list', data: [] }],
  ])('warns once when /models answers with %s', async (_name, body) => {
    const { base } = await startServer(json(200, body));
    const report = await preflight(targets(base), { env, cwd: dir });
    expect(report.models).toEqual({ blue: [], green: [] });
    expect(report.warnings).toEqual([`${base}/models listed no models; the model names were not checked`]);
  });

  it('checks a keyless upstream without a key', async () => {
    const { base, requests } = await startServer(modelList);
    await preflight(targets(base, { apiKeyEnv: undefined }), { env: {}, cwd: dir });
    expect(requests[0]?.headers.authorization).toBeUndefined();
  });
});
