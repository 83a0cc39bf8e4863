// The profile `bluegreen sim` serves without --config: three familiar model names and a catch-all.
import type { SimulateConfig } from '../plan/schema.js';

/** A fresh copy on each call: the caller may change it (flags go on top) without changing the next caller's. */
export function builtinSimConfig(): SimulateConfig {
  return {
    seed: 1,
    models: {
      'gpt-4o': { latency: { p50: 450, p95: 1400 }, tokens_per_second: 70, error_rate: 0.005, rate_limit_rate: 0.005 },
      'gpt-4.1': { latency: { p50: 400, p95: 1200 }, tokens_per_second: 85, error_rate: 0.005, rate_limit_rate: 0.005 },
      'claude-sonnet-4': { latency: { p50: 600, p95: 1800 }, tokens_per_second: 60, overload_rate: 0.005, rate_limit_rate: 0.005 },
    },
    default: { latency: { p50: 250, p95: 800 } },
  };
}
