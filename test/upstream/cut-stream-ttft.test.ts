// A stream cut after its first token did have one: the client records its ttftMs on the failure, and ttft_p95
// counts the failure by it (over the limit, or within it), where it counted one ended after the limit as unknown.
import { describe, expect, it } from 'vitest';
import { checkAlpha, evaluate, priorAround } from '../../src/analysis/index.js';
import { censoredBounds } from '../../src/analysis/sequential.js';
import { ArmRecorder, emptyArmStats } from '../../src/metrics/index.js';
import type { ChatRequest, UpstreamResult } from '../../src/upstream/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { analysisConfig } from '../helpers/plans.js';
import { ok } from '../metrics/helpers.js';
import { scriptedClient, type Handler } from './server.js';

const LIMIT = 1_000;
const request: ChatRequest = { messages: [{ role: 'user', content: 'Hello?' }], params: {}, stream: true, maxTokens: 64, source: 'synthetic' };

/** After `ms` on the clock: the stream's headers and one content chunk, then the connection cut (no [DONE]). */
function cutAfterFirstToken(clock: FakeClock, ms: number): Handler {
  return (_req, res) => {
    void clock.advance(ms).then(() => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ id: 'c1', model: 'm', choices: [{ index: 0, delta: { content: 'Hel' } }] })}\n\n`, () => res.destroy());
    });
  };
}

async function cutStream(ms: number): Promise<UpstreamResult> {
  const clock = new FakeClock();
  const { client } = await scriptedClient(cutAfterFirstToken(clock, ms), {
    model: 'gpt-4.1',
    apiKey: 'sk-test-secret-0123456789',
    upstream: { retries: { max: 0, baseDelayMs: 100, maxDelayMs: 1000 } },
    random: () => 0.5,
    clock,
  });
  return client.send(request);
}

describe('a stream cut after its first token', () => {
  it('fails with its time to first token recorded', async () => {
    const result = await cutStream(1_500);
    expect(result).toMatchObject({ ok: false, stream: true, ttftMs: 1_500, latencyMs: 1_500 });
    expect(result.failure).toBeDefined();
  });

  it('counts in ttft_p95 by its first token: over the limit as over it, not as an outcome unknown', async () => {
    const late = await cutStream(1_500);
    const early = await cutStream(200);
    const arm = new ArmRecorder(undefined, { latency: [], ttft: [LIMIT] });
    const results = [...Array.from({ length: 30 }, () => ok('green', { stream: true, ttftMs: 200, latencyMs: 900 })), late, early];
    for (const result of results) arm.dispatched(result.stream);
    for (const result of results) arm.record(result, false);
    const green = arm.snapshot();
    expect(green.failedStreams).toEqual({ requests: 2, unknown: { [LIMIT]: 0 } });
    expect(green.slow?.ttft).toEqual({ [LIMIT]: 1 });
    // The successes' percentiles only: the failures' first tokens are not in them.
    expect(green.ttft?.count).toBe(30);
    const config = analysisConfig({ min_requests: 20, thresholds: { ttft_p95: LIMIT } });
    const check = evaluate({ stageIndex: 0, stageCount: 1, green, blue: emptyArmStats(), config }).checks.find((c) => c.rule === 'ttft_p95')!;
    // 1 first token after 1 s in 32 streamed requests, none unknown.
    const expected = censoredBounds(1, 0, 32, checkAlpha(config, 1), priorAround(0.05));
    expect(check).toMatchObject({ sample: 32, evidence: { lower: expected.lower, upper: expected.upper } });
  });
});
