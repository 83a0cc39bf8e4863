// The verdict: every configured rule on green's figures for the current stage. Pure: snapshot in, verdict out.
import type { ArmStats } from '../metrics/types.js';
import type { AnalysisConfig } from '../plan/schema.js';
import { describeBreach } from './messages.js';
import type { Breach, CheckResult, RuleName, Unit, Verdict } from './types.js';

export interface HealthInput {
  consecutiveFailures: number;
  failuresToRollback: number;
  lastError?: string;
}

export interface EvaluateInput {
  stageIndex: number;
  green: ArmStats;
  blue: ArmStats;
  config: AnalysisConfig;
  health?: HealthInput;
}

/** The order breaches are reported in when several cross at once: hard failures first. */
const PRIORITY: RuleName[] = [
  'consecutive_errors',
  'error_rate',
  'compare_to_blue.max_error_rate_increase',
  'health_check',
  'latency_p95',
  'latency_p99',
  'ttft_p95',
  'compare_to_blue.max_latency_p95_ratio',
  'quality_fail_rate',
];

const errorRate = (arm: ArmStats): number => (arm.requests ? arm.failures / arm.requests : 0);

export function evaluate(input: EvaluateInput): Verdict {
  const { green, blue, config } = input;
  const { thresholds, min_requests: minRequests } = config;
  const checks: CheckResult[] = [];
  const judged = green.requests >= minRequests;

  /** A rate or percentile rule: breach when figure > limit, once enough samples are in. */
  const above = (rule: RuleName, limit: number | undefined, unit: Unit, figure: number | null, sample: number, enough: boolean, blueSample?: number) => {
    if (limit === undefined) return;
    const ready = enough && figure !== null;
    checks.push({
      rule,
      status: !ready ? 'waiting' : (figure as number) > limit ? 'breach' : 'ok',
      figure: ready ? figure : null,
      limit,
      unit,
      sample,
      blueSample,
      proximity: ready && limit > 0 ? (figure as number) / limit : null,
    });
  };
  /** A count rule: breach when figure >= limit, judged at any sample size. */
  const atLeast = (rule: RuleName, limit: number | undefined, figure: number, sample: number) => {
    if (limit === undefined) return;
    checks.push({ rule, status: figure >= limit ? 'breach' : 'ok', figure, limit, unit: 'count', sample, proximity: figure / limit });
  };

  atLeast('consecutive_errors', thresholds.consecutive_errors, green.consecutiveFailures, green.requests);
  above('error_rate', thresholds.error_rate, 'ratio', errorRate(green), green.requests, judged);
  const compare = config.compare_to_blue;
  const bothJudged = judged && blue.requests >= minRequests;
  above('compare_to_blue.max_error_rate_increase', compare?.max_error_rate_increase, 'ratio', errorRate(green) - errorRate(blue), green.requests, bothJudged, blue.requests);
  if (input.health) atLeast('health_check', input.health.failuresToRollback, input.health.consecutiveFailures, input.health.consecutiveFailures);
  above('latency_p95', thresholds.latency_p95, 'ms', green.latency?.p95 ?? null, green.requests, judged);
  above('latency_p99', thresholds.latency_p99, 'ms', green.latency?.p99 ?? null, green.requests, judged);
  const ttftSamples = green.ttft?.count ?? 0;
  above('ttft_p95', thresholds.ttft_p95, 'ms', green.ttft?.p95 ?? null, ttftSamples, ttftSamples >= minRequests);
  const ratio = green.latency && blue.latency && blue.latency.p95 > 0 ? green.latency.p95 / blue.latency.p95 : null;
  above('compare_to_blue.max_latency_p95_ratio', compare?.max_latency_p95_ratio, 'factor', ratio, green.requests, bothJudged, blue.requests);
  const qualityRate = green.successes ? green.qualityFailures / green.successes : 0;
  above('quality_fail_rate', thresholds.quality_fail_rate, 'ratio', qualityRate, green.successes, green.successes >= minRequests);

  const first = PRIORITY.map((rule) => checks.find((c) => c.rule === rule && c.status === 'breach')).find(Boolean);
  const breach: Breach | undefined = first && {
    rule: first.rule,
    figure: first.figure,
    limit: first.limit,
    unit: first.unit,
    sample: first.sample,
    message: describeBreach(first, input),
  };
  return breach ? { checks, breach } : { checks };
}
