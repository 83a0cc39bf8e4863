// Which plan a recovery of a dead rollout runs: the dead rollout's own plan file (or where --plan says it went),
// else the new rollout's plan when it is the same plan edited. Another plan is refused: its hooks (and proxies)
// would move another service's traffic while the record said this rollout's was back on blue.
import type { RolloutSnapshot } from '../engine/types.js';
import { endingHook } from '../hooks/ending-hook.js';
import { loadPlan, readThroughStream } from '../plan/load.js';
import type { Plan } from '../plan/plan.js';
import { CliError, EXIT } from '../core/exit.js';
import type { CliContext } from './context.js';

export interface PlanForOptions {
  snapshot: RolloutSnapshot;
  ctx: CliContext;
  /** `--plan FILE`, when the rollout's own plan file moved. */
  planFile?: string;
  /** The plan of a new rollout on the same folder: used when the dead one's plan cannot be read. */
  fallbackPlan?: Plan;
}

export function planFor(options: PlanForOptions, warn: (message: string) => void): Plan {
  const { snapshot, ctx } = options;
  const file = options.planFile ?? snapshot.plan.file;
  let plan: Plan;
  try {
    // A plan the dead rollout read from a stream (`bluegreen rollout /dev/stdin`) is not read again: /dev/stdin is
    // now this command's own stdin, which may be another text or an idle pipe read until its writer closes.
    if (options.planFile === undefined && readThroughStream(file)) throw new Error(`it was read from a stream, which cannot be read again`);
    plan = loadPlan(file, ctx.cwd);
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const fallback = options.fallbackPlan;
    if (fallback) {
      // The new rollout's plan stands in only when it is the same plan (edited): another plan's hooks move other traffic.
      const other = otherPlan(fallback, snapshot);
      if (other !== undefined) {
        throw new CliError(
          `cannot load ${file}, the plan of the rollout that died (${why}), and ${fallback.source.file} ${other}; run bluegreen rollback --plan FILE with that rollout's plan, or put its traffic back on blue by hand`,
          EXIT.usage,
        );
      }
      warn(`could not load ${file}, the plan of the rollout that died (${why}); using ${fallback.source.file} (${rollbackHookOf(fallback)})`);
      return fallback;
    }
    throw new CliError(`cannot load ${file}, the plan of the rollout that died (${why}); pass --plan FILE, or put traffic back on blue by hand`, EXIT.usage);
  }
  // --plan names where the dead rollout's plan went, not any plan: another plan's hook (or proxies) would move
  // another service's traffic, and the record would say this rollout's is back on blue.
  const other = options.planFile === undefined ? undefined : otherPlan(plan, snapshot);
  if (other !== undefined) throw new CliError(`${file} ${other}; pass that rollout's plan with --plan`, EXIT.usage);
  if (plan.source.hash !== snapshot.plan.hash) warn(`${file} changed since the rollout started; using it as it is now (${rollbackHookOf(plan)})`);
  return plan;
}

/** "its on_rollback hook", "its on_stage hook (for on_rollback, which the plan has not)": the hook a recovery runs. */
function rollbackHookOf(plan: Plan): string {
  const chosen = endingHook(plan.hooks, 'rollback');
  return chosen ? `its ${chosen.label}` : 'no on_rollback or on_stage hook';
}

/** Why plan is not the dead rollout's (another name or other models), or undefined when it is. */
function otherPlan(plan: Plan, snapshot: RolloutSnapshot): string | undefined {
  const other = otherPlanThan(plan, { name: snapshot.plan.name, models: [snapshot.plan.blueModel, snapshot.plan.greenModel] }, 'that died');
  return other === undefined ? undefined : `${other}, so none is run and the rollout stays unfinished`;
}

/**
 * Why plan is not the rollout `dead` names (another name or other models; models unknown: the name alone), or
 * undefined when it is: "is plan "b" (x -> y), not the plan of the rollout WHICH, "a" (x -> z): its hooks would
 * move another plan's traffic".
 */
export function otherPlanThan(plan: Plan, dead: { name: string; models?: readonly [string, string] }, which: string): string | undefined {
  const { blue, green } = plan.arms;
  const sameModels = dead.models === undefined || (blue.model === dead.models[0] && green.model === dead.models[1]);
  if (plan.name === dead.name && sameModels) return undefined;
  const theirs = dead.models === undefined ? '' : ` (${dead.models[0]} -> ${dead.models[1]})`;
  return `is plan "${plan.name}" (${blue.model} -> ${green.model}), not the plan of the rollout ${which}, "${dead.name}"${theirs}: its hooks would move another plan's traffic`;
}
