// `bluegreen rollback`: put a dead rollout's traffic back on blue (its process was killed, crashed or lost), or an
// ended one's whose ending could not (its on_rollback failed: its reason says to check by hand).
import {
  LockUnwritableError,
  lockGoneText,
  orphanDied,
  orphanTraffic,
  rolloutStanding,
  stateDir,
  StateStore,
  unrecordedEnding,
  unrecordedRollout,
  unrecordedText,
  lostRecord,
  lostRecordText,
  type LockHandle,
  type LostRecord,
  type RolloutStanding,
} from '../../state/index.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT } from '../../core/exit.js';
import { restoreBlue } from '../recover.js';
import { finishDespiteSignals } from '../recovery-signals.js';
import { SIGNAL_EXIT } from '../stop-signals.js';
import { rebuiltRecord } from '../journal-recovery.js';
import { loadPlan } from '../../plan/load.js';
import { forceBlueAfterEnd } from '../force-blue-after.js';
import { recordedProxies, sameUrl } from '../../live/recorded-proxies.js';
import type { RecoveryGuard } from '../../state/recovery-guard.js';
import { claimRecovery } from '../recovery-claim.js';
import type { RolloutSnapshot } from '../../engine/types.js';
import { blueUnconfirmed, endedText, isUnconfirmed } from '../../engine/endings.js';
import { lockOwner, operatorName } from '../operator.js';
import { proxiesBackByLeaseNow } from '../../live/lease-back.js';
import type { RollbackFlags } from '../definitions/rollback.js';

/** Puts the folder's dead rollout back on blue; says so, or refuses, when it is not dead but running or ended. */
export async function rollback(flags: RollbackFlags, ctx: CliContext): Promise<void> {
  return rollbackFolder(flags, ctx, false);
}

/** `reread`: the folder's rollout changed under this command once already (rollBackOrphan): a second change is refused. */
async function rollbackFolder(flags: RollbackFlags, ctx: CliContext, reread: boolean): Promise<void> {
  const dir = stateDir(flags.stateDir, ctx.env, ctx.cwd);
  const store = new StateStore(dir);
  const standing = rolloutStanding(store);
  if (standing.kind === 'none') return rollBackUnrecorded(store, ctx, flags, reread);
  // Its ending's move to blue failed: tried again, as a dead run's is (its outcome kept). Exit 0 only once it worked.
  if (standing.kind === 'finished' && blueUnconfirmed(standing.snapshot.phase, standing.snapshot.reason))
    return rollBackOrphan(store, standing.snapshot, ctx, flags, { ended: true, reread });
  if (standing.kind === 'finished' && flags.forceBlue === true) return forceBlueEnded(store, standing.snapshot, ctx, flags, reread);
  if (standing.kind === 'finished') {
    const { snapshot } = standing;
    const ended = `the rollout of plan "${snapshot.plan.name}" already ended (${endedText(snapshot)})`;
    const rest = snapshot.phase === 'promoted' ? promotionStands(store.dir, snapshot) : (endingMovesFailed(snapshot) ?? '; nothing to roll back');
    ctx.stdout.write(`${ended}${rest}\n`);
    return;
  }
  if (standing.kind === 'running') {
    const { snapshot, ownerPid } = standing;
    // Without its lock, `bluegreen abort` cannot reach it (it finds no rollout to ask): a signal does.
    const what = standing.lockGone
      ? `${lockGoneText(snapshot, dir)}; stop it with kill -TERM ${ownerPid} (it rolls back to blue)`
      : ownerPid === snapshot.pid
        ? `the rollout of plan "${snapshot.plan.name}" is running (pid ${ownerPid}); stop it with: bluegreen abort --state-dir ${dir}`
        : `another bluegreen (pid ${ownerPid}) holds ${dir} right now; try again once it is done`;
    throw new CliError(what, EXIT.usage);
  }
  await rollBackOrphan(store, standing.snapshot, ctx, flags, { reread });
}

