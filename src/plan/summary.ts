// What a plan will do, computed before any traffic: the schedule, requests per arm, and an estimated cost.
// A live rollout judges the application's requests, which the plan cannot know: its counts are estimates at the
// rate `traffic` declares, and without a traffic block none are made (what a stage needs is said instead).
import { formatCount, formatDuration, formatUsd } from '../core/format.js';
import type { ArmName, Plan } from './plan.js';

/**
 * Where the estimate's requests come from: `generated`, the rollout sends traffic.rate itself; `application`, a
 * live plan whose traffic.rate states the application's rate (the rollout sends none); `unknown`, a live plan
 * without a traffic block (no counts or cost are estimated).
 */
export type RateBasis = 'generated' | 'application' | 'unknown';

export interface StageEstimate {
  index: number;
  name?: string;
  durationMs: number;
  greenWeight: number;
  /** Requests per arm at the plan's rate; null when the rate is unknown (a live plan without a traffic block). */
  requests: Record<ArmName, number> | null;
  /** Copies of blue-routed requests a live rollout's proxies also send to green (`mirror`), unseen by users; null as requests. */
  mirrored: number | null;
  /**
   * Requests (the application's, in a live plan) the stage needs for green to answer analysis.min_requests:
   * min_requests divided by green's share (its weight, plus mirror copies of the rest). Null when green gets
   * none or min_requests is 0.
   */
  requestsToJudge: number | null;
}

export interface PlanSummary {
  name: string;
  /** The rate the counts assume and where it comes from. */
  traffic: { basis: RateBasis; rate: number | null };
  /** analysis.min_requests, which requestsToJudge is worked out from. */
  minRequests: number;
  stages: StageEstimate[];
  totalDurationMs: number;
  /** Null when the rate is unknown. */
  requests: Record<ArmName, number> | null;
  /** Mirror copies sent to green over the whole rollout (they cost green's tokens like any request); null as requests. */
  mirrored: number | null;
  /** Tokens per request the cost estimate assumes. */
  assumedTokens: { prompt: number; completion: number };
  /** Estimated cost per arm in USD; null when the arm has no price or the rate is unknown. */
  costUsd: Record<ArmName, number | null>;
  /** Estimated cost of one request per arm in USD (at the assumed tokens); null when the arm has no price. */
  requestCostUsd: Record<ArmName, number | null>;
}

/** Average prompt tokens assumed for the estimate: a short chat turn plus a system prompt. */
const ASSUMED_PROMPT_TOKENS = 200;

/** Whether the rollout sends traffic of its own: always, except a live plan (proxy.admin) without generated_traffic. */
export function generatesTraffic(plan: Plan): boolean {
  return !plan.proxy?.admin || plan.proxy.controller.generated_traffic;
}

export function rateBasis(plan: Plan): RateBasis {
  if (generatesTraffic(plan)) return 'generated';
  return plan.trafficDefaulted ? 'unknown' : 'application';
}

/** Green's share of a stage's requests: its weight, plus the mirror copies of blue's (only proxies mirror). */
export function greenShare(plan: Plan, stage: Plan['stages'][number]): number {
  const mirror = plan.proxy?.admin ? (stage.mirror ?? 0) : 0;
  return stage.green_weight + (1 - stage.green_weight) * mirror;
}

/**
 * A stage's expected requests per arm at `rate`, and the copies of blue's that the proxies mirror to green (a
 * live rollout; generated traffic has no mirror). Each count is rounded once, here: validate's table and its
 * warnings about short stages both count with it, so they never disagree.
 */
export function stageRequests(plan: Plan, stage: Plan['stages'][number], rate: number): { requests: Record<ArmName, number>; mirrored: number } {
  const total = (rate * stage.duration) / 1000;
  const mirror = plan.proxy?.admin ? (stage.mirror ?? 0) : 0;
  const expected = (share: number): number => Math.round(total * share);
  const blueShare = 1 - stage.green_weight;
  return { requests: { blue: expected(blueShare), green: expected(stage.green_weight) }, mirrored: expected(blueShare * mirror) };
}

