// `bluegreen rollout PLAN`: move traffic to green stage by stage, roll back on its own if green goes bad.
import { randomInt } from 'node:crypto';
import type { RolloutSnapshot } from '../../engine/types.js';
import type { LiveView } from '../../live/fleet.js';
import { loadPlan } from '../../plan/load.js';
import type { Plan } from '../../plan/plan.js';
import { summarisePlan } from '../../plan/summary.js';
// The report's parts, not its index: that re-exports the report's zod schema, which a rollout does not use.
import { buildReport } from '../../report/outcome/build-report.js';
import { renderSchedule } from '../../report/outcome/dry-run.js';
import { checkReportTargets, writeReports } from '../../report/outcome/write.js';
import { ReportWriteError } from '../../report/outcome/write-errors.js';
import os from 'node:os';
import { describeOwner, isOwnerAlive, orphanDied, readLock, rolloutStanding, stateDir, StateStore } from '../../state/index.js';
import { terminalColumns, type CliContext } from '../context.js';
import { fittedText } from '../../report/wrap.js';
import { EXIT, UsageError } from '../../core/exit.js';
import { MAX_SEED, parseIntegerOption } from '../options.js';
import type { RolloutFlags } from '../definitions/rollout.js';
import { isCi, reporterFor } from '../reporters.js';
import { runRollout } from '../run-rollout.js';
import { holdSignalsAfterEnd } from '../stop-signals.js';
import { lostRecordFor, resumable, unconfirmedEndingText } from '../previous-run.js';
import { endingHook, endingHookNames } from '../../hooks/ending-hook.js';
import { blueUnconfirmed } from '../../engine/endings.js';
import { planFor } from '../dead-run-plan.js';
import { hookNotNeeded, recoveryEvent } from '../recover.js';
import { sendsNothingUpstream } from '../../live/upstream-free.js';
import { protectPlanSecrets } from '../secrets.js';
import { checkBeforeTraffic, placedInPlan, rolloutStartWarnings } from '../plan-checks.js';
import { VERSION } from '../version.js';

/** Runs `bluegreen rollout PLAN` (its command line: definitions/rollout.ts); sets ctx.exitCode. */
export async function rollout(file: string, flags: RolloutFlags, ctx: CliContext): Promise<void> {
  // Options first: a bad one is refused before the plan is read, --dry-run included.
  const seed = parseSeed(flags.seed);
  if (flags.fromBlue && flags.resume)
    throw new UsageError(
      "--from-blue and --resume ask for opposite starts: --resume goes on from the dead rollout's saved stage, --from-blue starts again at stage 1 on proxies that promoted green; give one",
    );
  const plan = loadPlan(file, ctx.cwd);
  // Only a live rollout's proxies can already serve green as promoted: elsewhere the flag would do nothing, in silence.
  if (flags.fromBlue && !plan.proxy?.admin)
    throw new UsageError(
      `--from-blue is for a live plan (one with proxy.admin) whose proxies already serve green as promoted; ${file} has no proxy.admin, so its rollouts always start from blue at stage 1: leave the flag out`,
    );
  protectPlanSecrets(ctx, plan);
  const targets = { jsonFile: flags.reportJson, junitFile: flags.junit, stepSummary: ctx.env.GITHUB_STEP_SUMMARY, cwd: ctx.cwd };
  const dir = stateDir(flags.stateDir, ctx.env, ctx.cwd);
  const problems = checkReportTargets(targets, { plan: plan.source.file, stateDir: dir, inputs: planInputs(plan) });
  // Refused before any traffic: a rollout whose report cannot be written would gate nothing. --dry-run
  // refuses them too, so a CI job's dry run finds what its real run would stop on.
  if (problems.length) throw new UsageError(problems.join('\n'));
  const pause = ciPauseWarning(plan, ctx, flags);
  if (flags.dryRun) {
    if (pause) ctx.stderr.write(`bluegreen: warning: ${pause}\n`);
    await dryRun(plan, ctx, dir, { fromBlue: flags.fromBlue ?? false, resume: flags.resume ?? false });
    return;
  }
  // A --resume the folder refuses is the operator's problem: said first and alone, not after the plan's warnings.
  // (The real run checks again under the folder's lock.)
  if (flags.resume) {
    const store = new StateStore(dir);
    resumable(store, plan, rolloutStanding(store));
  }
  // The warnings validate and --dry-run give (skipped sampled lines are reported once the traffic reads them),
  // journaled with the start's own (runRollout).
  const warnings = [...(await rolloutStartWarnings(plan)), ...(pause ? [pause] : [])];
  let final: RolloutSnapshot | undefined;
  let live: LiveView | undefined;
  const chooseReporter = await reporterFor(ctx, flags, dir);
  let afterEnd: ((exit?: () => void) => Promise<void>) | undefined;
  try {
    // The traffic stops the run on an unusable sampled file (validate and --dry-run read it whole first): said as they say it.
    const code = await runRollout({
      plan,
      stateDir: dir,
      seed,
      ctx,
      resume: flags.resume,
      fromBlue: flags.fromBlue,
      warnings,
      attachReporter: (engine, hooks) => {
        const inner = chooseReporter(engine, hooks);
        return {
          finish: async (outcome, snapshot) => {
            final = snapshot;
            live = engine.live?.();
            // From the end on, a signal changes nothing: the state says how it ended, and so does the exit code.
            const ended = `${outcome.phase.replace('_', ' ')}, exit ${outcome.exitCode}`;
            afterEnd = holdSignalsAfterEnd(ctx.signals ?? process, ended, (message) => ctx.stderr.write(`bluegreen: ${message}\n`));
            await inner.finish(outcome, snapshot);
          },
        };
      },
    }).catch((error: unknown) => {
      throw placedInPlan(plan, error);
    });
    ctx.exitCode = code;
    if (final) writeOutcomeReports({ plan, snapshot: final, live }, targets, ctx, code);
  } finally {
    // Kept while bin/bluegreen.js flushes stdout and stderr before it exits: a signal there was the default's, 143.
    const exitsAfterMain = ctx.exitsAfterMain;
    await afterEnd?.(exitsAfterMain && (() => exitsAfterMain(ctx.exitCode)));
  }
}