/**
 * ", but 1 proxy still serves green, promoted there by another rollout ...: check by hand that green should serve
 * there", from the record of a rollout that ended on blue but left a proxy to another's promotion (afterMoves):
 * "nothing to roll back" there was untrue. Undefined otherwise (a promotion is its outcome; a failed move to blue is
 * tried again before this).
 */
function endingMovesFailed(snapshot: RolloutSnapshot): string | undefined {
  if (snapshot.phase === 'promoted' || !isUnconfirmed(snapshot.reason)) return undefined;
  const reason = snapshot.reason ?? '';
  const at = reason.search(/, but (?:putting traffic back on blue failed|\d+ prox(?:y|ies) still serves? green)/);
  return at < 0 ? `; its reason: ${reason}` : reason.slice(at);
}

/**
 * After a promotion: rollback does not undo it (the outcome the gate passed on), and an operator who ran it to get
 * blue back is told so and how, where "nothing to roll back" left green serving unsaid.
 */
function promotionStands(dir: string, snapshot: RolloutSnapshot): string {
  const proxies = recordedProxies(dir, snapshot);
  const how =
    proxies.length > 0
      ? `PUT {"greenWeight":0,"mirror":0} with the admin token to ${proxies.map((url) => `${sameUrl(url)}/admin/route`).join(', ')} (docs/proxy.md)`
      : 'set blue by hand, as its on_rollback hook does (a plan with no hook and no proxy moved no real traffic)';
  return `; bluegreen rollback does not undo a promotion: green (${snapshot.plan.greenModel}) stays where the promotion left it; to go back to blue, ${how}`;
}

/**
 * No state.json: a rollout killed before its first record (its journal says it started) moved nothing; it is marked
 * ended in its journal, so status no longer says it died unfinished. Otherwise there is no rollout to roll back.
 */
async function rollBackUnrecorded(store: StateStore, ctx: CliContext, flags: RollbackFlags, reread: boolean): Promise<void> {
  const rollout = unrecordedRollout(store);
  if (rollout === undefined) return rollBackLostRecord(store, ctx, flags, reread);
  const text = unrecordedText(rollout);
  if (rollout.starting) throw new CliError(`${text}; stop it with: bluegreen abort --state-dir ${store.dir}`, EXIT.usage);
  if (rollout.finished === undefined) store.appendEvent(unrecordedEnding(Date.now(), `${operatorName(ctx.env)} (bluegreen rollback)`));
  ctx.stdout.write(`${text}; nothing to roll back\n`);
}

/**
 * A rollout that moved traffic and lost its state.json: its record is rebuilt from its journal and the plan the
 * operator names (`--plan`; the journal holds none), then recovered as an orphan: its on_rollback, its proxies.
 */
async function rollBackLostRecord(store: StateStore, ctx: CliContext, flags: RollbackFlags, reread: boolean): Promise<void> {
  const lost = lostRecord(store);
  if (lost === undefined) throw new CliError(`no rollout state in ${store.dir}: nothing to roll back`, EXIT.usage);
  const text = lostRecordText(lost, store.dir);
  if (lost.running) throw new CliError(`${text}; stop it with: bluegreen abort --state-dir ${store.dir}`, EXIT.usage);
  if (flags.plan === undefined)
    throw new CliError(
      `${text}; its journal does not hold its plan: run bluegreen rollback --state-dir ${store.dir} --plan FILE with that rollout's plan`,
      EXIT.usage,
    );
  const plan = loadPlan(flags.plan, ctx.cwd);
  await rollBackOrphan(store, rebuiltRecord(lost, plan), ctx, flags, { reread, rebuild: (again) => rebuiltRecord(again, plan) });
}

/**
 * The orphaned rollout's recovery (restoreBlue), under the folder's lock; `ended`: a rollout that ended but whose
 * ending's move to blue failed, that move tried again (exit 5 as a dead run's when it fails again: run it again).
 * `rebuild`: the record was rebuilt from the journal (its state.json lost), as it is again under the lock.
 */
