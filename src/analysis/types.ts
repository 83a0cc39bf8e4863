// A verdict is data: which rules were checked, with what figure against what limit, on how many samples.

export type RuleName =
  | 'error_rate'
  | 'consecutive_errors'
  | 'latency_p95'
  | 'latency_p99'
  | 'ttft_p95'
  | 'quality_fail_rate'
  | 'compare_to_blue.max_error_rate_increase'
  | 'compare_to_blue.max_latency_p95_ratio'
  | 'compare_to_blue.max_quality_fail_rate_increase'
  | 'guard.green_fails_more_than_blue'
  | 'health_check'
  | 'hook'
  | 'proxy_unreachable'
  | 'nothing_judged'
  | 'still_running';

export type Unit = 'ratio' | 'ms' | 'count' | 'factor';

/**
 * The rate a sequential rule judges, with its anytime-valid one-sided bounds: `lower` and `upper` each hold with
 * `confidence` (so together only a (2 confidence - 1) interval; sequential.ts). For error and quality rules the rate is
 * the figure itself; for latency rules it is the share of requests over the latency limit (p95 > L means more
 * than 5% of requests take longer than L); for comparisons it is green's rate minus blue's.
 */
export interface RateEvidence {
  estimate: number;
  lower: number;
  upper: number;
  /** The rate the rule allows: the threshold, 0.05 for a p95, or the allowed increase over blue. */
  limit: number;
  /** How sure each bound is (1 - the check's share of the rollout's false-rollback budget). */
  confidence: number;
  /** Latency rules: the latency limit (ms) whose share is judged. */
  overMs?: number;
  /**
   * The p95 ratio to blue: each arm's p95 (ms) with its bounds. estimate, lower and upper above are then
   * green's p95 over blue's and the bounds of that ratio.
   */
  quantiles?: { green: LatencyBounds; blue: LatencyBounds };
}

/** A latency percentile (ms) with its anytime-valid bounds (each one-sided). */
export interface LatencyBounds {
  estimate: number;
  lower: number;
  upper: number;
}

/**
 * ok: shown within the limit (the upper bound at or under it; for streak rules, not crossed); breach: shown beyond
 * it (the lower bound over it); undecided: neither yet; waiting: fewer samples than the min_requests floor.
 */
export type CheckStatus = 'ok' | 'breach' | 'undecided' | 'waiting';

export interface CheckResult {
  rule: RuleName;
  status: CheckStatus;
  figure: number | null;
  limit: number;
  unit: Unit;
  /** Requests the figure is based on (for comparisons, green's; blueSample holds blue's). */
  sample: number;
  blueSample?: number;
  /** How close to the limit, 0..1+ (figure / limit); null when not judged. */
  proximity: number | null;
  /** Sequential rules: the judged rate with its bounds (present from the first sample). */
  evidence?: RateEvidence;
}

export interface Breach {
  rule: RuleName;
  figure: number | null;
  limit: number;
  unit: Unit;
  sample: number;
  evidence?: RateEvidence;
  /** "green error_rate 22.7% (at least 11.9%, 99% sure) > 5.0% over 132 requests in stage 2", plus blame. */
  message: string;
}

export interface Verdict {
  checks: CheckResult[];
  /** The first breach, if any: the rule that triggers the rollback. */
  breach?: Breach;
}
