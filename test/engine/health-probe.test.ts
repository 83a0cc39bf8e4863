// The health check's chat probe (health_check.probe: chat): a tiny chat request to green, not GET /models.
import { describe, expect, it } from 'vitest';
import type { ArmClient } from '../../src/engine/deps.js';
import { HealthChecker, type HealthState } from '../../src/engine/health.js';
import type { ChatRequest, UpstreamResult } from '../../src/upstream/types.js';
import { FakeClock } from '../helpers/fake-clock.js';

function client(outcomes: boolean[]): ArmClient & { sent: ChatRequest[]; listed: number } {
  const sent: ChatRequest[] = [];
  const state = { listed: 0 };
  return {
    sent,
    get listed() {
      return state.listed;
    },
    send(request) {
      sent.push(request);
      const ok = outcomes[Math.min(sent.length, outcomes.length) - 1] ?? true;
      const result: UpstreamResult = { arm: 'green', model: 'o3', ok, content: ok ? 'OK' : '', latencyMs: 5, attempts: 1, stream: false };
      if (!ok) Object.assign(result, { failure: 'client_error', errorMessage: 'green arm: 404 from http://127.0.0.1/v1/chat/completions' });
      return Promise.resolve(result);
    },
    listModels() {
      state.listed++;
      return Promise.resolve({ ids: [], status: 200 });
    },
  };
}

describe('health check probe: chat', () => {
  it('sends the tiny chat request each interval and counts failures in a row', async () => {
    const clock = new FakeClock();
    const green = client([true, false, false]);
    const results: [boolean, HealthState][] = [];
    const checker = new HealthChecker({ interval: 1000, failures_to_rollback: 2, timeout: 500, probe: 'chat' }, green, clock, (ok, state) =>
      results.push([ok, state]),
    );
    checker.start();
    await clock.advance(3000);
    checker.stop();
    expect(green.listed).toBe(0);
    expect(green.sent).toHaveLength(3);
    expect(green.sent[0]).toMatchObject({ source: 'health', stream: false, maxTokens: 16 });
    expect(results.map(([ok, state]) => [ok, state.consecutiveFailures])).toEqual([
      [true, 0],
      [false, 1],
      [false, 2],
    ]);
    expect(results[2]?.[1].lastError).toBe('chat probe failed: green arm: 404 from http://127.0.0.1/v1/chat/completions');
  });

  it('probe: models (the default) asks GET /models', async () => {
    const clock = new FakeClock();
    const green = client([true]);
    const checker = new HealthChecker({ interval: 1000, failures_to_rollback: 2, timeout: 500 }, green, clock, () => undefined);
    checker.start();
    await clock.advance(2000);
    checker.stop();
    expect(green.listed).toBe(2);
    expect(green.sent).toHaveLength(0);
  });
});
