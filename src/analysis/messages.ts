// One sentence per breach, naming the rule, the figure, the limit and the sample it was judged on.
import type { EvaluateInput } from './evaluate.js';
import type { CheckResult, Unit } from './types.js';

export function formatFigure(value: number | null, unit: Unit): string {
  if (value === null) return '-';
  if (unit === 'ratio') return `${(value * 100).toFixed(1)}%`;
  if (unit === 'ms') return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${Math.round(value)}ms`;
  if (unit === 'factor') return `${value.toFixed(2)}x`;
  return String(value);
}

export function describeBreach(check: CheckResult, input: EvaluateInput): string {
  const stage = `in stage ${input.stageIndex + 1}`;
  const figure = formatFigure(check.figure, check.unit);
  const limit = formatFigure(check.limit, check.unit);
  switch (check.rule) {
    case 'consecutive_errors':
      return `green consecutive_errors ${figure} >= ${limit} (failures in a row) ${stage}`;
    case 'health_check':
      return `green health check failed ${figure} times in a row (limit ${limit})${input.health?.lastError ? `, last: ${input.health.lastError}` : ''} ${stage}`;
    case 'compare_to_blue.max_error_rate_increase': {
      const rate = (arm: typeof input.green) => (arm.requests ? arm.failures / arm.requests : 0);
      const points = ((check.figure ?? 0) * 100).toFixed(1);
      return `green error rate ${formatFigure(rate(input.green), 'ratio')} vs blue ${formatFigure(rate(input.blue), 'ratio')}: +${points} points > +${(check.limit * 100).toFixed(1)} allowed (green ${input.green.requests}, blue ${input.blue.requests} requests) ${stage}`;
    }
    case 'compare_to_blue.max_latency_p95_ratio':
      return `green p95 latency ${formatFigure(input.green.latency?.p95 ?? null, 'ms')} is ${figure} blue's ${formatFigure(input.blue.latency?.p95 ?? null, 'ms')} > ${limit} allowed (green ${input.green.requests}, blue ${input.blue.requests} requests) ${stage}`;
    case 'quality_fail_rate':
      return `green quality_fail_rate ${figure} > ${limit} over ${check.sample} answers ${stage}`;
    case 'ttft_p95':
      return `green ttft_p95 ${figure} > ${limit} over ${check.sample} streamed requests ${stage}`;
    default:
      return `green ${check.rule} ${figure} > ${limit} over ${check.sample} requests ${stage}`;
  }
}
