// Stages too short for the plan's rate to judge them: an arm expected to get fewer than analysis.min_requests, or
// so close to it that some runs fall short (judging-odds.ts), and a rollout that would then roll back at its end
// with nothing judged.
import type { Plan } from './plan.js';
import { rateBasis, stageRequests } from './summary.js';
import { judgingOdds, NEGLIGIBLE_ODDS, nothingJudgedOdds, type StageOdds } from './judging-odds.js';
import type { PlanWarning } from './warnings.js';

/**
 * A stage whose arm cannot reach min_requests at the plan's rate ends with its rules undecided; one expected just
 * above it falls under it in some runs (judging-odds.ts). When no stage is sure to judge, the rollout rolls back at
 * its end with nothing judged (src/engine/unjudged.ts), in every run or in some. A live plan without a traffic block
 * gets none: its rate is the application's, unknown here (validate says what each stage needs instead).
 */
export function shortStageWarnings(plan: Plan, sampledKeyCollision?: number): PlanWarning[] {
  const odds = judgingOdds(plan, sampledKeyCollision);
  if (odds === undefined) return [];
  const min = plan.analysis.min_requests;
  const basis = rateBasis(plan);
  const at = basis === 'application' ? `at the application's ${plan.traffic.rate}/s (traffic.rate)` : `at ${plan.traffic.rate}/s`;
  const fix = basis === 'application' ? 'make it longer (or set traffic.rate to what the application really sends)' : 'make it longer or the rate higher';
  const fixEach = fix.replace('make it longer', 'make them longer');
  const warnings: PlanWarning[] = [];
  for (const stage of odds) {
    const index = stage.index;
    // The counts validate's table shows (one rounding): green is judged on its own requests and on the mirror copies.
    const { requests, mirrored } = stageRequests(plan, plan.stages[index] as Plan['stages'][number], plan.traffic.rate);
    const counts: [arm: 'green' | 'blue', expected: number, sd: number, short: number, span: string][] = [];
    if (stage.green.mean > 0) counts.push(['green', requests.green + mirrored, stage.green.sd, stage.greenShort, '']);
    // A blue reference of none at all (stages at 100% green first) is warnings.ts's noBlueToCompare's.
    if (stage.blue && stage.blue.mean > 0) {
      const expected = stage.blue.span === 'stage' ? requests.blue : Math.round(stage.blue.mean);
      counts.push(['blue', expected, stage.blue.sd, stage.blueShort, stage.blue.span === 'rollout' ? ' in the rollout so far' : '']);
    }
    for (const [arm, expected, sd, short, span] of counts) {
      const what = arm === 'blue' ? 'comparisons with blue' : 'rules';
      const about = `about ${expected} ${arm} request(s)${span} ${at}`;
      if (expected < min) {
        warnings.push({
          keyPath: `stages[${index}].duration`,
          message: `${about}, fewer than analysis.min_requests (${min}): this stage's ${what} cannot be judged; ${fix}`,
          repeat: {
            kind: `few-${arm}${span === '' ? '' : '-so-far'}`,
            index,
            field: 'duration',
            message: `each gets fewer ${arm} requests${span} ${at} than analysis.min_requests (${min}): their ${what} cannot be judged; ${fixEach}`,
          },
        });
      } else if (short >= NEGLIGIBLE_ODDS) {
        warnings.push({
          keyPath: `stages[${index}].duration`,
          message: `${about}, give or take ${Math.round(sd)} from run to run: close to analysis.min_requests (${min}), so in about ${oddsText(short)} of runs fewer arrive and this stage's ${what} are not judged; ${fix}`,
          repeat: {
            kind: `close-${arm}${span === '' ? '' : '-so-far'}`,
            index,
            field: 'duration',
            message: `each gets ${arm} requests${span} ${at} close to analysis.min_requests (${min}): in some runs fewer arrive and their ${what} are not judged; ${fixEach}`,
          },
        });
      }
    }
  }
  const rollback = nothingJudgedRollback(plan, odds, at, fix);
  if (rollback) warnings.push(rollback);
  return warnings;
}

/**
 * No stage sure to judge green (src/engine/unjudged.ts): with analysis.on_unjudged: rollback the rollout rolls back
 * at its end (exit 10, nothing_judged) however healthy green is, in every run or in some. No green at all is
 * warnings.ts's noGreenTraffic's.
 */
function nothingJudgedRollback(plan: Plan, odds: readonly StageOdds[], at: string, fix: string): PlanWarning | undefined {
  if (plan.analysis.on_unjudged !== 'rollback' || !odds.some((stage) => stage.green.mean > 0)) return undefined;
  const min = plan.analysis.min_requests;
  const stagesFix = `${fix.replace('make it longer', 'make the stages longer')}, or set analysis.on_unjudged: promote to promote such a rollout anyway`;
  const greenShort = odds.every((stage) => stage.green.mean < min);
  if (greenShort)
    return {
      keyPath: 'analysis.on_unjudged',
      message: `no stage sends green analysis.min_requests (${min}) requests ${at}: with nothing judged in any stage the rollout rolls back at its end (exit 10, nothing_judged) however healthy green is; ${stagesFix}`,
    };
  // Green has enough somewhere, but every rate rule compares with blue, and blue has too few there.
  if (odds.every((stage) => stage.green.mean < min || (stage.needsBlue && (stage.blue?.mean ?? 0) < min)))
    return {
      keyPath: 'analysis.on_unjudged',
      message: `no stage can judge green ${at}: every rate rule compares green with blue, and each stage sends green or blue's reference fewer than analysis.min_requests (${min}) requests: the rollout rolls back at its end (exit 10, nothing_judged) however healthy green is; ${stagesFix}`,
    };
  const chance = nothingJudgedOdds(odds);
  if (chance < NEGLIGIBLE_ODDS) return undefined;
  return {
    keyPath: 'analysis.on_unjudged',
    message: `every stage's requests ${at} are close to analysis.min_requests (${min}): in about ${oddsText(chance)} of runs no stage reaches it, and the rollout rolls back at its end with nothing judged (exit 10, nothing_judged) however healthy green is, so its exit code changes from run to run; ${stagesFix}`,
  };
}

/** "0.3%", "12%": a chance as a share of runs. */
function oddsText(chance: number): string {
  const percent = chance * 100;
  return `${percent >= 10 ? Math.round(percent) : Number(percent.toPrecision(1))}%`;
}
