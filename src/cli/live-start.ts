// What the proxies' routes allow before a live rollout moves anything, for the real run and --dry-run alike. Loaded
// only for a live plan (one with proxy.admin), so a rollout without proxies never loads the live modules or undici.
import type { RolloutSnapshot } from '../engine/types.js';
import { liveTargets, type LiveControl } from '../live/controller.js';
import {
  alreadyPromotedReason,
  describePromoted,
  dryRunRoutesText,
  partlyPromotedMessage,
  promotedSinceMessage,
  promotedStanding,
  type ProxyRoute,
} from '../live/promoted.js';
import { liveResumeOf, type LiveResume } from '../live/resume-record.js';
import { readRoutesOnce, servedPlan } from '../live/routes.js';
import type { Plan } from '../plan/plan.js';
import { CliError, EXIT } from '../core/exit.js';
import { formatWeight } from '../core/format.js';
import type { CliContext } from './context.js';

/** How the rollout was asked to start: `--resume` (of the dead run whose proxies' results it carries), `--from-blue`. */
export interface LiveStart {
  resume: boolean;
  fromBlue: boolean;
  ctx: CliContext;
  /**
   * Where a warning goes (--from-blue's): the rollout journals it once started, so the dashboard, drawn over the
   * terminal, still shows it (on stderr it scrolled away at 80x24). Unset (--dry-run): stderr.
   */
  warn?: (message: string) => void;
}

/**
 * Why the live rollout ends at once (green already promoted everywhere), or undefined to go on; throws where it
 * must not start.
 */
export function liveStartCheck(plan: Plan, live: LiveControl, start: LiveStart, liveResume: LiveResume | undefined): string | undefined {
  // Nor a resumed rollout undo a promotion made since it died (another rollout's, which said exit 0).
  const promotedSince = start.resume ? promotedSinceMessage(plan, live.routes, liveResume?.controllers ?? []) : undefined;
  if (promotedSince !== undefined) throw new CliError(promotedSince, EXIT.preflight);
  // A re-run after a promotion must not move users back to blue unasked (a resumed rollout never promoted).
  const promoted = !start.resume ? promotedEverywhere(plan, live.routes, start) : undefined;
  return promoted && alreadyPromotedReason(plan, promoted);
}

/**
 * The dry run's line on the proxies' routes, read as the real run reads them (read only: no lease, no route set,
 * nothing written); throws where the real run would stop (a proxy not answering, green promoted on some only).
 * `dead`: the state folder's dead rollout, whose own leases its recovery releases before the real run reads the
 * routes; `resumed` when the dry run is of its --resume.
 */
export async function dryRunRoutes(plan: Plan, stateDir: string, start: LiveStart, dead: RolloutSnapshot | undefined): Promise<string> {
  const { urls, token } = liveTargets(plan, stateDir, start.ctx.env);
  const ownRuns = dead ? (liveResumeOf(dead)?.controllers ?? []) : [];
  const routes = await readRoutesOnce(urls, token, servedPlan(plan), ownRuns);
  const promotedSince = start.resume && promotedSinceMessage(plan, routes, ownRuns);
  if (promotedSince) throw new CliError(promotedSince, EXIT.preflight);
  // A resumed rollout never promoted: like the real run, it does not ask whether green already is.
  if (start.resume) return dryRunRoutesText(plan, routes, undefined, dead ? dead.stageIndex + 1 : undefined);
  return dryRunRoutesText(plan, routes, promotedEverywhere(plan, routes, start));
}

/** What --from-blue undoes, in words: the promotion, and the split stage 1 starts again from. */
function fromBlueWarning(plan: Plan, promoted: readonly ProxyRoute[]): string {
  const { blue, green } = plan.arms;
  const first = plan.stages[0]?.green_weight ?? 0;
  const mirror = plan.stages[0]?.mirror ?? 0;
  const split =
    first > 0
      ? `blue (${blue.model}) with ${formatWeight(first)} of requests to green`
      : `blue (${blue.model}) answers every request${mirror > 0 ? `, ${formatWeight(mirror)} copied to green unseen` : ''}`;
  // What it does first: the dashboard's journal cuts a line at the terminal's width.
  return `--from-blue undoes ${green.model}'s promotion on ${promoted.map(describePromoted).join(', ')} and starts again at stage 1: ${split}`;
}

/**
 * What the proxies' routes say before anything moves: green already promoted everywhere ends the rollout at once
 * (those proxies are returned); promoted on some proxies only is refused (exit 3); --from-blue goes on, saying
 * what it undoes.
 */
function promotedEverywhere(plan: Plan, routes: ProxyRoute[], start: LiveStart): ProxyRoute[] | undefined {
  const standing = promotedStanding(plan, routes);
  if (standing.kind === 'not_promoted') return undefined;
  const promoted = standing.kind === 'promoted' ? standing.proxies : standing.promoted;
  if (start.fromBlue) {
    const warn = start.warn ?? ((message: string) => void start.ctx.stderr.write(`bluegreen: warning: ${message}\n`));
    warn(fromBlueWarning(plan, promoted));
    return undefined;
  }
  if (standing.kind === 'partly') throw new CliError(partlyPromotedMessage(plan, standing), EXIT.preflight);
  return standing.proxies;
}
