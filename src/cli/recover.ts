// Putting a dead rollout's traffic back on blue: its plan's on_rollback hook, with the stage it died in and
// green at 0, journaled; then the state is marked rolled back. The same moves for an ended rollout whose ending's
// move to blue failed (`ended`), its outcome kept. Used by `bluegreen rollback` and by a new
// `rollout` that finds an orphaned state folder. The caller holds the state folder's lock.
import { FINAL_PHASES, type RolloutEvent, type RolloutSnapshot } from '../engine/types.js';
import { endingStarted, phaseWhenDied } from '../report/ending-text.js';
import { runHook, type HookOutcome } from '../hooks/index.js';
import { endingHook, endingHookNames, type EndingEventName } from '../hooks/ending-hook.js';
import type { Plan } from '../plan/plan.js';
import { markConfirmed, markRecovered, type StateStore } from '../state/index.js';
import { blueMoveFailure, confirmedReason, endedText } from '../engine/endings.js';
import { UsageError } from '../core/exit.js';
import { describeFsError } from '../core/errors.js';
import { clearHookRecord, hookRecorder, readHookInFlight, stopOrphanHook } from '../state/hook-record.js';
import { greenAfterDeath } from '../state/hook-words.js';
import { protectPlanSecrets } from './secrets.js';
import type { RouteReads, ToBlue } from '../live/restore.js';
import { refuseWithoutToken } from '../live/admin-token.js';
import { operatorName } from './operator.js';
import { planFor, type PlanForOptions } from './dead-run-plan.js';
import { thisProcess } from '../core/proc-stat.js';

/** The dead rollout (snapshot), and where its plan is (planFile, fallbackPlan): dead-run-plan.ts. */
export interface RestoreOptions extends PlanForOptions {
  store: StateStore;
  /** The command doing it, recorded with its hook: "bluegreen rollback" (the default), or "bluegreen rollout" on an orphaned folder. */
  command?: 'bluegreen rollback' | 'bluegreen rollout';
  /** Who is doing it, for the journal; default "alice@host (COMMAND)". */
  actor?: string;
  /**
   * Told once the recovery goes ahead: its plan loaded and, for a live rollout, the proxies' admin token set (without
   * it nothing is done: a UsageError). `bluegreen rollback` says it rolls back here, not before such a refusal.
   */
  starting?: () => void;
  /** `bluegreen rollback --force-blue`: every proxy to blue by hand, whoever set its route. */
  forceBlue?: boolean;
  /**
   * The rollout did not die: it ended, but its ending's move to blue failed (endings.ts blueUnconfirmed). The same
   * moves are tried again; once they worked its reason says so (markConfirmed), its outcome (phase, exit code) kept.
   */
  ended?: boolean;
  now?: () => number;
  /** Where its warnings go: a new rollout's start warnings (journaled once it starts); default stderr. */
  warn?: (message: string) => void;
}

export interface RestoreResult {
  ok: boolean;
  message: string;
  /** Proxies left as they are (another rollout run's route, or one set by hand): what each serves, and whose it is. */
  left?: string[];
}