async function rollBackOrphan(
  store: StateStore,
  snapshot: RolloutSnapshot,
  ctx: CliContext,
  flags: RollbackFlags,
  options: { ended?: boolean; reread: boolean; rebuild?: (lost: LostRecord) => RolloutSnapshot },
): Promise<void> {
  const { ended = false } = options;
  const lock = await lockToRecover(store, snapshot, ctx);
  let changed = false;
  try {
    // Read again under the lock, and acted on as read then: another rollback may have finished the job while we
    // waited, or a new rollout started (and ended, or died) between the first read and the lock. Its record is not
    // this one's: recovered as this one, it was overwritten with this one's and its traffic left where it was.
    const now = underLock(store, options.rebuild);
    if (now.kind === 'finished' && sameRun(now.snapshot, snapshot))
      ctx.stdout.write(`the rollout of plan "${snapshot.plan.name}" was already ${ended ? 'put back on blue' : 'rolled back'}; nothing to do\n`);
    else if (now.kind === 'recover' && now.ended === ended && sameRun(now.snapshot, snapshot)) await recoverRun(store, now.snapshot, ctx, flags, ended);
    else changed = true;
  } finally {
    lock.release();
  }
  if (changed) await readAgain(store, ctx, flags, options.reread);
}

/** The folder's rollout changed between the first read and the lock: the folder read again, once. */
async function readAgain(store: StateStore, ctx: CliContext, flags: RollbackFlags, reread: boolean): Promise<void> {
  const what = `the rollout recorded in ${store.dir} changed while bluegreen rollback was reading it (a rollout started or ended there meanwhile)`;
  if (reread) throw new CliError(`${what}, twice; another bluegreen is at work there: see bluegreen status --state-dir ${store.dir}`, EXIT.usage);
  ctx.stderr.write(`bluegreen: ${what}; reading it again\n`);
  await rollbackFolder(flags, ctx, true);
}

/** What the folder holds, read under the lock: a run to recover (as rollback() would choose it), one that ended, or other. */
type LockedStanding = { kind: 'recover'; snapshot: RolloutSnapshot; ended: boolean } | { kind: 'finished'; snapshot: RolloutSnapshot } | { kind: 'other' };

function underLock(store: StateStore, rebuild: ((lost: LostRecord) => RolloutSnapshot) | undefined): LockedStanding {
  const standing: RolloutStanding = rolloutStanding(store, { self: process.pid });
  if (standing.kind === 'orphaned') return { kind: 'recover', snapshot: standing.snapshot, ended: false };
  if (standing.kind === 'finished' && blueUnconfirmed(standing.snapshot.phase, standing.snapshot.reason))
    return { kind: 'recover', snapshot: standing.snapshot, ended: true };
  if (standing.kind === 'finished') return { kind: 'finished', snapshot: standing.snapshot };
  const lost = standing.kind === 'none' && rebuild ? lostRecord(store, { self: process.pid }) : undefined;
  if (lost !== undefined && rebuild && !lost.running) return { kind: 'recover', snapshot: rebuild(lost), ended: false };
  return { kind: 'other' };
}

/**
 * Whether two reads of a folder's record are of one rollout run: its start and its process (a new rollout has
 * others). A record rebuilt from the journal has pid 0 where the lock was gone or is this command's own.
 */
function sameRun(a: RolloutSnapshot, b: RolloutSnapshot): boolean {
  return a.startedAt === b.startedAt && a.plan.name === b.plan.name && (a.pid === b.pid || a.pid === 0 || b.pid === 0);
}

