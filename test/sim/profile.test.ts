import { describe, expect, it } from 'vitest';
import { chooseFault, planResponse } from '../../src/sim/outcome.js';
import { DEFAULT_PROFILE, findProfile, profileAt } from '../../src/sim/profile.js';
import { createRandom } from '../../src/core/random.js';
import { sampleLognormal } from '../../src/sim/lognormal.js';

describe('profiles', () => {
  it('fills unset fields with the demo defaults', () => {
    expect(profileAt({}, 0)).toEqual(DEFAULT_PROFILE);
    expect(DEFAULT_PROFILE).toMatchObject({ latency: { p50: 250, p95: 800 }, tokensPerSecond: 80, outputTokens: { min: 20, max: 120 }, errorRate: 0 });
  });

  it('applies due changes in `at` order, each over the last', () => {
    const base = {
      error_rate: 0.01,
      changes: [
        { at: 2000, error_rate: 0.5 },
        { at: 1000, error_rate: 0.2, latency: { p50: 10, p95: 20 } },
      ],
    };
    expect(profileAt(base, 999).errorRate).toBe(0.01);
    expect(profileAt(base, 1000)).toMatchObject({ errorRate: 0.2, latency: { p50: 10, p95: 20 } });
    expect(profileAt(base, 5000)).toMatchObject({ errorRate: 0.5, latency: { p50: 10, p95: 20 } });
  });

  it('finds a listed model, else the default, else nothing; listed models do not inherit the default', () => {
    const config = { models: { a: { error_rate: 0.1 } }, default: { timeout_rate: 1 } };
    expect(findProfile(config, 'a')).toEqual({ error_rate: 0.1 });
    expect(findProfile(config, 'b')).toEqual({ timeout_rate: 1 });
    expect(findProfile({ models: {} }, 'b')).toBeUndefined();
    expect(findProfile({ models: {} }, 'constructor')).toBeUndefined();
  });
});

describe('outcomes', () => {
  it('picks faults against cumulative rates in a fixed order', () => {
    const profile = { ...DEFAULT_PROFILE, rateLimitRate: 0.1, overloadRate: 0.1, errorRate: 0.1, timeoutRate: 0.1, badResponseRate: 0.1 };
    expect(chooseFault(profile, 0.05)).toBe('rate_limit');
    expect(chooseFault(profile, 0.15)).toBe('overload');
    expect(chooseFault(profile, 0.25)).toBe('error');
    expect(chooseFault(profile, 0.35)).toBe('timeout');
    expect(chooseFault(profile, 0.45)).toBe('bad_response');
    expect(chooseFault(profile, 0.55)).toBeUndefined();
    expect(chooseFault(DEFAULT_PROFILE, 0)).toBeUndefined();
  });

  it('hits each configured rate closely over many requests', () => {
    const random = createRandom(9);
    const profile = { ...DEFAULT_PROFILE, errorRate: 0.2, timeoutRate: 0.05 };
    const counts = { error: 0, timeout: 0 };
    for (let i = 0; i < 20_000; i++) {
      const fault = planResponse(profile, random, { stream: false, maxTokens: undefined }).fault;
      if (fault === 'error' || fault === 'timeout') counts[fault]++;
    }
    expect(counts.error / 20_000).toBeCloseTo(0.2, 1);
    expect(counts.timeout / 20_000).toBeCloseTo(0.05, 1);
  });

  it('derives ttft from latency unless set, and caps tokens at max tokens', () => {
    const plan = planResponse({ ...DEFAULT_PROFILE, outputTokens: { min: 50, max: 50 } }, createRandom(1), { stream: true, maxTokens: 10 });
    expect(plan.ttftMs).toBeCloseTo(plan.latencyMs * 0.35);
    expect(plan.completionTokens).toBe(10);
    expect(plan.truncated).toBe(true);
    const set = planResponse({ ...DEFAULT_PROFILE, ttft: 100 }, createRandom(1), { stream: true, maxTokens: undefined });
    expect(set.ttftMs).toBeGreaterThanOrEqual(80);
    expect(set.ttftMs).toBeLessThanOrEqual(120);
  });
});

describe('lognormal latency', () => {
  it('matches the configured p50 and p95', () => {
    const random = createRandom(5);
    const samples = Array.from({ length: 20_000 }, () => sampleLognormal(random, 250, 800)).sort((a, b) => a - b);
    const p50 = samples[10_000] ?? 0;
    const p95 = samples[19_000] ?? 0;
    expect(p50).toBeGreaterThan(235);
    expect(p50).toBeLessThan(265);
    expect(p95).toBeGreaterThan(740);
    expect(p95).toBeLessThan(860);
  });

  it('is reproducible from the seed', () => {
    const a = createRandom(77);
    const b = createRandom(77);
    expect(Array.from({ length: 5 }, () => a())).toEqual(Array.from({ length: 5 }, () => b()));
  });
});
