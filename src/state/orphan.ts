// A rollout whose process died (kill -9, OOM, lost machine) without finishing: "orphaned". Traffic may still be
// split, so `status` says so (exit 5), and `bluegreen rollback` or the next `rollout` puts it back on blue.
import os from 'node:os';
import { FINAL_PHASES, type RolloutEvent, type RolloutSnapshot } from '../engine/types.js';
import { writeFileAtomic } from './files.js';
import { readHookInFlight } from './hook-record.js';
import { greenAfterDeath } from './hook-words.js';
import { withJournalEnding, withJournalProgress } from './reconcile.js';
import { RECENT_EVENTS } from '../engine/event-log.js';
import { endedText } from '../engine/endings.js';
import { isProcessAlive } from '../core/proc-stat.js';
import { escapeControls } from '../core/format.js';
import { isOwnerAlive, readLock, type LockInfo } from './lock.js';
import type { StateStore } from './store.js';

export type RolloutStanding =
  | { kind: 'none' }
  | { kind: 'finished'; snapshot: RolloutSnapshot }
  /**
   * ownerPid: the snapshot's process, or another bluegreen holding the folder (a rollback, a rollout starting).
   * lockGone: the snapshot's process runs without the folder's lock (lockGoneText), out of `bluegreen abort`'s reach.
   * lock: the folder's lock naming ownerPid, as read here (what `pause|resume|promote|abort` go on with).
   */
  | { kind: 'running'; snapshot: RolloutSnapshot; ownerPid: number; lockGone?: true; lock?: LockInfo }
  | { kind: 'orphaned'; snapshot: RolloutSnapshot };

/**
 * Where the folder's rollout stands. The journal's `finished` line counts even when state.json (written a few
 * ms after it) missed it; a live lock owner, or a live snapshot pid, means running. `self` is the caller's
 * pid when it holds the lock itself (a rollback, a new rollout): its own lock does not count.
 */
export function rolloutStanding(store: StateStore, options: { self?: number; host?: string } = {}): RolloutStanding {
  const host = options.host ?? os.hostname();
  const snapshot = store.readState();
  if (!snapshot) return { kind: 'none' };
  if (snapshot.endedAt !== undefined && FINAL_PHASES.includes(snapshot.phase)) return { kind: 'finished', snapshot };
  // Enough lines for those written since state.json's last write (one write behind, a few lines at most).
  const recent = store.readEvents({ last: 64 });
  const last = recent.at(-1);
  // A full disk can leave state.json behind the journal's ending (then a warning saying so follows that line):
  // say how the rollout really ended.
  if (last?.type === 'finished') return { kind: 'finished', snapshot: withJournalEnding(snapshot, [last]).snapshot };
  const ended = withJournalEnding(snapshot, recent);
  if (ended.stale) return { kind: 'finished', snapshot: ended.snapshot };
  const lock = readLock(store.dir);
  if (lock && lock.pid !== options.self && isOwnerAlive(lock, host)) return { kind: 'running', snapshot, ownerPid: lock.pid, lock };
  // Without a lock of its own (deleted, or the folder moved away and made again by its next write) a rollout whose
  // process still runs is running all the same, the caller's own lock taken meanwhile included: a new rollout took
  // it for dead, ran its on_rollback and then its own stages while it went on moving the same traffic (hostile20).
  if ((!lock || lock.pid === options.self) && snapshot.pid !== options.self && isProcessAlive(snapshot))
    return { kind: 'running', snapshot, ownerPid: snapshot.pid, ...(!lock && { lockGone: true as const }) };
  // state.json trails the journal by one write: newer journal lines have the latest stage and weight.
  return { kind: 'orphaned', snapshot: withJournalProgress(snapshot, recent) };
}

/**
 * A rollout that runs without its lock (its folder moved or deleted, its next write made it again): `bluegreen abort`
 * finds no lock to name its target, so each command says this and then how to stop it (kill -TERM PID).
 */
export function lockGoneText(snapshot: RolloutSnapshot, dir: string): string {
  return `the rollout of plan "${snapshot.plan.name}" recorded in ${dir} still runs (pid ${snapshot.pid}), although its lock is gone (the folder was moved or deleted, or its lock file)`;
}

/**
 * The one sentence every command prints about an orphaned rollout. A hook it was running when it died (hook.json
 * in `dir`) is named: state.json takes a stage's weight only once its on_stage hook succeeded, so green may
 * already be at the new one. `proxiesOnBlue`: read now that every proxy the run drove is back on blue by its lease
 * (live/lease-back.ts proxiesBackByLeaseNow): said instead of "may not be", the rollback still advised (it records the
 * end and runs on_rollback).
 */
