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
  /**
   * An arm answered fewer requests than analysis.min_requests: green (every rule waited), or blue when every rule
   * waited for it (a plan judging green only against blue). `span`: blue's, "in this stage" or "in the rollout so far".
   */
  | { stage: number; kind: 'few'; arm: 'green'; sample: number }
  | { stage: number; kind: 'few'; arm: 'blue'; sample: number; span: string }
  /**
   * Green answered enough requests but fewer than analysis.min_requests of them successfully, failing most (more than
   * a thresholds.error_rate above 1/2 allows): rules passed on failures alone (a comparison with a blue failing as
   * often, a latency limit fast errors stay under).
   * `successes`: green's (0: none). `blue`: blue's reference when it failed most of its requests too, under the
   * floor in successes (then the upstream, its key or the request sent is at fault, not green).
   */
  | {
      stage: number;
      kind: 'failed';
      requests: number;
      successes: number;
      failures: string;
      blue?: { requests: number; successes: number; span: string };
    };

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
export function unjudgedStage(
  plan: Plan,
  index: number,
  checks: readonly CheckResult[],
  stages: readonly StageStats[],
  greenWeight = plan.stages[index]?.green_weight,
): Unjudged | undefined {
  const sample = greenSample(checks);
  // Below the floor every rate rule waits (undecided); a streak rule decided on fewer says nothing of a rate.
  const waiting = checks.some((check) => check.status === 'waiting' || check.status === 'undecided');
  if (waiting && sample < judgingFloor(plan)) return { stage: index + 1, kind: 'few', arm: 'green', sample };
  // Green answered enough, yet every rate rule waited: for blue's requests, which comparisons judge against.
  const rated = checks.filter((check) => check.rule !== 'consecutive_errors' && check.rule !== 'health_check');
  const blueSamples = rated.flatMap((check) => (check.blueSample === undefined ? [] : [check.blueSample]));
  if (rated.length > 0 && rated.every((check) => check.status === 'waiting') && blueSamples.length > 0) {
    const span = judgesAgainstRollout(index, greenWeight, plannedBlueRequests(plan)) ? 'in the rollout so far' : 'in this stage';
    return { stage: index + 1, kind: 'few', arm: 'blue', sample: Math.min(...blueSamples), span };
  }
  const green = stages[index]?.arms.green;
  if (!green || green.requests < judgingFloor(plan) || !mostlyFailed(plan, green)) return undefined;
  const unjudged: Unjudged = { stage: index + 1, kind: 'failed', requests: green.requests, successes: green.successes, failures: failureList(green) };
  const blue = blueOf(plan, index, stages, greenWeight);
  if (blue.arm.requests > 0 && mostlyFailed(plan, blue.arm)) unjudged.blue = { requests: blue.arm.requests, successes: blue.arm.successes, span: blue.span };
  return unjudged;
}

/**
 * An arm that answered fewer than min_requests successfully and failed more than it answered: its few answers say
 * nothing of it (a green failing 99% beside a blue failing as often passed every comparison on 4 answers of 404, and
 * was promoted). An arm failing a few of a small stage's requests is not one: its error rate was judged. Nor is one
 * failing no more than a thresholds.error_rate above 1/2 allows: that rule judged its failures as the plan asked
 * (error_rate: 0.6 and a green failing 55% of 40 requests passed on it, and used to end in nothing_judged).
 */
function mostlyFailed(plan: Plan, arm: ArmStats): boolean {
  const allowed = Math.max(0.5, plan.analysis.thresholds.error_rate ?? 0);
  return arm.successes < judgingFloor(plan) && arm.requests - arm.successes > allowed * arm.requests;
}

/** "all 40 requests", or "400 of its 404 requests": what an arm failed. */
function failedCount(requests: number, successes: number): string {
  return successes === 0 ? `all ${formatPlural(requests, 'request')}` : `${requests - successes} of its ${formatPlural(requests, 'request')}`;
}

