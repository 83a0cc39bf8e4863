// The shipped example plans (rollouts/openai, anthropic, relay, azure) validate, and each runs end to end
// against a scripted server that behaves like its provider: a copy of the plan points at loopback with
// short stages, everything else (models, request settings, quality rules) as shipped.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { RolloutEvent, RolloutSnapshot } from '../../src/engine/types.js';
import { loadPlan } from '../../src/plan/load.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { startAnthropicLike, startAzureLike, startOpenAiLike } from './provider-servers.js';
import type { Recorded, TestServer } from './server.js';

const ROLLOUTS = path.resolve(import.meta.dirname, '../../rollouts');
const KEYS = {
  OPENAI_API_KEY: 'sk-openai-test-1111',
  ANTHROPIC_API_KEY: 'sk-ant-test-2222',
  RELAY_API_KEY: 'sk-or-test-3333',
  AZURE_OPENAI_API_KEY: 'azure-test-4444',
};

type PlanData = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A copy of rollouts/NAME.yaml in a temp folder (with its prompts and samples), edited for a fast local run. */
function copyPlan(name: string, edit: (plan: PlanData) => void): string {
  const dir = tempDir();
  cpSync(path.join(ROLLOUTS, 'prompts'), path.join(dir, 'prompts'), { recursive: true });
  cpSync(path.join(ROLLOUTS, 'samples'), path.join(dir, 'samples'), { recursive: true });
  const plan = parse(readFileSync(path.join(ROLLOUTS, `${name}.yaml`), 'utf8')) as PlanData;
  plan.stages = (plan.stages as PlanData[]).map((stage) => ({ ...stage, duration: '500ms' }));
  plan.traffic.rate = 40;
  plan.analysis.interval = '100ms';
  plan.analysis.min_requests = 5;
  if (plan.health_check) plan.health_check.interval = '200ms';
  // Blue and green answer from the same loopback process: a latency ratio over a handful of requests would
  // judge the test machine's scheduling, not the plan.
  if (plan.analysis.compare_to_blue) delete plan.analysis.compare_to_blue.max_latency_p95_ratio;
  edit(plan);
  writeFileSync(path.join(dir, 'plan.yaml'), stringify(plan));
  return dir;
}

interface Run {
  code: number;
  final: RolloutSnapshot;
  events: RolloutEvent[];
  stderr: string;
}

/** `bluegreen rollout plan.yaml --plain` in the plan's folder, with the providers' keys in its environment. */
async function rollout(dir: string): Promise<Run> {
  const { code, stderr } = await runCli(['rollout', 'plan.yaml', '--plain', '--seed', '7'], { cwd: dir, env: KEYS });
  const stateDir = path.join(dir, '.bluegreen');
  const final = JSON.parse(readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as RolloutSnapshot;
  const journal = readFileSync(path.join(stateDir, 'events.jsonl'), 'utf8');
  const events = journal
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RolloutEvent);
  const text = JSON.stringify(final) + journal + stderr;
  for (const key of Object.values(KEYS)) expect(text).not.toContain(key);
  return { code, final, events, stderr };
}

const totals = (final: RolloutSnapshot, arm: 'blue' | 'green') =>
  final.stages.reduce((sum, stage) => ({ requests: sum.requests + stage.arms[arm].requests, failures: sum.failures + stage.arms[arm].failures }), {
    requests: 0,
    failures: 0,
  });

function expectPromoted(run: Run): void {
  expect(run.code, run.events.map((e) => e.message).join('\n')).toBe(0);
  expect(run.final.phase).toBe('promoted');
  expect(totals(run.final, 'green').requests).toBeGreaterThan(20);
  expect(totals(run.final, 'green').failures).toBe(0);
  expect(totals(run.final, 'blue').failures).toBe(0);
}

const chats = (server: TestServer, model?: string): Recorded[] =>
  server.requests.filter((r) => r.method === 'POST' && (model === undefined || r.json?.model === model));

