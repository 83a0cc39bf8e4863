import { describe, expect, it } from 'vitest';
import type { SimulateConfig } from '../../src/plan/schema.js';
import { chat, fastConfig, messages, sim } from './helpers.js';

async function outcomes(config: SimulateConfig, count: number): Promise<string[]> {
  const handle = await sim(config);
  const seen: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = i % 2 === 0 ? await chat(handle, {}) : await messages(handle, {});
    const text = await response.text();
    seen.push(`${response.status}:${text.length}`);
  }
  return seen;
}

describe('simulator determinism', () => {
  it('gives the same sequence of outcomes for the same seed and request order', async () => {
    const config = fastConfig({ error_rate: 0.5 }, { seed: 42 });
    const first = await outcomes(config, 24);
    const second = await outcomes(config, 24);
    expect(second).toEqual(first);
    const statuses = new Set(first.map((o) => o.split(':')[0]));
    expect(statuses).toEqual(new Set(['200', '500']));
  });

  it('gives another sequence for another seed', async () => {
    const a = await outcomes(fastConfig({ error_rate: 0.5 }, { seed: 1 }), 24);
    const b = await outcomes(fastConfig({ error_rate: 0.5 }, { seed: 2 }), 24);
    expect(b).not.toEqual(a);
  });

  it('defaults the seed to 1', async () => {
    const { seed: _seed, ...unseeded } = fastConfig({ rate_limit_rate: 0.5 });
    const a = await outcomes(unseeded, 12);
    const b = await outcomes(fastConfig({ rate_limit_rate: 0.5 }, { seed: 1 }), 12);
    expect(a).toEqual(b);
  });
});

describe('simulator timed changes', () => {
  it('applies a change once its `at` has passed on the injected clock, later changes on top', async () => {
    let now = 1_000_000;
    const handle = await sim(
      fastConfig({
        changes: [
          { at: 30_000, error_rate: 1 },
          { at: 10_000, output_tokens: { min: 3, max: 3 } },
          { at: 60_000, error_rate: 0, rate_limit_rate: 1 },
        ],
      }),
      { now: () => now },
    );
    const body = async () => (await (await chat(handle, {})).json()) as { usage: { completion_tokens: number } };
    expect((await body()).usage.completion_tokens).toBeGreaterThanOrEqual(20);
    now += 10_000;
    expect((await body()).usage.completion_tokens).toBe(3);
    now += 19_999;
    expect((await chat(handle, {})).status).toBe(200);
    now += 1;
    expect((await chat(handle, {})).status).toBe(500);
    now += 30_000;
    expect((await chat(handle, {})).status).toBe(429);
  });
});
