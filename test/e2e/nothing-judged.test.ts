// The CLI's exit code when every request fails, against a scripted 127.0.0.1 upstream: a green failing every
// request is judged and rolled back (exit 10), even when each failure lands after its stage's time is up (retries
// of connection resets, the shape of session 13's `content-length: 5` plan that promoted with exit 0); a rollout
// whose arms both fail every request under a comparison with blue judged nothing and rolls back (exit 10,
// nothing_judged) pointing at the upstream; analysis.on_unjudged: promote promotes such a rollout (exit 0).
import { describe, expect, it } from 'vitest';
import { halfThenAll, planYaml, tempDir, writePlan } from '../helpers/plans.js';
import { json, openAiReply, startServer, type Handler } from '../upstream/server.js';
import { rolloutToEnd } from './helpers.js';

type Failure = 'reset' | 'auth' | undefined;

/** GET /models lists both models (preflight passes); chat requests for each model fail as told, or answer well. */
async function upstream(fails: { blue?: Failure; green?: Failure }) {
  const models = json(200, { object: 'list', data: [{ id: 'blue-m' }, { id: 'green-m' }] });
  const good = json(200, openAiReply('a fine answer from the model'));
  const handler: Handler = (req, res) => {
    if (req.method === 'GET') return models(req, res);
    const failure = req.json?.model === 'green-m' ? fails.green : fails.blue;
    if (failure === 'reset') return res.socket?.destroy();
    if (failure === 'auth') return json(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } })(req, res);
    good(req, res);
  };
  return startServer(handler);
}

function writeUpstreamPlan(dir: string, base: string, analysis: string[], retries = '{ max: 0 }'): void {
  writePlan(
    planYaml({
      name: 'nothing-judged-e2e',
      upstream: `base_url: ${base}, api_key_env: TEST_KEY, timeout: { request: 5s }, retries: ${retries}`,
      models: { blue: 'blue-m', green: 'green-m' },
      traffic: 'rate: 40',
      stages: halfThenAll('1s'),
      analysis: ['interval: 200ms', 'min_requests: 10', ...analysis],
    }),
    dir,
  );
}

// The key goes to the rollout's process alone: this worker's environment is shared with the files after this one.
function rollout(dir: string): ReturnType<typeof rolloutToEnd> {
  return rolloutToEnd(dir, [], { TEST_KEY: 'sk-test-key-0123456789' });
}

describe('every request failing', () => {
  it('rolls back on error_rate (exit 10) when both arms reset every request, each failing after its stage ended', async () => {
    // Two retries 300-600 ms apart: most of stage 1's failures come after its 1 s are up; its end waits for them.
    const server = await upstream({ blue: 'reset', green: 'reset' });
    const dir = tempDir();
    writeUpstreamPlan(dir, server.base, ['thresholds: { error_rate: 0.05 }'], '{ max: 2, base_delay: 300ms, max_delay: 600ms }');
    const { code, stderr, state } = await rollout(dir);
    expect(code).toBe(10);
    expect(state).toMatchObject({ phase: 'rolled_back', breach: { rule: 'error_rate' } });
    expect(stderr).toMatch(/green failures: connection \d+/);
    expect(stderr).toContain('blue fails the same way (connection');
    expect(stderr).not.toContain('promoted');
  }, 60_000);

  it('rolls back on nothing_judged (exit 10) when both arms fail every request under a comparison, naming the upstream', async () => {
    const server = await upstream({ blue: 'auth', green: 'auth' });
    const dir = tempDir();
    writeUpstreamPlan(dir, server.base, ['compare_to_blue: { max_error_rate_increase: 0.05 }']);
    const { code, stderr, state } = await rollout(dir);
    expect(code).toBe(10);
    expect(state).toMatchObject({ phase: 'rolled_back', greenWeight: 0, breach: { rule: 'nothing_judged' } });
    expect(stderr).toContain('exit 10 — rolled back to blue: nothing was judged in any of its 2 stages (stage 1: green failed all');
    expect(stderr).toContain('(auth ');
    expect(stderr).toContain('both arms failing every request: likely the upstream, its key or the requests the plan sends');
    expect(stderr).not.toContain('sk-test-key');
  }, 60_000);

  it('promotes (exit 0) with analysis.on_unjudged: promote, saying nothing was judged', async () => {
    const server = await upstream({ blue: 'auth', green: 'auth' });
    const dir = tempDir();
    writeUpstreamPlan(dir, server.base, ['compare_to_blue: { max_error_rate_increase: 0.05 }', 'on_unjudged: promote']);
    const { code, stderr } = await rollout(dir);
    expect(code).toBe(0);
    expect(stderr).toContain('promoted: all 2 stages passed, though nothing was judged in any stage (green answered none successfully)');
  }, 60_000);
});
