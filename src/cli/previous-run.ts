// What a new rollout does about the state folder's previous one: a dead one's traffic back on blue first, or
// (--resume) its record taken over and its stage gone on from.
import type { RolloutSnapshot } from '../engine/types.js';
import { liveResumeOf, type LiveResume } from '../live/resume-record.js';
import type { Plan } from '../plan/plan.js';
import { lockGoneText, lostRecord, lostRecordText, orphanDied, orphanTraffic, rolloutStanding, type RolloutStanding, type StateStore } from '../state/index.js';
import { rebuiltRecord } from './journal-recovery.js';
import { readHookInFlight, stopOrphanHook } from '../state/hook-record.js';
import { describeHookInFlight } from '../state/hook-words.js';
import { CliError, EXIT, UsageError } from '../core/exit.js';
import type { CliContext } from './context.js';
import { endingBegun, restoreBlue } from './recover.js';
import { claimRecovery } from './recovery-claim.js';
import { finishDespiteSignals } from './recovery-signals.js';
import { SIGNAL_EXIT } from './stop-signals.js';
import { blueMoveFailure, blueUnconfirmed, endedText } from '../engine/endings.js';

/** Where settlePrevious leaves the state folder for the new run. */
export interface Settled {
  /** The stage to start at. */
  startStage: number;
  /** Whether the previous record is kept (--resume) when the new one starts. */
  keepRecord: boolean;
  /** --resume: the dead run's per-stage figures, which the resumed stages go on from. */
  carried?: RolloutSnapshot['stages'];
  /** --resume: the runs the journal shows (EngineDeps.carriedRuns). */
  carriedRuns?: number;
  /** --resume: what it had read of its proxies' results (whose handed-over results are the resumed run's to judge). */
  liveResume?: LiveResume;
  /** --resume: the dead run's hook it stopped, said (a start warning, journaled once it starts). */
  hookStopped?: string;
}

/** How the new run starts: `--resume`, the note of the folder's lock taken over, and where its warnings go. */
export interface SettleStart {
  resume: boolean;
  lockWarning: string | undefined;
  /** The rollout's start warnings (run-rollout.ts): journaled once it starts, so the dashboard shows them. */
  warn: (message: string) => void;
}

/**
 * A previous rollout that died unfinished may have left traffic split: put it back on blue before anything
 * else (its on_rollback runs), or with --resume take over its record and go on from its stage.
 */
export async function settlePrevious(
  store: StateStore,
  plan: Plan,
  ctx: CliContext,
  start: SettleStart,
  signals: NodeJS.EventEmitter = ctx.signals ?? process,
): Promise<Settled> {
  // Claimed before the folder is read: a lock-free `bluegreen rollback` (a folder it could not write) may be running
  // its on_rollback now, or have just finished. Held until the dead run is recovered (or taken over), then released.
  const guard = await claimRecovery(store.dir, {
    what: `putting the rollout recorded in ${store.dir} back on blue`,
    then: 'wait for it to finish, then start the rollout again',
    // runRollout took the folder's lock before this.
    locked: true,
    warn: start.warn,
  });
  try {
    return await settle(store, plan, ctx, start, signals);
  } finally {
    guard.release();
  }
}