/** restoreBlue on the run read under the lock, said and recorded; its exit code is the command's. */
async function recoverRun(store: StateStore, snapshot: RolloutSnapshot, ctx: CliContext, flags: RollbackFlags, ended: boolean): Promise<void> {
  // Said once the rollback goes ahead (restoreBlue's `starting`): not before a refusal for want of the admin token.
  const said = ended
    ? `the rollout of plan "${snapshot.plan.name}" ended (${endedText(snapshot)}), but its move back to blue had failed; trying it again`
    : `${orphanDied(snapshot, store.dir)}; ${orphanTraffic({ proxiesOnBlue: proxiesBackByLeaseNow(store.dir, snapshot) })}; rolling back`;
  const starting = (): void => void ctx.stderr.write(`bluegreen: ${said}\n`);
  const { value: result, signal } = await finishDespiteSignals(
    () => restoreBlue({ store, snapshot, ctx, command: 'bluegreen rollback', planFile: flags.plan, forceBlue: flags.forceBlue === true, ended, starting }),
    { events: ctx.signals ?? process, warn: (message) => ctx.stderr.write(`bluegreen: ${message}\n`), what: 'putting traffic back on blue' },
  );
  if (!result.ok) throw new CliError(result.message, EXIT.orphaned);
  const done = ended
    ? `put the traffic of plan "${snapshot.plan.name}" back on blue, as its ending (${endedText(snapshot)}) could not`
    : `rolled back the rollout of plan "${snapshot.plan.name}"`;
  ctx.stdout.write(`${done}: ${result.message}\n`);
  if (signal) throw new CliError(`interrupted by ${signal}; the rollback it came during finished first`, SIGNAL_EXIT[signal]);
}

/**
 * The folder's lock, and its recovery guard. A folder that cannot be written (read-only, full) has no lock to take,
 * and no other bluegreen can take it either: the recovery goes on without one, so traffic goes back on blue, and
 * fails to record that (restoreBlue says so; exit 5, still unfinished). Refusing there left green on for whoever
 * reads the exit 2. The guard (recovery-guard.ts) is what then keeps a second rollback from running on_rollback
 * beside the first: it refuses, exit 2, as it would at a held lock.
 */
async function lockToRecover(store: StateStore, snapshot: RolloutSnapshot, ctx: CliContext): Promise<LockHandle> {
  const lock = lockOrNone(store, snapshot, ctx);
  let guard: RecoveryGuard;
  try {
    guard = await claimRecovery(store.dir, {
      what: `putting the rollout of plan "${snapshot.plan.name}" back on blue`,
      then: `wait for it to finish, then see bluegreen status --state-dir ${store.dir}`,
      locked: lock !== undefined,
      warn: (message) => ctx.stderr.write(`bluegreen: warning: ${message}\n`),
    });
  } catch (error) {
    lock?.release();
    throw error;
  }
  return {
    release: () => {
      guard.release();
      lock?.release();
    },
  };
}

/** The folder's lock, or undefined where the folder cannot be written (said as a warning). */
function lockOrNone(store: StateStore, snapshot: RolloutSnapshot, ctx: CliContext): LockHandle | undefined {
  try {
    return store.acquireLock(lockOwner(snapshot.plan.name, Date.now(), ctx.env));
  } catch (error) {
    if (!(error instanceof LockUnwritableError)) throw error;
    ctx.stderr.write(`bluegreen: warning: ${error.message}; putting traffic back on blue all the same, without the folder's lock\n`);
    return undefined;
  }
}

/**
 * `--force-blue` on a rollout that already ended: its proxies on blue by hand, under the folder's lock (or, in a
 * folder it cannot write, without it, as a plain rollback: on blue, then exit 5 saying the journal could not note it).
 * The record is read again under the lock and acted on as read then, as rollBackOrphan does: a rollout started since
 * the first read is not this one (its proxies were moved on the first run's record, a dead one left unrecovered).
 */
async function forceBlueEnded(store: StateStore, snapshot: RolloutSnapshot, ctx: CliContext, flags: RollbackFlags, reread: boolean): Promise<void> {
  const lock = await lockToRecover(store, snapshot, ctx);
  let changed = false;
  try {
    const now = underLock(store, undefined);
    if (now.kind === 'finished' && sameRun(now.snapshot, snapshot)) {
      const message = await forceBlueAfterEnd(store, now.snapshot, ctx, flags.plan);
      ctx.stdout.write(`put the proxies of plan "${now.snapshot.plan.name}" on blue: ${message}\n`);
    } else changed = true;
  } finally {
    lock.release();
  }
  if (changed) await readAgain(store, ctx, flags, reread);
}
