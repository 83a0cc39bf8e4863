// What a stage does when its time is up and no rule was breached: pass, or — with a rule still undecided —
// what the plan's on_inconclusive says (extend the stage by its length, or pause for an operator).
import { decideStageEnd } from '../analysis/index.js';
import { judgesAgainstRollout, plannedBlueRequests } from '../analysis/reference.js';
import type { CheckResult } from '../analysis/types.js';
import { formatDuration, formatPlural, formatWeight } from '../core/format.js';
import type { StageStats } from '../metrics/types.js';
import type { Plan } from '../plan/plan.js';
import { failedText, greenSample, judgingFloor, unjudgedStage, type Unjudged } from './unjudged.js';

export type StageEndStep =
  | { kind: 'pass'; message: string; extensions: number; /** Why nothing of green was judged in the stage, when nothing was. */ unjudged?: Unjudged }
  | { kind: 'extend' | 'pause'; event: 'stage_extended' | 'stage_undecided'; message: string; extensions: number; extendByMs: number };

/** `stages`: the metrics' stages (green's figures, blue's reference): a stage whose green failed every request judged nothing. */
export function stageEndStep(
  plan: Plan,
  index: number,
  checks: CheckResult[],
  extensions: number,
  greenWeight: number,
  stages: readonly StageStats[] = [],
): StageEndStep {
  const decision = decideStageEnd(checks, plan.analysis, extensions);
  const undecided = decision.undecided.length ? ` (undecided: ${decision.undecided.join(', ')})` : '';
  const where = `stage ${index + 1}/${plan.stages.length}`;
  const extendByMs = plan.stages[index]?.duration ?? 0;
  if (decision.action === 'extend') {
    const message = `${where} extended by ${formatDuration(extendByMs)} (${decision.extension} of ${plan.analysis.max_extensions})${undecided}`;
    return { kind: 'extend', event: 'stage_extended', message, extensions: decision.extension, extendByMs };
  }
  if (decision.action === 'pause') {
    // Resumed, the stage runs once more its length, then passes.
    const message = `${where} time is up${undecided}; pausing for an operator (resume to go on, promote or abort)`;
    return { kind: 'pause', event: 'stage_undecided', message, extensions: extensions + 1, extendByMs };
  }
  const unjudged = unjudgedStage(plan, index, checks, stages);
  const thin =
    unjudged?.kind === 'failed'
      ? failedText(unjudged)
      : decision.undecided.length
        ? thinEvidence(plan, checks, judgesAgainstRollout(index, greenWeight, plannedBlueRequests(plan)))
        : '';
  return { kind: 'pass', message: `${where} passed at ${formatWeight(greenWeight)} green${undecided}${thin}`, extensions, ...(unjudged && { unjudged }) };
}

/**
 * Said when a stage passes undecided on fewer green requests than analysis.min_requests (a live rollout whose
 * application sent little or nothing, say): the stage showed nothing either way, and the operator must know.
 * ttft_p95 counts only streamed requests, and comparisons need blue's requests too (the stage's, or at 100%
 * green the rollout's so far: none before any blue traffic), so a stage with plenty of green requests may still
 * leave them unjudged.
 */
function thinEvidence(plan: Plan, checks: readonly CheckResult[], againstRollout: boolean): string {
  const floor = plan.analysis.min_requests;
  const sample = greenSample(checks);
  if (sample < judgingFloor(plan))
    return `: green answered ${formatPlural(sample, 'request')} in this stage${floor > 0 ? `, under analysis.min_requests (${floor})` : ''}, so nothing was judged`;
  const notes: string[] = [];
  const ttft = checks.find((check) => check.rule === 'ttft_p95');
  if (ttft !== undefined && ttft.sample < floor)
    notes.push(
      `green answered ${formatPlural(ttft.sample, 'streamed request')} in this stage, under analysis.min_requests (${floor}), so ttft_p95 (judged on streamed requests only) was not judged`,
    );
  const withoutBlue = checks.filter((check) => check.status === 'waiting' && check.blueSample !== undefined && check.blueSample < floor);
  if (withoutBlue.length > 0) {
    const blue = Math.min(...withoutBlue.map((check) => check.blueSample ?? 0));
    const rules = withoutBlue.map((check) => check.rule).join(', ');
    // Comparisons judge against the stage's blue, or blue over the rollout so far (src/analysis/reference.ts).
    const span = againstRollout ? 'in the rollout so far' : 'in this stage';
    notes.push(
      `blue answered ${formatPlural(blue, 'request')} ${span}, under analysis.min_requests (${floor}), so ${rules} (judged against blue) ${withoutBlue.length === 1 ? 'was' : 'were'} not judged`,
    );
  }
  return notes.length > 0 ? `: ${notes.join('; ')}` : '';
}
