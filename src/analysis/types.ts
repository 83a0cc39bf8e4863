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
  | 'health_check'
  | 'hook';

export type Unit = 'ratio' | 'ms' | 'count' | 'factor';

export interface CheckResult {
  rule: RuleName;
  /** ok: within the limit; breach: crossed it; waiting: too few samples to judge yet. */
  status: 'ok' | 'breach' | 'waiting';
  figure: number | null;
  limit: number;
  unit: Unit;
  /** Requests the figure is based on (for comparisons, green's; blueSample holds blue's). */
  sample: number;
  blueSample?: number;
  /** How close to the limit, 0..1+ (figure / limit); null when not judged. */
  proximity: number | null;
}

export interface Breach {
  rule: RuleName;
  figure: number | null;
  limit: number;
  unit: Unit;
  sample: number;
  /** "green error_rate 0.31 > 0.05 over 48 requests in stage 3" */
  message: string;
}

export interface Verdict {
  checks: CheckResult[];
  /** The first breach, if any: the rule that triggers the rollback. */
  breach?: Breach;
}
