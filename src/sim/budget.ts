// A simulated per-model rate-limit budget that refills each minute, only to fill the x-ratelimit-* headers.
// It never rejects on its own: 429s come from the profile's rate_limit_rate, so a benchmark is not throttled.

export interface BudgetLimits {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

export const DEFAULT_LIMITS: Readonly<BudgetLimits> = Object.freeze({ requestsPerMinute: 10_000, tokensPerMinute: 2_000_000 });

export interface RateBudget {
  /** Spends one request and `tokens` for the model; returns the headers to send. */
  take(model: string, tokens: number): Record<string, string>;
}

const MINUTE = 60_000;

export function createRateBudget(now: () => number, limits: Readonly<BudgetLimits> = DEFAULT_LIMITS): RateBudget {
  const windows = new Map<string, { start: number; requests: number; tokens: number }>();
  return {
    take(model, tokens) {
      const time = now();
      const start = Math.floor(time / MINUTE) * MINUTE;
      let window = windows.get(model);
      if (!window || window.start !== start) {
        window = { start, requests: 0, tokens: 0 };
        windows.set(model, window);
      }
      window.requests += 1;
      window.tokens += Math.max(0, tokens);
      const reset = `${((start + MINUTE - time) / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
      return {
        'x-ratelimit-limit-requests': String(limits.requestsPerMinute),
        'x-ratelimit-limit-tokens': String(limits.tokensPerMinute),
        'x-ratelimit-remaining-requests': String(Math.max(0, limits.requestsPerMinute - window.requests)),
        'x-ratelimit-remaining-tokens': String(Math.max(0, limits.tokensPerMinute - window.tokens)),
        'x-ratelimit-reset-requests': reset,
        'x-ratelimit-reset-tokens': reset,
      };
    },
  };
}