/** What a stage's `stage_passed` line adds for a stage that failed every green request ("few" says its own). */
export function failedText(unjudged: Extract<Unjudged, { kind: 'failed' }>): string {
  const why = unjudged.failures ? ` (${unjudged.failures})` : '';
  const { blue } = unjudged;
  const blueText = blue ? `; blue failed ${failedCount(blue.requests, blue.successes)} ${blue.span} too: ${BOTH_FAILING}` : '';
  const answered = unjudged.successes === 0 ? 'none' : `only ${unjudged.successes}`;
  const under = unjudged.successes === 0 ? '' : ', under analysis.min_requests';
  return `: green answered ${answered} of its ${formatPlural(unjudged.requests, 'request')} in this stage successfully${why}${under}, so nothing of its answers was judged${blueText}`;
}

/**
 * The rollback of a rollout whose every stage passed with nothing judged: what each stage lacked, and where to
 * look. `greenRequests`: green's requests over the rollout; `passedThrough`: requests a live rollout's proxies passed
 * through untouched meanwhile (other models), which no rule judges: "too little traffic" alone hid a busy proxy.
 */
export function nothingJudged(plan: Plan, unjudged: readonly Unjudged[], greenRequests: number, passedThrough = 0): Breach {
  const count = plan.stages.length;
  const where = count === 1 ? 'its one stage' : `any of its ${count} stages`;
  const floor = plan.analysis.min_requests;
  const each = unjudged.map((stage) => {
    if (stage.kind === 'failed') {
      const blue = stage.blue ? `, and blue ${failedCount(stage.blue.requests, stage.blue.successes).replace(' of its ', ' of ')} ${stage.blue.span}` : '';
      return `stage ${stage.stage}: green failed ${failedCount(stage.requests, stage.successes)}${stage.failures ? ` (${stage.failures})` : ''}${blue}`;
    }
    const span = stage.arm === 'blue' ? ` ${stage.span}` : '';
    const against = stage.arm === 'blue' ? ', and the rules judge green only against blue' : '';
    return `stage ${stage.stage}: ${stage.arm} answered ${formatPlural(stage.sample, 'request')}${span}, under analysis.min_requests (${floor})${against}`;
  });
  const hints: string[] = [];
  const failed = unjudged.filter((stage) => stage.kind === 'failed');
  const every = failed.every((stage) => stage.successes === 0 && (stage.blue === undefined || stage.blue.successes === 0));
  if (failed.some((stage) => stage.blue)) hints.push(`both arms failing ${every ? 'every request' : 'nearly every request'}: ${BOTH_FAILING}`);
  else if (failed.length > 0) hints.push(every ? 'green failed every request it answered' : 'green failed nearly every request it answered');
  if (unjudged.some((stage) => stage.kind === 'few')) hints.push('too little traffic for min_requests: longer stages or more requests');
  if (passedThrough > 0) hints.push(passedThroughHint(plan, passedThrough));
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

/** Why the requests a live rollout's proxies passed through were not judged, and what an application asking for the wrong name does. */
function passedThroughHint(plan: Plan, passedThrough: number): string {
  const blue = plan.arms.blue.model;
  return (
    `the proxies passed ${formatPlural(passedThrough, 'other request')} through to blue's upstream untouched, neither split nor judged: ` +
    `they asked for other models than blue's (${blue}) and proxy.alias; an application asking for green's model (${plan.arms.green.model}) ` +
    `or an old name for blue (the proxy says which on stderr) should ask for ${blue}, or list that name in proxy.alias`
  );
}

/** Where both arms failing every request points. */
const BOTH_FAILING = 'likely the upstream, its key or the requests the plan sends (upstream.headers, request), not green';

function blueOf(plan: Plan, index: number, stages: readonly StageStats[], greenWeight: number | undefined): { arm: ArmStats; span: string } {
  const plannedBlue = plannedBlueRequests(plan);
  const blueStages = stages.slice(0, index + 1).map((stage) => stage.arms.blue);
  const arm = blueReference({ stageIndex: index, blue: blueStages[index] as ArmStats, blueStages, greenWeight, plannedBlue });
  return { arm, span: judgesAgainstRollout(index, greenWeight, plannedBlue) ? 'in the rollout so far' : 'in this stage' };
}
