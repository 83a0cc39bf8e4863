// A stage that passed having judged nothing of green, and a rollout none of whose stages judged anything: such a
// rollout rolls back at its end rather than promote a green nobody saw answer (analysis.on_unjudged: promote
// promotes it anyway). A promotion is a claim that green was judged healthy at least once.
import { failureList } from '../analysis/blame.js';
import { blueReference, judgesAgainstRollout, plannedBlueRequests } from '../analysis/reference.js';
import type { Breach, CheckResult } from '../analysis/types.js';
import { formatPlural } from '../core/format.js';
import type { ArmStats, StageStats } from '../metrics/types.js';
import type { Plan } from '../plan/plan.js';

/** Why a stage that passed judged nothing of green. `stage` is 1-based. */
export type Unjudged =
  /** Green answered fewer requests than analysis.min_requests: every rule was still waiting. */
  | { stage: number; kind: 'few'; sample: number }
  /**
   * Green answered enough requests but none of them successfully: rules passed on failures alone (a comparison
   * with a blue failing as often, a latency limit fast errors stay under). `blue`: blue's reference when it
   * failed every request too (then the upstream, its key or the request sent is at fault, not green).
   */
  | { stage: number; kind: 'failed'; requests: number; failures: string; blue?: { requests: number; span: string } };

/**
 * Green's requests in the stage as the rules counted them; Infinity with no such rule. ttft_p95 counts streamed
 * requests only, and the health check its own probes, so neither says how many requests green answered.
 */
export function greenSample(checks: readonly CheckResult[]): number {
  const requestChecks = checks.filter((check) => check.rule !== 'ttft_p95' && check.rule !== 'health_check');
  return requestChecks.length > 0 ? Math.max(...requestChecks.map((check) => check.sample)) : Infinity;
}

/** The floor a rule's sample must reach before it is judged: even min_requests: 0 waits for one (evaluate.ts). */
export function judgingFloor(plan: Plan): number {
  return Math.max(1, plan.analysis.min_requests);
}

/**
 * Why the stage at `index` (0-based), passing on `checks`, judged nothing of green; undefined when it judged
 * something. `stages`: the metrics' stages, for green's figures and blue's reference (the stage's own blue, or
 * blue over the rollout so far, as the comparisons judge against).
 */
export function unjudgedStage(plan: Plan, index: number, checks: readonly CheckResult[], stages: readonly StageStats[]): Unjudged | undefined {
  const sample = greenSample(checks);
  // Below the floor every rate rule waits (undecided); a streak rule decided on fewer says nothing of a rate.
  const waiting = checks.some((check) => check.status === 'waiting' || check.status === 'undecided');
  if (waiting && sample < judgingFloor(plan)) return { stage: index + 1, kind: 'few', sample };
  const green = stages[index]?.arms.green;
  if (!green || green.requests < judgingFloor(plan) || green.successes > 0) return undefined;
  const unjudged: Unjudged = { stage: index + 1, kind: 'failed', requests: green.requests, failures: failureList(green) };
  const blue = blueOf(plan, index, stages);
  if (blue.arm.requests > 0 && blue.arm.successes === 0) unjudged.blue = { requests: blue.arm.requests, span: blue.span };
  return unjudged;
}

/** What a stage's `stage_passed` line adds for a stage that failed every green request ("few" says its own). */
export function failedText(unjudged: Extract<Unjudged, { kind: 'failed' }>): string {
  const why = unjudged.failures ? ` (${unjudged.failures})` : '';
  const blue = unjudged.blue ? `; blue failed all ${formatPlural(unjudged.blue.requests, 'request')} ${unjudged.blue.span} too: ${BOTH_FAILING}` : '';
  return `: green answered none of its ${formatPlural(unjudged.requests, 'request')} in this stage successfully${why}, so nothing of its answers was judged${blue}`;
}

/**
 * The rollback of a rollout whose every stage passed with nothing judged: what each stage lacked, and where to
 * look. `greenRequests`: green's requests over the rollout.
 */
export function nothingJudged(plan: Plan, unjudged: readonly Unjudged[], greenRequests: number): Breach {
  const count = plan.stages.length;
  const where = count === 1 ? 'its one stage' : `any of its ${count} stages`;
  const floor = plan.analysis.min_requests;
  const each = unjudged.map((stage) =>
    stage.kind === 'few'
      ? `stage ${stage.stage}: green answered ${formatPlural(stage.sample, 'request')}, under analysis.min_requests (${floor})`
      : `stage ${stage.stage}: green failed all ${formatPlural(stage.requests, 'request')}${stage.failures ? ` (${stage.failures})` : ''}${stage.blue ? `, and blue all ${formatPlural(stage.blue.requests, 'request')} ${stage.blue.span}` : ''}`,
  );
  const hints: string[] = [];
  if (unjudged.some((stage) => stage.kind === 'failed' && stage.blue)) hints.push(`both arms failing every request: ${BOTH_FAILING}`);
  else if (unjudged.some((stage) => stage.kind === 'failed')) hints.push('green failed every request it answered');
  if (unjudged.some((stage) => stage.kind === 'few')) hints.push('too little traffic for min_requests: longer stages or more requests');
  return {
    rule: 'nothing_judged',
    // No stage judged, of the one at least a promotion needs.
    figure: 0,
    limit: 1,
    unit: 'count',
    sample: greenRequests,
    message:
      `nothing was judged in ${where} (${each.join('; ')}): a green never judged is not promoted; ${hints.join('; ')}` +
      ' (analysis.on_unjudged: promote promotes such a rollout anyway)',
  };
}

/** Where both arms failing every request points. */
const BOTH_FAILING = 'likely the upstream, its key or the requests the plan sends (upstream.headers, request), not green';

function blueOf(plan: Plan, index: number, stages: readonly StageStats[]): { arm: ArmStats; span: string } {
  const greenWeight = plan.stages[index]?.green_weight;
  const plannedBlue = plannedBlueRequests(plan);
  const blueStages = stages.slice(0, index + 1).map((stage) => stage.arms.blue);
  const arm = blueReference({ stageIndex: index, blue: blueStages[index] as ArmStats, blueStages, greenWeight, plannedBlue });
  return { arm, span: judgesAgainstRollout(index, greenWeight, plannedBlue) ? 'in the rollout so far' : 'in this stage' };
}