export async function restoreBlue(options: RestoreOptions): Promise<RestoreResult> {
  const { store, snapshot, ctx } = options;
  const command = options.command ?? 'bluegreen rollback';
  const actor = options.actor ?? `${operatorName(ctx.env)} (${command})`;
  const now = options.now ?? Date.now;
  const warn = options.warn ?? ((message: string) => void ctx.stderr.write(`bluegreen: warning: ${message}\n`));
  const journal = new RecoveryJournal(store);
  // Green may be at the weight the hook was setting. Its record stays until the recovery has finished.
  const inFlight = readHookInFlight(store.dir, snapshot);
  const plan = planFor(options, warn);
  // Refused without the admin token, or with one a proxy refuses, before anything is done: the dead run's hook
  // still runs, nothing is journaled.
  refuseWithoutToken(plan, ctx.env);
  // What the proxies answered is what they are then told from: one round of reads (a silent proxy's timeout once).
  const reads = plan.proxy?.admin ? await refuseRefusedToken(plan, options) : undefined;
  await stopDeadRunHook(journal, snapshot, { actor, warn, now });
  options.starting?.();
  const secrets = protectPlanSecrets(ctx, plan);
  const green = greenAfterDeath(snapshot, inFlight && { ...inFlight, running: undefined });
  // pid 0: a record rebuilt from its journal alone (journal-recovery.ts), whose lock did not name it.
  const reason = options.ended
    ? `the rollout ended (${endedText(snapshot)}), but its move back to blue had failed (${blueMoveFailure(snapshot.reason ?? '')})`
    : `the rollout's process${snapshot.pid > 0 ? ` (pid ${snapshot.pid})` : ''} died at stage ${snapshot.stageIndex + 1}/${snapshot.plan.stages.length} with green at ${green}${endingOf(snapshot, store.readEvents())}`;
  // What a failure leaves: a dead run unfinished (run it again), an ended one's record saying to check by hand.
  const unfinished = options.ended ? 'its record still says to check by hand that traffic is on blue' : 'the rollout is still marked unfinished';
  // A live rollout's proxies first: told at once instead of waiting for their leases.
  // Only its own routes: another run's (its stage, its promotion), or one set by hand, are left as they are (restore.ts).
  const toBlue: ToBlue & { refused?: string } = plan.proxy?.admin ? await liveToBlue(plan, options, reason, reads) : { proxies: [] };
  const { proxies } = toBlue;
  if (toBlue.note !== undefined) warn(toBlue.note);
  // The recovery's lines carry no weight: `status` (and the next recovery) read the journal's latest weight as the
  // rollout's, and until the recovery marks it rolled back, green may still be where the dead run left it (a
  // failed hook, a promoted proxy not answering).
  for (const proxy of proxies) {
    const type = proxy.told || proxy.left === true || proxy.alreadyBlue === true ? 'hook_succeeded' : 'hook_failed';
    journal.appendEvent({ at: now(), type, stage: snapshot.stageIndex, actor, message: proxy.message });
  }
  if (toBlue.refused !== undefined) throw new UsageError(toBlue.refused);
  const event = recoveryEvent(snapshot, options.ended === true);
  const skipped = hookNotNeeded(plan, proxies.length > 0 && proxies.every((proxy) => proxy.left === true), event);
  if (skipped !== undefined) journal.appendEvent({ at: now(), type: 'warning', stage: snapshot.stageIndex, actor, message: skipped });
  const chosen = skipped === undefined ? endingHook(plan.hooks, event) : undefined;
  if (chosen) {
    const outcome = await runRollbackHook(chosen, { journal, snapshot, plan, secrets, env: ctx.env, command, actor, reason, now, event });
    if (!outcome.ok) return { ok: false, message: `${chosen.name} failed (${outcome.message}); traffic may not be on blue, and ${unfinished}` };
  } else if (proxies.length === 0 && skipped === undefined && options.ended) {
    // Nothing to try the move again with (the plan lost the hook since): running again would never help, so not the
    // "run it again" exit 5. Saying it worked would be the claim its ending could not make.
    throw new UsageError(
      `${reason}, and plan "${plan.name}" (${plan.source.file}) has no ${endingHookNames(event)} hook and no proxies now: bluegreen has nothing to move your traffic with, and ${unfinished}. ` +
        `Check by hand that traffic is on blue, or put that hook back in the plan (or pass the plan that has it with --plan FILE) and run bluegreen rollback again`,
    );
  } else if (proxies.length === 0 && skipped === undefined) {
    warn(`plan "${plan.name}" has no on_rollback or on_stage hook: bluegreen cannot move your traffic; make sure it is on blue`);
  }
  // A proxy that may hold a promotion (no lease) is not left behind a record saying "rolled back": run it again.
  const stuck = proxies.filter((proxy) => !proxy.ok);
  if (stuck.length > 0) return { ok: false, message: `${stuck.map((proxy) => proxy.message).join('; ')}; ${unfinished}` };
  // A proxy another rollout took since is not this rollout's traffic, and not on blue: the line does not say it is.
  const left = proxies.filter((proxy) => proxy.left === true).map((proxy) => proxy.message);
  const blue = left.length > 0 ? "this rollout's traffic is back on blue" : 'traffic is back on blue';
  const moved = `${left.length > 0 ? "this rollout's traffic" : 'traffic'} put back on blue by ${actor}`;
  if (journal.unrecorded === undefined)
    journal.attempt(() =>
      options.ended
        ? markConfirmed(store, snapshot, { now: now(), actor, reason: confirmedReason(snapshot.reason ?? '', moved) })
        : markRecovered(store, snapshot, { now: now(), actor, command, reason: `${reason}; rolled back to blue by ${actor}` }),
    );
  const told = proxies.length > 0 ? `; ${proxies.map((proxy) => proxy.message).join('; ')}` : '';
  const unrecorded = journal.unrecorded;
  if (unrecorded !== undefined) {
    const done = chosen ? `${chosen.name} ran; ${blue}` : proxies.length > 0 ? blue : 'nothing was moved (no on_rollback or on_stage hook to run)';
    return {
      ok: false,
      message: `${done}${told}; but this could not be recorded (${unrecorded}): ${unfinished}; make ${store.dir} writable and run bluegreen rollback again`,
    };
  }
  // Only now: a recovery that failed (or was killed) leaves status saying what the rollout was doing when it died.
  clearHookRecord(store.dir);
  return {
    ok: true,
    ...(left.length > 0 && { left }),
    message: `${chosen ? `${chosen.name} ran; ${blue}` : options.ended ? (skipped ?? blue) : skipped !== undefined ? `marked rolled back; ${skipped}` : proxies.length > 0 ? 'marked rolled back' : 'marked rolled back (no on_rollback or on_stage hook to run)'}${told}`,
  };
}