export function summarisePlan(plan: Plan): PlanSummary {
  const basis = rateBasis(plan);
  const rate = basis === 'unknown' ? null : plan.traffic.rate;
  const min = plan.analysis.min_requests;
  const stages: StageEstimate[] = plan.stages.map((stage, index) => {
    const share = greenShare(plan, stage);
    const estimate: StageEstimate = {
      index,
      name: stage.name,
      durationMs: stage.duration,
      greenWeight: stage.green_weight,
      requests: null,
      mirrored: null,
      requestsToJudge: share > 0 && min > 0 ? Math.ceil(min / share - 1e-9) : null,
    };
    return rate === null ? estimate : { ...estimate, ...stageRequests(plan, stage, rate) };
  });
  const sum = (pick: (stage: StageEstimate) => number | undefined): number => stages.reduce((total, stage) => total + (pick(stage) ?? 0), 0);
  const requests = rate === null ? null : { blue: sum((s) => s.requests?.blue), green: sum((s) => s.requests?.green) };
  const mirrored = rate === null ? null : sum((s) => s.mirrored ?? 0);
  const assumedTokens = { prompt: ASSUMED_PROMPT_TOKENS, completion: Math.round(plan.traffic.max_tokens / 2) };
  const requestCost = (arm: ArmName): number | null => {
    const price = plan.arms[arm].price;
    return price ? (assumedTokens.prompt * price.input_per_mtok + assumedTokens.completion * price.output_per_mtok) / 1e6 : null;
  };
  const requestCostUsd = { blue: requestCost('blue'), green: requestCost('green') };
  const cost = (arm: ArmName): number | null => {
    const perRequest = requestCostUsd[arm];
    if (perRequest === null || requests === null) return null;
    return (requests[arm] + (arm === 'green' ? (mirrored ?? 0) : 0)) * perRequest;
  };
  return {
    name: plan.name,
    traffic: { basis, rate },
    minRequests: min,
    stages,
    totalDurationMs: stages.reduce((total, s) => total + s.durationMs, 0),
    requests,
    mirrored,
    assumedTokens,
    costUsd: { blue: cost('blue'), green: cost('green') },
    requestCostUsd,
  };
}

/** What the counts rest on, for a live plan (undefined for generated traffic, whose rate the plan sets). */
export function rateBasisText(summary: PlanSummary): string | undefined {
  if (summary.traffic.basis === 'application')
    return `requests: the application's, through the proxies, estimated at ${summary.traffic.rate}/s as traffic.rate says (the rollout sends none itself)`;
  if (summary.traffic.basis === 'unknown')
    return "requests: the application's, through the proxies; this plan has no traffic block, so how many (and their cost) is not estimated: set traffic.rate to the application's rate for an estimate";
  return undefined;
}

/** "100 requests (6.7/s)": what a stage needs for green to reach min_requests, or "-" when green gets none. */
export function requestsToJudgeText(stage: StageEstimate): string {
  if (stage.requestsToJudge === null) return '-';
  const perSecond = stage.requestsToJudge / (stage.durationMs / 1000);
  // The rate the application must keep up for the whole stage: "(2.7/s)" alone read as a rate the plan sets.
  const rate = perSecond >= 10 ? Math.round(perSecond) : perSecond.toPrecision(2);
  return `${formatCount(stage.requestsToJudge)} requests (${rate}/s over ${formatDuration(stage.durationMs)})`;
}

/** "estimated cost per 1,000 requests: blue $1.78, green $1.42": what an unknown number of requests costs. */
export function requestCostText(summary: PlanSummary): string {
  return `estimated cost per 1,000 requests: blue ${pricedUsd(costPer1k(summary, 'blue'))}, green ${pricedUsd(costPer1k(summary, 'green'))}`;
}

/** An arm's estimated cost, or "no price" for an arm the plan gives none (`-` read as a figure gone missing). */
export function pricedUsd(usd: number | null): string {
  return usd === null ? 'no price' : formatUsd(usd);
}

/** An arm's estimated cost of 1,000 requests, mirror copies included; null without a price. */
export function costPer1k(summary: PlanSummary, arm: ArmName): number | null {
  const cost = summary.requestCostUsd[arm];
  return cost === null ? null : cost * 1000;
}

/** " +150 mirrored" after a stage's request counts, or "" when nothing is mirrored. */
export function mirroredText(count: number | null): string {
  return count !== null && count > 0 ? ` +${formatCount(count)} mirrored` : '';
}

/** ", and 150 mirror copies to green" after the rollout's request totals, or "". */
export function mirroredTotalText(summary: PlanSummary): string {
  return summary.mirrored !== null && summary.mirrored > 0 ? `, and ${formatCount(summary.mirrored)} mirror copies to green` : '';
}