/**
 * In CI nobody answers a pause: a stage left undecided would hold the job to its timeout, then roll back on the
 * runner's SIGTERM (newuser32). Said by the dry run too, a CI job's cheap check.
 */
function ciPauseWarning(plan: Plan, ctx: CliContext, flags: RolloutFlags): string | undefined {
  if (plan.analysis.on_inconclusive !== 'pause' || !isCi(ctx, flags)) return undefined;
  return `analysis.on_inconclusive: pause holds a stage left undecided until someone runs bluegreen resume, promote or abort (with this --state-dir); in CI nobody may, and the job waits to its timeout, then rolls back (exit 143 or 130): use pass or extend in a CI gate`;
}

/**
 * The checks the real run makes before traffic, and its schedule. A live plan's proxies are asked for their routes
 * as the real run asks (read only: no lease, no route set, nothing written), so the dry run says when a real run
 * would move nothing (green already promoted) and stops where it would (a proxy not answering, some promoted).
 * Like the real run, a live plan that sends nothing upstream itself needs no upstream key and checks no upstream.
 */
async function dryRun(plan: Plan, ctx: CliContext, stateDir: string, start: { fromBlue: boolean; resume: boolean }): Promise<void> {
  // --resume is checked first, as the real run settles the folder before its preflight: the same refusals, read only.
  const store = new StateStore(stateDir);
  const standing = rolloutStanding(store);
  const resumed = start.resume ? resumable(store, plan, standing) : undefined;
  // A rollout that lost its state.json: the real run recovers it first with this plan, or refuses another plan's (exit 5).
  const lost = !resumed && standing.kind === 'none' ? lostRecordFor(store, plan) : undefined;
  // One that ended but whose move back to blue failed: the real run makes that move again first.
  const unconfirmed =
    !resumed && standing.kind === 'finished' && blueUnconfirmed(standing.snapshot.phase, standing.snapshot.reason) ? standing.snapshot : undefined;
  const deadRun = standing.kind === 'orphaned' ? standing.snapshot : (lost?.snapshot ?? unconfirmed);
  const warnings = await checkBeforeTraffic(plan);
  const running = runningNowText(stateDir, standing);
  if (running) warnings.push(running);
  if (!sendsNothingUpstream(plan)) {
    // The upstream client loads only for a plan whose rollout sends to an upstream itself.
    const { runPreflight } = await import('../preflight.js');
    warnings.push(...(await runPreflight(plan, ctx)).warnings);
  }
  for (const warning of warnings) ctx.stderr.write(`bluegreen: warning: ${warning}\n`);
  // What the real run's recovery of a dead rollout would do comes first, as the real run does it first: said even when
  // the routes' check below stops the dry run.
  const said = lost?.text ?? (unconfirmed && unconfirmedEndingText(unconfirmed));
  const restoreLines = !resumed && deadRun ? await restoreText(deadRun, plan, stateDir, ctx, { said, ended: unconfirmed !== undefined }) : [];
  let routesText: string | undefined;
  // In a terminal, long lines break between words at its width (as validate's and status's); piped, whole.
  const columns = terminalColumns(ctx.stdout);
  if (plan.proxy?.admin) {
    try {
      const { dryRunRoutes } = await import('../live-start.js');
      // The dead run's own leases are released by that recovery before the real run's preflight reads the routes.
      const dead = resumed ?? deadRun;
      routesText = await dryRunRoutes(plan, stateDir, { ...start, ctx }, dead);
    } catch (error) {
      ctx.stdout.write(fittedText(restoreLines.map((line) => `  ${line}\n`).join(''), columns));
      throw error;
    }
  }
  let text = renderSchedule(summarisePlan(plan), plan);
  if (routesText) text += `  ${routesText}\n`;
  if (resumed) text += `  ${resumeText(plan, resumed)}\n`;
  for (const line of restoreLines) text += `  ${line}\n`;
  ctx.stdout.write(fittedText(text, columns));
  ctx.exitCode = EXIT.promoted;
}