/** Where a recovery journals: the state folder's journal (and its state.json, marked recovered at the end). */
type Journal = Pick<StateStore, 'dir' | 'appendEvent'>;

/**
 * The recovery's journal. A line it cannot write (a read-only or full state folder) is not thrown: traffic goes
 * back on blue all the same, and the recovery then ends unfinished, saying why (`unrecorded`), instead of leaving
 * green on with the record intact.
 */
export class RecoveryJournal implements Journal {
  readonly dir: string;
  /** Why the first write failed, or undefined. */
  unrecorded?: string;

  constructor(private readonly store: StateStore) {
    this.dir = store.dir;
  }

  appendEvent(event: RolloutEvent): void {
    this.attempt(() => this.store.appendEvent(event));
  }

  attempt(write: () => void): void {
    try {
      write();
    } catch (error) {
      this.unrecorded ??= describeFsError(error, this.store.eventsPath);
    }
  }
}

/**
 * A live plan's proxies told to serve blue (restore.ts), and why not if they refused the admin token. The live
 * modules (and undici) load here, so a recovery or rollout of a plan without proxies never loads them.
 */
async function liveToBlue(plan: Plan, options: RestoreOptions, reason: string, reads: RouteReads | undefined): Promise<ToBlue & { refused?: string }> {
  const { store, snapshot, ctx } = options;
  const { deadRunRecord, proxiesToBlue, tokenRefusedProblem } = await import('../live/restore.js');
  const toBlue = await proxiesToBlue(plan, store.dir, ctx.env, reason, {
    promotionBegun: promotionBegun(store, snapshot),
    ...deadRunRecord(snapshot, store.dir),
    force: options.forceBlue === true,
    ...(options.ended && { ended: true }),
    ...(reads && { reads }),
    ...(options.now && { now: options.now }),
  });
  return { ...toBlue, refused: tokenRefusedProblem(plan, toBlue.proxies) };
}

/** tokenChecked (restore.ts): a proxy's refusal of the admin token, a UsageError before anything is done; else what each answered. */
async function refuseRefusedToken(plan: Plan, { store, snapshot, ctx }: RestoreOptions): Promise<RouteReads> {
  const { tokenChecked } = await import('../live/restore.js');
  const { recordedProxies } = await import('../live/recorded-proxies.js');
  const { refused, reads } = await tokenChecked(plan, store.dir, ctx.env, recordedProxies(store.dir, snapshot));
  if (refused !== undefined) throw new UsageError(refused);
  return reads;
}

/**
 * Stops a hook the dead rollout (or a recovery of it killed in turn) left running, said on stderr and in the
 * journal (the record operators and `status` read), with no weight: the recovery's lines carry none (see above).
 */
async function stopDeadRunHook(
  store: Journal,
  snapshot: RolloutSnapshot,
  options: { actor: string; warn: (message: string) => void; now: () => number },
): Promise<void> {
  const stopped = await stopOrphanHook(store.dir, snapshot);
  if (stopped === undefined) return;
  options.warn(stopped);
  store.appendEvent({ at: options.now(), type: 'warning', stage: snapshot.stageIndex, actor: options.actor, message: stopped });
}

/**
 * The ending whose move a recovery makes: an ended rollout's own (an abort's on_abort, its stand-ins after it: the
 * move that failed, tried again), else a rollback (a dead run's on_rollback).
 */
export function recoveryEvent(snapshot: Pick<RolloutSnapshot, 'phase'>, ended: boolean): EndingEventName {
  return ended && snapshot.phase === 'aborted' ? 'abort' : 'rollback';
}

interface HookRun {
  journal: Journal;
  snapshot: RolloutSnapshot;
  plan: Plan;
  secrets: ReturnType<typeof protectPlanSecrets>;
  env: NodeJS.ProcessEnv;
  command: NonNullable<RestoreOptions['command']>;
  actor: string;
  reason: string;
  now: () => number;
  /** The ending whose hook it is (recoveryEvent): told to the hook as the rollout told it. */
  event: EndingEventName;
}