async function settle(store: StateStore, plan: Plan, ctx: CliContext, start: SettleStart, signals: NodeJS.EventEmitter): Promise<Settled> {
  const { warn } = start;
  const previous = rolloutStanding(store, { self: process.pid });
  // Its lock is gone (this run took the folder's lock anew), but the rollout recorded there still runs.
  if (previous.kind === 'running') throw stillRunning(previous.snapshot, store.dir);
  // The lock's note about a dead owner says the same as what follows, less precisely.
  if (start.lockWarning && previous.kind !== 'orphaned') warn(start.lockWarning);
  if (start.resume) {
    const snapshot = resumable(store, plan, previous);
    // Said once, as a start warning: journaled right after the resumed run's rollout_started (the record is kept, so
    // a line of its own here too was the same message twice), or on stderr should the start fail.
    const stopped = await stopOrphanHook(store.dir, snapshot);
    if (stopped !== undefined) warn(stopped);
    ctx.stderr.write(
      `bluegreen: resuming the rollout of plan "${plan.name}" (pid ${snapshot.pid} died) at stage ${snapshot.stageIndex + 1}/${plan.stages.length}${plan.hooks?.on_stage ? '; its on_stage hook runs again' : ''}\n`,
    );
    // Each run wrote rollout_started before its first state.json: a crash with saved counts is one of them.
    const carriedRuns = store.readEvents().filter((event) => event.type === 'rollout_started').length;
    return {
      startStage: snapshot.stageIndex,
      keepRecord: true,
      carried: snapshot.stages,
      carriedRuns,
      liveResume: liveResumeOf(snapshot),
      ...(stopped !== undefined && { hookStopped: stopped }),
    };
  }
  if (previous.kind === 'orphaned') {
    const dead = orphanDied(previous.snapshot, store.dir);
    // Loaded only for a dead run: a rollout without proxies loads no live module (test/cli/production-ui.test.ts).
    const { proxiesBackByLeaseNow } = await import('../live/lease-back.js');
    const traffic = orphanTraffic({ proxiesOnBlue: proxiesBackByLeaseNow(store.dir, previous.snapshot) });
    ctx.stderr.write(`bluegreen: ${dead}; ${traffic}; putting traffic back on blue before starting\n`);
    await recoverFirst(store, previous.snapshot, plan, { ctx, warn, signals, dead });
  }
  // One that ended but whose move back to blue failed may have left green on too: that move is made again first, as
  // bluegreen rollback makes it, and this run does not start while it fails (fail toward blue).
  if (previous.kind === 'finished' && blueUnconfirmed(previous.snapshot.phase, previous.snapshot.reason)) {
    const ended = unconfirmedEndingText(previous.snapshot);
    ctx.stderr.write(`bluegreen: ${ended}; trying that move again before starting\n`);
    await recoverFirst(store, previous.snapshot, plan, { ctx, warn, signals, dead: ended, ended: true });
  }
  // A rollout that moved traffic and lost its state.json: recovered as an orphan when this is its plan.
  const lost = previous.kind === 'none' ? lostRecordFor(store, plan) : undefined;
  if (lost !== undefined) {
    ctx.stderr.write(`bluegreen: ${lost.text}; putting traffic back on blue before starting\n`);
    await recoverFirst(store, lost.snapshot, plan, { ctx, warn, signals, dead: lost.text.replace(/: traffic may be on green$/, '') });
  }
  return { startStage: 0, keepRecord: false };
}

/**
 * The folder's rollout that moved traffic and lost its state.json, as a new rollout of `plan` takes it (the real run
 * and --dry-run alike): its record rebuilt from the journal with this plan, or refused (exit 5) for another plan's.
 */
export function lostRecordFor(store: StateStore, plan: Plan): { snapshot: RolloutSnapshot; text: string } | undefined {
  const lost = lostRecord(store, { self: process.pid });
  // Still running (its next write makes state.json again): the real run's lock refuses it first, as any running one.
  if (lost === undefined || lost.running) return undefined;
  const text = lostRecordText(lost, store.dir);
  try {
    return { snapshot: rebuiltRecord(lost, plan), text };
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    throw new CliError(
      `${text}; not starting a new rollout of another plan: run bluegreen rollback --state-dir ${store.dir} --plan FILE with that rollout's plan first`,
      EXIT.orphaned,
    );
  }
}

/**
 * A dead rollout's traffic back on blue before a new one starts on its folder; refused (exit 5) when it cannot be.
 * `dead`: what that rollout was ("the rollout of plan ... died without finishing, at stage ..."), for the summary.
 */
