// Before a live rollout moves any proxy: is this plan's green already promoted there? A re-run (a CI job run
// again) on a promoted proxy would otherwise move users back to blue through the first stages. Pure: the
// routes come from the proxies' admin API (GET /admin/route), read at the rollout's preflight.
import { BY_HAND, describeSplit, routeOwner, type Route } from '../proxy/route.js';
import type { Plan } from '../plan/plan.js';
import { formatWeight } from '../core/format.js';

export interface ProxyRoute {
  url: string;
  route: Route;
}

export type PromotedStanding =
  /** No proxy serves this plan's green as promoted: the rollout runs from its first stage. */
  | { kind: 'not_promoted' }
  /** Every proxy serves this plan's green as promoted: nothing to do. */
  | { kind: 'promoted'; proxies: ProxyRoute[] }
  /** Some do and some do not (one missed the promotion's route): a rollout would move the promoted ones back. */
  | { kind: 'partly'; promoted: ProxyRoute[]; others: ProxyRoute[] };

/**
 * Whether a proxy's route is a promotion of this plan's green. A route records routeOwner() of the proxy's plan:
 * a promotion recorded for another plan or other models is not this one (its green is another model).
 */
export function promotesThisGreen(plan: Plan, route: Route): boolean {
  return route.promotedArm === 'green' && route.rollout === routeOwner(plan.name, plan.arms.blue.model, plan.arms.green.model);
}

export function promotedStanding(plan: Plan, routes: readonly ProxyRoute[]): PromotedStanding {
  const promoted = routes.filter((entry) => promotesThisGreen(plan, entry.route));
  if (promoted.length === 0) return { kind: 'not_promoted' };
  if (promoted.length === routes.length) return { kind: 'promoted', proxies: promoted };
  return { kind: 'partly', promoted, others: routes.filter((entry) => !promotesThisGreen(plan, entry.route)) };
}

/**
 * "proxy http://127.0.0.1:8788 since 2026-12-01T23:00:00.000Z": where and since when green is promoted. A promotion
 * with no run id (an operator's PUT /admin/route, or an old rollout's) is said to be one: a re-run ends exit 0 on it,
 * and its CI job's log must not read as if a rollout of this bluegreen had judged that green.
 */
export function describePromoted(entry: ProxyRoute): string {
  const byHand = entry.route.controller === undefined ? ` (${BY_HAND}: no run id names a rollout that judged it)` : '';
  return `proxy ${entry.url} since ${new Date(entry.route.updatedAt).toISOString()}${byHand}`;
}

/** The ending's reason for a re-run that finds green promoted everywhere: nothing moves. */
export function alreadyPromotedReason(plan: Plan, proxies: readonly ProxyRoute[]): string {
  return `${plan.arms.green.model} was already promoted on ${proxies.map(describePromoted).join(', ')}; nothing moved (pass --from-blue to roll out again from blue)`;
}

/** Why a rollout refuses to start on proxies of which only some serve this plan's green as promoted. */
export function partlyPromotedMessage(plan: Plan, standing: Extract<PromotedStanding, { kind: 'partly' }>): string {
  const others = standing.others.map((entry) => `proxy ${entry.url} (${describeSplit(entry.route)})`);
  return (
    `${plan.arms.green.model} is promoted on ${standing.promoted.map(describePromoted).join(', ')} but not on ${others.join(', ')}: ` +
    'a rollout would move the promoted proxies back to blue; nothing was moved. Pass --from-blue to roll out again from blue on every proxy'
  );
}

/**
 * `rollout --resume`: why it may not go on, when green was promoted on some proxy since the rollout died, by another
 * rollout (its CI job read exit 0) or by hand: the resumed stage would move those users back to its split. A
 * promotion by one of this rollout's own runs (`ownRuns`) cannot be there: a rollout that died promoting is not resumed.
 */
export function promotedSinceMessage(plan: Plan, routes: readonly ProxyRoute[], ownRuns: readonly string[]): string | undefined {
  const since = routes.filter((entry) => promotesThisGreen(plan, entry.route) && !ownRuns.includes(entry.route.controller ?? ''));
  if (since.length === 0) return undefined;
  const where = since.map((entry) => `${describePromoted(entry)}${entry.route.by ? ` (by ${entry.route.by})` : ''}`).join(', ');
  return (
    `--resume: ${plan.arms.green.model} was promoted on ${where} after this rollout died: resuming would move its users back to the stage's split; nothing was moved. ` +
    'Leave the promotion standing, or run bluegreen rollback --force-blue (it puts every proxy of the plan on blue, those included) and roll out again'
  );
}

/**
 * `rollout --dry-run`'s line about the proxies' routes: what a real run started now would do with them. `resumeStage`
 * (1-based): the stage a `--resume` goes on from, which the line names rather than stage 1.
 */
export function dryRunRoutesText(plan: Plan, routes: readonly ProxyRoute[], promoted: readonly ProxyRoute[] | undefined, resumeStage?: number): string {
  const green = plan.arms.green.model;
  if (promoted)
    return `proxies: ${green} is already promoted on ${promoted.map(describePromoted).join(', ')}: a real run would move nothing (no stage, no hook) and end promoted at once, exit 0 (--from-blue rolls out again from stage 1)`;
  const answered = `${routes.length} ${routes.length === 1 ? 'proxy answered' : 'proxies answered'}`;
  const start = resumeStage === undefined ? 'starts at stage 1' : `goes on from stage ${resumeStage}`;
  return `proxies: ${answered} (${routes.map((entry) => `${entry.url} green ${formatWeight(entry.route.greenWeight)}`).join(', ')}); a real run ${start}`;
}