/**
 * The plan's rollback hook (on_rollback, or on_stage standing in at 0%; an ended abort's on_abort) run as a rollout runs it, with green at 0
 * and the stage the rollout died in, its outcome journaled. Recorded as a rollout's hooks are (hook.json, this
 * process's pid): should this command be killed in turn, the next rollback (or rollout) finds the hook and stops it
 * before running its own.
 */
async function runRollbackHook(chosen: NonNullable<ReturnType<typeof endingHook>>, run: HookRun): Promise<HookOutcome> {
  const { journal, snapshot, plan, secrets, now } = run;
  const stage = snapshot.stageIndex + 1;
  const record = hookRecorder(journal.dir, {
    plan: plan.name,
    // A recovery's hook, whichever the ending's (on_abort too): what the next recovery looks for (readRecoveryHook).
    event: 'rollback',
    stage,
    greenWeight: 0,
    ...thisProcess(),
    hook: chosen.key,
    recovery: run.command,
  });
  record.begin();
  let outcome: HookOutcome;
  try {
    outcome = await runHook(
      chosen.hook,
      {
        event: run.event,
        plan: plan.name,
        stage,
        stages: plan.stages.length,
        greenWeight: 0,
        blueModel: plan.arms.blue.model,
        greenModel: plan.arms.green.model,
        reason: run.reason,
        at: now(),
      },
      // The same protection as in a rollout: no key in the hook's environment, none in what it printed.
      { cwd: plan.source.dir, env: run.env, secrets, onStart: (pgid) => record.started(pgid) },
    );
  } finally {
    record.finished();
  }
  journal.appendEvent({
    at: now(),
    type: outcome.ok ? 'hook_succeeded' : 'hook_failed',
    stage: snapshot.stageIndex,
    actor: run.actor,
    message: secrets.redactor.text(`${chosen.label}: ${outcome.message}`),
  });
  return outcome;
}

/**
 * Why the plan's rollback hook is not run, or undefined when it is. It is not when the dead run moved traffic
 * only through its proxies (the plan has no on_stage hook) and every proxy was left to another rollout run or an
 * operator: nothing of the dead run's is left to move, and the hook (a webhook to the same gateway, a script
 * setting weights) would act on traffic that is now theirs. A plan with an on_stage hook moved something besides
 * the proxies at every stage: its rollback hook runs (fail toward blue).
 */
export function hookNotNeeded(plan: Plan, everyProxyLeft: boolean, event: EndingEventName = 'rollback'): string | undefined {
  const chosen = endingHook(plan.hooks, event);
  if (chosen === undefined || plan.hooks?.on_stage !== undefined || !everyProxyLeft) return undefined;
  return (
    `${chosen.label} not run: every proxy of the plan was left to another rollout or an operator (nothing of this rollout's left on them), ` +
    'and the plan has no on_stage hook, so the rollout moved no other traffic for it to put back'
  );
}

/**
 * Whether the dead rollout may have begun promoting: its last stage passed, or a promotion was asked for, since
 * it started. A proxy may then hold green as promoted, with no lease to bring it back.
 */
function promotionBegun(store: StateStore, snapshot: RolloutSnapshot): boolean {
  const events = store.readEvents();
  const since = events.findLastIndex((event) => event.type === 'rollout_started');
  const last = snapshot.plan.stages.length - 1;
  return events
    .slice(Math.max(0, since))
    .some((event) => event.type === 'promote_requested' || event.type === 'promoted' || (event.type === 'stage_passed' && event.stage === last));
}

/**
 * How far a dead rollout had got into its ending ("rolling back (green error_rate ...)", "ending (abort
 * requested by ...)"), or undefined when it died mid-stage. The journal counts too: state.json trails it by a
 * write. Such a rollout must not be resumed: its green was being taken off traffic.
 */
export function endingBegun(snapshot: RolloutSnapshot, events: readonly RolloutEvent[]): string | undefined {
  if (FINAL_PHASES.includes(snapshot.phase)) return endingOf(snapshot, []).replace(/^ while it was /, '') || 'ending';
  const begun = endingStarted(events);
  return begun ? `ending (${begun.event.message})` : undefined;
}

/**
 * " while it was rolling back (green error_rate ...)": a rollout killed during its ending keeps why it was ending.
 * state.json a write behind the journal: the journal's first line of the ending says it.
 */
function endingOf(snapshot: RolloutSnapshot, events: readonly RolloutEvent[]): string {
  if (snapshot.reason !== undefined && FINAL_PHASES.includes(snapshot.phase)) return ` while it was ${phaseWhenDied(snapshot.phase)} (${snapshot.reason})`;
  const begun = FINAL_PHASES.includes(snapshot.phase) ? undefined : endingStarted(events);
  return begun === undefined ? '' : ` while it was ${phaseWhenDied(begun.phase)} (${begun.event.message})`;
}