async function recoverFirst(
  store: StateStore,
  snapshot: RolloutSnapshot,
  plan: Plan,
  {
    ctx,
    warn,
    signals,
    dead,
    ended = false,
  }: { ctx: CliContext; warn: (message: string) => void; signals: NodeJS.EventEmitter; dead: string; ended?: boolean },
): Promise<void> {
  const { value: result, signal } = await finishDespiteSignals(
    () => restoreBlue({ store, snapshot, ctx, command: 'bluegreen rollout', fallbackPlan: plan, warn, ended }),
    {
      events: signals,
      warn: (message) => ctx.stderr.write(`bluegreen: ${message}\n`),
      what: "putting the previous rollout's traffic back on blue",
    },
  );
  // What the recovery left to another rollout run: the preflight that follows judges it (a live lease: exit 3).
  for (const message of result.left ?? []) warn(message);
  if (!result.ok)
    throw new CliError(
      `${result.message}; not starting a new rollout (run bluegreen rollback --state-dir ${store.dir} once it can put traffic back on blue)`,
      EXIT.orphaned,
    );
  if (signal)
    throw new CliError(
      `interrupted by ${signal} while starting: the previous rollout's traffic is back on blue (${result.message}); this rollout did not start`,
      SIGNAL_EXIT[signal],
    );
  // The line on stderr before it scrolls away behind the dashboard; the recovery's own lines went with the dead
  // run's record (events.prev.jsonl): a start warning says it in the new journal, where the dashboard shows it.
  warn(`${dead}: put back on blue before this rollout started (${result.message})`);
}

/** "the rollout of plan "x" ended (aborted, exit 4), but its move back to blue had failed (on_abort hook: ...)". */
export function unconfirmedEndingText(snapshot: RolloutSnapshot): string {
  return `the rollout of plan "${snapshot.plan.name}" ended (${endedText(snapshot)}), but its move back to blue had failed (${blueMoveFailure(snapshot.reason ?? '')})`;
}

function stillRunning(snapshot: RolloutSnapshot, dir: string): UsageError {
  return new UsageError(`${lockGoneText(snapshot, dir)}; wait for it or stop it (kill -TERM ${snapshot.pid}: it rolls back to blue) before starting another`);
}

/**
 * The dead rollout --resume takes over (the real run and --dry-run alike): refused, exit 2, when the folder has
 * none, when it ran another plan, or when it died ending (its green was being taken off traffic).
 */
export function resumable(store: StateStore, plan: Plan, previous: RolloutStanding): RolloutSnapshot {
  // A rollout that moved traffic and lost its state.json: not "nothing to resume" (traffic may be on green), and
  // not resumable either (each stage's figures went with the record).
  const lost = previous.kind === 'none' ? lostRecord(store, { self: process.pid }) : undefined;
  // One still running is not dead: refused as any running rollout is, not sent to rollback (which refuses it too).
  if (lost?.running) throw new UsageError(`--resume: there is no unfinished rollout to resume in ${store.dir} (${lostRecordText(lost, store.dir)})`);
  if (lost !== undefined)
    throw new CliError(
      `${lostRecordText(lost, store.dir)}; --resume cannot go on from it (its record, each stage's figures, is gone): run bluegreen rollback --state-dir ${store.dir} --plan FILE with its plan, then start again`,
      EXIT.orphaned,
    );
  if (previous.kind !== 'orphaned')
    throw new UsageError(
      `--resume: there is no unfinished rollout to resume in ${store.dir} (${previous.kind === 'none' ? 'no state' : `its last rollout ${previous.kind === 'finished' ? 'finished' : 'is running'}`})`,
    );
  const { snapshot } = previous;
  if (snapshot.plan.hash !== plan.source.hash) {
    throw new UsageError(
      `--resume: ${plan.source.file} is not the plan the dead rollout ran (${snapshot.plan.file}, different content); run bluegreen rollback, then start again`,
    );
  }
  // hook.json too: the kill may land after the ending's hook (or the proxies' promotion) began and before the
  // journal's line of it was written, a resume would then undo what that hook did.
  const hook = readHookInFlight(store.dir, snapshot);
  const moving = hook !== undefined && hook.event !== 'stage' ? `ending (its ${describeHookInFlight(hook)} was under way when it died)` : undefined;
  const ending = endingBegun(snapshot, store.readEvents()) ?? moving;
  if (ending)
    throw new UsageError(`--resume: the rollout that died was already ${ending}; it cannot be resumed: run bluegreen rollback --state-dir ${store.dir}`);
  return snapshot;
}
