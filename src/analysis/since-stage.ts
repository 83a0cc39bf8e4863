// The absolute rate thresholds (error_rate, quality_fail_rate) judge green from each stage's start to the rollout's
// end, not each stage apart (session 33). Each stage still starts one test with its share of the budget
// (budget.ts: rules x stages), but the test does not end with its stage: in stage s the rule judges s windows,
// green's requests since stage 1 began, since stage 2 began, ..., since s began (the stage's own), each at the
// check's alpha. Under the null these thresholds test, every green request's chance of failing at most the limit
// whatever came before (the conditional mean of each outcome, Howard, Ramdas, McAuliffe & Sekhon 2021, sec. 3.2,
// whose mixture sequential.ts implements), each window's one-sided mixture is a supermartingale in the order the
// requests were sent, so each breaches falsely in at most alpha at any looks; at most `stages` windows per rule
// keep the rule's share of the budget as before. A regression that lasts beyond its stage is judged on all its
// requests (a stage carries at most 6,000 of the 10,000 and more a 2x error rate needs, docs/benchmarks-history.md,
// session 33), and one that starts late is judged from its stage on, not diluted by the healthy stages before.
// The comparisons with blue stay within each stage: a window over several stages weighs an upstream burst shared
// by both arms unevenly (green's share of traffic changes from stage to stage), the trap of session 10.
import { sumArmCounts, type ArmStats } from '../metrics/types.js';
import type { Judged } from './rules.js';
import type { SequentialContext } from './rate-rules.js';

/**
 * The stage's own judgement, unless only a window begun at an earlier stage breaches: then that one (the earliest
 * such, the one with the most requests), its message saying since when. `greenStages`: green in every stage so
 * far, this one last (its own figures are ctx.green); absent or short, the stage's own alone.
 */
export function judgedSinceEachStage(
  ctx: SequentialContext,
  stageIndex: number,
  greenStages: readonly ArmStats[] | undefined,
  judge: (ctx: SequentialContext) => Judged,
): Judged {
  const own = judge(ctx);
  if (own.message !== undefined || greenStages === undefined || greenStages.length !== stageIndex + 1) return own;
  const before = greenStages.slice(0, stageIndex);
  for (let first = 0; first < stageIndex; first++) {
    const green = sumArmCounts([...before.slice(first), ctx.green]);
    const judged = judge({ ...ctx, green, where: ` since stage ${first + 1} began,${ctx.where}` });
    if (judged.message !== undefined) return judged;
  }
  return own;
}