export function orphanMessage(snapshot: RolloutSnapshot, dir: string, options: { proxiesOnBlue?: boolean } = {}): string {
  const traffic = options.proxiesOnBlue
    ? `${PROXIES_ON_BLUE}; run bluegreen rollback --state-dir ${dir} to record the end and run on_rollback`
    : `${MAY_NOT_BE_ON_BLUE}: run bluegreen rollback --state-dir ${dir}`;
  return `${orphanDied(snapshot, dir)}; ${traffic}`;
}

/** What is known of a dead run's traffic, without the advice: for the commands that act on it (rollback, a new rollout). */
export function orphanTraffic(options: { proxiesOnBlue?: boolean }): string {
  return options.proxiesOnBlue ? PROXIES_ON_BLUE : MAY_NOT_BE_ON_BLUE;
}

const PROXIES_ON_BLUE = 'the proxies are back on blue by their lease (read now)';
const MAY_NOT_BE_ON_BLUE = 'traffic may not be on blue';

/** "the rollout of plan "x" (pid 12) died without finishing, at stage 2/5 with green at 25%". */
export function orphanDied(snapshot: RolloutSnapshot, dir: string): string {
  const green = greenAfterDeath(snapshot, readHookInFlight(dir, snapshot));
  return `the rollout of plan "${escapeControls(snapshot.plan.name)}"${snapshot.pid > 0 ? ` (pid ${snapshot.pid})` : ''} died without finishing, at stage ${snapshot.stageIndex + 1}/${snapshot.plan.stages.length} with green at ${green}`;
}

/**
 * Records that a dead rollout was put back on blue: journal lines, then state.json marked final (exit 5, the dead
 * run's). `command` ("bluegreen rollback") is kept as recoveredBy, so `status` says whose end it recorded.
 */
export function markRecovered(
  store: StateStore,
  snapshot: RolloutSnapshot,
  options: { now: number; actor: string; reason: string; command: string },
): RolloutSnapshot {
  const { now, actor, reason, command } = options;
  const stage = snapshot.stageIndex;
  const events: RolloutEvent[] = [
    // The reason says what happened (and that it is back on blue) once: in the final line, as a rollout's own.
    { at: now, type: 'rolled_back', stage, greenWeight: 0, actor, message: `rolled back to blue by ${actor}` },
    { at: now, type: 'finished', stage, greenWeight: 0, message: `${reason} (exit 5)`, data: { phase: 'rolled_back', exitCode: 5, recoveredBy: command } },
  ];
  for (const event of events) store.appendEvent(event);
  const recovered: RolloutSnapshot = {
    ...snapshot,
    phase: 'rolled_back',
    greenWeight: 0,
    updatedAt: now,
    endedAt: now,
    exitCode: 5,
    recoveredBy: command,
    reason,
    stages: snapshot.stages.map((s) => (s.verdict === 'running' ? { ...s, verdict: 'aborted' } : s.verdict === 'pending' ? { ...s, verdict: 'skipped' } : s)),
    recentEvents: [...snapshot.recentEvents, ...events].slice(-30),
  };
  writeFileAtomic(store.statePath, `${JSON.stringify(recovered)}\n`);
  return recovered;
}

/**
 * Records that `bluegreen rollback` did the move to blue an ended rollout's ending could not (endings.ts
 * blueUnconfirmed): a journal line, then state.json's reason (`reason`, endings.ts confirmedReason). Its phase and
 * exit code are the rollout's outcome, and stay.
 */
export function markConfirmed(store: StateStore, snapshot: RolloutSnapshot, options: { now: number; actor: string; reason: string }): RolloutSnapshot {
  const { now, actor, reason } = options;
  const event: RolloutEvent = {
    at: now,
    type: 'warning',
    stage: snapshot.stageIndex,
    greenWeight: 0,
    actor,
    message: `traffic put back on blue by ${actor}, the ending's own move having failed; the recorded outcome (${endedText(snapshot)}) is unchanged`,
  };
  store.appendEvent(event);
  const confirmed: RolloutSnapshot = {
    ...snapshot,
    greenWeight: 0,
    updatedAt: now,
    reason,
    recentEvents: [...snapshot.recentEvents, event].slice(-RECENT_EVENTS),
  };
  writeFileAtomic(store.statePath, `${JSON.stringify(confirmed)}\n`);
  return confirmed;
}
