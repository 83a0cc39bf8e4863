// What a hook record says, in words: the hook a rollout was running when it died and where that may have left green
// (status, the orphan message, a recovery), and which recovery ran one.
import { formatWeight } from '../core/format.js';
import type { HookInFlight } from './hook-record.js';

/** "a bluegreen rollback (pid 4242)", "a recovery (pid 4242)" for records that do not say which command. */
export function describeRecovery(hook: { pid: number; command?: string }): string {
  return `${hook.command === undefined ? 'a recovery' : `a ${hook.command}`} (pid ${hook.pid})`;
}

/**
 * "on_stage hook setting stage 2's 50% green", "rollback hook putting traffic back on blue"; for the proxies "move of
 * the proxies to stage 2's 50% green", "promotion of the proxies".
 */
export function describeHookInFlight(hook: HookInFlight): string {
  if (hook.by === 'proxies') {
    if (hook.event === 'stage') return `move of the proxies to stage ${hook.stage}'s ${formatWeight(hook.greenWeight)} green`;
    return hook.event === 'promote' ? 'promotion of the proxies' : 'move of the proxies back to blue';
  }
  if (hook.event === 'stage') return `on_stage hook setting stage ${hook.stage}'s ${formatWeight(hook.greenWeight)} green`;
  const which = hook.hook === undefined ? `${hook.event} hook` : `${hook.hook} hook (for on_${hook.event}, which the plan has not)`;
  return `${which} ${hook.event === 'promote' ? 'moving all traffic to green' : 'putting traffic back on blue'}`;
}

/**
 * Where green may be after the rollout died during a hook: "10% or 50% (its on_stage hook setting stage 2's 50%
 * green was running when it died, and still runs)"; "10%" without one. An ending's hook (a rollback, an abort)
 * had not put traffic back yet: state.json already says 0, the stage's weight may still be in force ("0% or still
 * 50% (its rollback hook putting traffic back on blue was running when it died …)"); a promotion may have
 * completed ("50% or 100% (its promotion of the proxies was under way …)").
 */
export function greenAfterDeath(
  snapshot: { greenWeight: number; stageIndex: number; plan: { stages: readonly { greenWeight: number }[] } },
  hook: HookInFlight | undefined,
): string {
  const { greenWeight } = snapshot;
  const saved = formatWeight(greenWeight);
  if (!hook) return saved;
  const stageWeight = snapshot.plan.stages[snapshot.stageIndex]?.greenWeight ?? 0;
  const toBlue = (hook.event === 'rollback' || hook.event === 'abort') && stageWeight > greenWeight;
  const either =
    hook.event === 'stage' && hook.greenWeight !== greenWeight
      ? ` or ${formatWeight(hook.greenWeight)}`
      : toBlue
        ? ` or still ${formatWeight(stageWeight)}`
        : hook.event === 'promote' && greenWeight < 1
          ? ' or 100%'
          : '';
  const since = hook.running === true ? ', and still runs' : hook.running === false ? ', and has ended since' : '';
  return `${saved}${either} (its ${describeHookInFlight(hook)} was ${hook.by === 'proxies' ? 'under way' : 'running'} when it died${since})`;
}