/**
 * A rollout running in the folder now refuses the real run (exit 2, the folder's lock): a dry run says so rather than
 * exit 0 in silence, but goes on, as that rollout may have ended by the time the real run starts.
 */
function runningNowText(dir: string, standing: ReturnType<typeof rolloutStanding>): string | undefined {
  const lock = readLock(dir);
  const owner =
    lock && isOwnerAlive(lock, os.hostname()) ? describeOwner(lock, Date.now()) : standing.kind === 'running' ? `pid ${standing.ownerPid}` : undefined;
  if (owner === undefined) return undefined;
  return `a rollout runs in ${dir} now (${owner}): a real run there is refused (exit 2) until it ends`;
}

/**
 * What a real run does first on a folder whose rollout died: put that one's traffic back on blue (run-rollout.ts),
 * with the plan it would use (the dead run's), and what it would do with each of that plan's proxies (read only).
 */
async function restoreText(
  dead: RolloutSnapshot,
  plan: Plan,
  stateDir: string,
  ctx: CliContext,
  options: { said: string | undefined; ended: boolean },
): Promise<string[]> {
  const said = options.said ?? orphanDied(dead, stateDir);
  const first = `first: ${said}; a real run would put its traffic back on blue (as bluegreen rollback does)`;
  const deadPlan = planFor({ snapshot: dead, ctx, fallbackPlan: plan }, (message) => ctx.stderr.write(`bluegreen: warning: ${message}\n`));
  const event = recoveryEvent(dead, options.ended);
  const hook = endingHook(deadPlan.hooks, event);
  const none = `no ${endingHookNames(event)} hook to run`;
  if (!deadPlan.proxy?.admin) return [`${first}: ${hook ? `its ${hook.label} run` : none}, before its own first stage`];
  const { deadRunRecord, recoveryPreview } = await import('../../live/restore.js');
  const preview = await recoveryPreview(deadPlan, stateDir, ctx.env, deadRunRecord(dead, stateDir));
  const skipped = hookNotNeeded(deadPlan, preview.everyProxyLeft, event);
  const hookText = skipped ?? (hook ? `then its ${hook.label} run` : none);
  return [`${first}, before its own first stage: each proxy as below; ${hookText}`, ...preview.lines.map((line) => `  ${line}`)];
}

/** What a real run with --resume would do with the dead rollout it takes over. */
function resumeText(plan: Plan, dead: RolloutSnapshot): string {
  const hook = plan.hooks?.on_stage ? '; its on_stage hook runs again' : '';
  return `--resume: would go on from stage ${dead.stageIndex + 1}/${plan.stages.length} of the rollout of plan "${plan.name}" (pid ${dead.pid} died), its figures so far kept${hook}`;
}

function writeOutcomeReports(
  outcome: { plan: Plan; snapshot: RolloutSnapshot; live?: LiveView },
  targets: { jsonFile?: string; junitFile?: string; cwd: string },
  ctx: CliContext,
  code: number,
): void {
  try {
    // Called even without flags: the GitHub step summary and annotation are automatic there.
    writeReports({ report: buildReport({ ...outcome, version: VERSION }), ...targets, env: ctx.env, stdout: ctx.stdout, redactor: ctx.redactor });
  } catch (error) {
    if (!(error instanceof ReportWriteError)) throw error;
    ctx.stderr.write(`bluegreen: ${error.message}\n`);
    // Never hide a rollback behind a report error; only a promotion turns into a failure.
    if (code === EXIT.promoted) ctx.exitCode = EXIT.usage;
  }
}

function parseSeed(text: string | undefined): number {
  return text === undefined ? randomInt(0, 2 ** 31) : parseIntegerOption(text, '--seed', 0, MAX_SEED);
}

/** The files a plan reads traffic from, which a report must not be written over. */
function planInputs(plan: Plan): { file: string; what: string }[] {
  const { synthetic, sampled } = plan.traffic;
  return [
    ...(typeof synthetic?.prompts === 'string' ? [{ file: synthetic.prompts, what: "the plan's prompts file (traffic.synthetic.prompts)" }] : []),
    ...(sampled ? [{ file: sampled.file, what: "the plan's sampled traffic (traffic.sampled.file)" }] : []),
  ];
}