describe('example plans', () => {
  it.each(['openai', 'anthropic', 'relay', 'azure'])('rollouts/%s.yaml validates', (name) => {
    expect(() => loadPlan(path.join(ROLLOUTS, `${name}.yaml`), ROLLOUTS)).not.toThrow();
  });

  it('openai.yaml: the move to a reasoning model is promoted; its requests carry max_completion_tokens and no temperature', async () => {
    const server = await startOpenAiLike({ key: KEYS.OPENAI_API_KEY, models: ['gpt-4.1', 'gpt-5-mini'] });
    const run = await rollout(copyPlan('openai', (plan) => (plan.upstream.base_url = server.base)));
    expectPromoted(run);
    const green = chats(server, 'gpt-5-mini');
    expect(green.length).toBeGreaterThan(20);
    for (const req of green) {
      expect(req.json).toMatchObject({ max_completion_tokens: expect.any(Number), reasoning_effort: 'low' });
      expect(req.json).not.toHaveProperty('max_tokens');
      expect(req.json).not.toHaveProperty('temperature');
    }
    // Blue is a classic model: the sampled requests' temperature still reaches it.
    expect(chats(server, 'gpt-4.1').some((req) => req.json?.temperature !== undefined && 'max_tokens' in (req.json ?? {}))).toBe(true);
  });

  it('openai.yaml forced to max_tokens: rolled back, and the warning names the arm, the parameter and the plan key', async () => {
    const server = await startOpenAiLike({ key: KEYS.OPENAI_API_KEY, models: ['gpt-4.1', 'gpt-5-mini'] });
    const run = await rollout(
      copyPlan('openai', (plan) => {
        plan.upstream.base_url = server.base;
        plan.upstream.retries = { max: 0 };
        plan.green.request = { token_param: 'max_tokens' };
      }),
    );
    expect(run.code).toBe(10);
    expect(run.final.greenWeight).toBe(0);
    const warning = run.events.find((e) => e.type === 'warning' && e.message.includes('green arm'));
    expect(warning?.message).toContain(
      'the green model gpt-5-mini does not accept the parameter max_tokens; set green.request.token_param: max_completion_tokens',
    );
    expect(run.stderr).toContain('set green.request.token_param: max_completion_tokens');
  });

  it('anthropic.yaml: the switch to Claude is promoted; sampled OpenAI-shaped requests reach the Messages API converted', async () => {
    const openai = await startOpenAiLike({ key: KEYS.OPENAI_API_KEY, models: ['gpt-4o'] });
    const anthropic = await startAnthropicLike({ key: KEYS.ANTHROPIC_API_KEY, models: ['claude-sonnet-4-5'] });
    const run = await rollout(
      copyPlan('anthropic', (plan) => {
        plan.upstream.base_url = openai.base;
        plan.green.upstream.base_url = anthropic.base;
      }),
    );
    expectPromoted(run);
    const green = chats(anthropic);
    expect(green.length).toBeGreaterThan(20);
    // The sampled lines with a system prompt arrive with it at the top level, never as a message.
    expect(green.some((req) => typeof req.json?.system === 'string')).toBe(true);
    // Tools, if the recorded request carrying them went to Claude, arrive in Claude's shape (or the server says 400).
    for (const req of green)
      if (Array.isArray(req.json?.tools)) expect(req.json.tools).toEqual([expect.objectContaining({ input_schema: expect.any(Object) })]);
    expect(run.stderr).toMatch(/parameters the Anthropic arm has no counterpart for were left out: .*response_format \(\d+\)/);
    for (const req of green) {
      expect(req.json?.max_tokens).toEqual(expect.any(Number));
      expect(JSON.stringify(req.json?.messages)).not.toContain('"role":"system"');
    }
  });

  it('relay.yaml: a vendor switch through one key is promoted', async () => {
    const server = await startOpenAiLike({ key: KEYS.RELAY_API_KEY, models: ['openai/gpt-4o', 'anthropic/claude-sonnet-4.5'] });
    const run = await rollout(copyPlan('relay', (plan) => (plan.upstream.base_url = server.base)));
    expectPromoted(run);
    expect(chats(server, 'anthropic/claude-sonnet-4.5').length).toBeGreaterThan(20);
    expect(server.requests.every((req) => req.headers['x-title'] === 'bluegreen rollout')).toBe(true);
  });

  it('azure.yaml: deployments path, api-version, api-key; chat probes instead of /models; promoted', async () => {
    const server = await startAzureLike({ key: KEYS.AZURE_OPENAI_API_KEY, deployments: { 'gpt-4o-prod': 'gpt-4o', 'gpt-5-mini-canary': 'gpt-5-mini' } });
    const run = await rollout(copyPlan('azure', (plan) => (plan.upstream.base_url = server.origin)));
    expectPromoted(run);
    expect(server.requests.some((req) => req.method === 'GET')).toBe(false); // models_endpoint: skip
    const green = server.requests.filter((req) => req.url === '/openai/deployments/gpt-5-mini-canary/chat/completions?api-version=2024-10-21');
    expect(green.length).toBeGreaterThan(20);
    // Preflight and the health check sent the tiny probe to green's deployment.
    expect(green.filter((req) => JSON.stringify(req.json?.messages).includes('Reply with the word OK.')).length).toBeGreaterThanOrEqual(2);
    expect(run.events.some((e) => e.type === 'health_check_failed')).toBe(false);
  });
});
