// The baseline: a copy of the judgement bluegreen used before issue 10 (point estimates judged against the
// limit as soon as an arm has min_requests samples, at every interval). Kept here only so the verdict
// benchmark can show the old and new judgements side by side on the same request streams.
// Latency percentiles are judged as the old code did in effect: p95 > L exactly when more than 5% of the
// requests took longer than L (likewise 1% for p99).

import { pointQuantile } from '../../dist/analysis/index.js';

/** Returns the first breached rule name, or undefined. `counts` are the stage's per-arm figures. */
export function oldVerdict(config, green, blue) {
  const t = config.thresholds;
  const c = config.compare_to_blue ?? {};
  const min = Math.max(1, config.min_requests);
  const rate = (x, n) => (n > 0 ? x / n : 0);
  const over = (figure, limit) => figure - limit > 1e-9 * Math.max(1, Math.abs(limit));
  if (t.consecutive_errors !== undefined && green.consecutiveFailures >= t.consecutive_errors) return 'consecutive_errors';
  if (t.error_rate !== undefined && green.requests >= min && over(rate(green.failures, green.requests), t.error_rate)) return 'error_rate';
  if (c.max_error_rate_increase !== undefined && green.requests >= min && blue.requests >= min) {
    if (over(rate(green.failures, green.requests) - rate(blue.failures, blue.requests), c.max_error_rate_increase))
      return 'compare_to_blue.max_error_rate_increase';
  }
  for (const [rule, share] of /** @type {['latency_p95' | 'latency_p99', number][]} */ ([
    ['latency_p95', 0.05],
    ['latency_p99', 0.01],
  ])) {
    const limit = t[rule];
    if (limit === undefined || green.requests < min) continue;
    if (over(rate(green.slow.latency[String(limit)] ?? 0, green.requests), share)) return rule;
  }
  if (t.ttft_p95 !== undefined && green.ttftCount >= min && over(rate(green.slow.ttft[String(t.ttft_p95)] ?? 0, green.ttftCount), 0.05)) return 'ttft_p95';
  // The p95 ratio to blue on the stage's point estimates (answered requests only), as the old code judged it.
  const ratio = c.max_latency_p95_ratio;
  const g = green.buckets?.snapshot();
  const b = blue.buckets?.snapshot();
  if (ratio !== undefined && g && b && green.requests >= min && blue.requests >= min) {
    if (over(pointQuantile(g, 0.95) / pointQuantile(b, 0.95), ratio)) return 'compare_to_blue.max_latency_p95_ratio';
  }
  if (t.quality_fail_rate !== undefined && green.successes >= min && over(rate(green.qualityFailures, green.successes), t.quality_fail_rate))
    return 'quality_fail_rate';
  // The old code had no quality comparison with blue and no built-in guard.
  return undefined;
}
