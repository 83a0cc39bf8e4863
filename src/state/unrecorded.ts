// A rollout whose journal began (rollout_started) but whose state.json was never written: killed (kill -9, OOM) in
// the moment between the two. Nothing moves before that first record (RolloutEngine.run waits for it), so traffic
// is on blue; `status` and `rollback` say so rather than "no rollout".
import os from 'node:os';
import type { RolloutEvent } from '../engine/types.js';
import { isOwnerAlive, readLock } from './lock.js';
import type { StateStore } from './store.js';

export interface UnrecordedRollout {
  plan: string;
  startedAt: number;
  /** Its process, as its lock names it (absent when the lock is gone too). */
  pid?: number;
  /** It is still starting: its process runs (its first record is on the way). */
  starting: boolean;
  /** How it ended, when its journal says (a recovery marked it, or it ended before any record). */
  finished?: RolloutEvent;
}

/** What a rollout journals before its first state.json (nothing it does before that moves traffic). */
const BEFORE_FIRST_RECORD: ReadonlySet<RolloutEvent['type']> = new Set([
  'warning',
  'failed',
  'finished',
  'interrupted',
  'aborted',
  'abort_requested',
  'promote_requested',
  'paused',
  'resumed',
]);

/** The folder's rollout that has a journal and no state.json, if any; call only when state.json is missing. */
export function unrecordedRollout(store: StateStore, host: string = os.hostname()): UnrecordedRollout | undefined {
  const events = store.readEvents();
  const since = events.findLastIndex((event) => event.type === 'rollout_started');
  const started = events[since];
  if (started === undefined) return undefined;
  const after = events.slice(since + 1);
  // Past its start (a hook ran, a stage began) it had written state.json: one missing now was removed since (moved
  // aside as corrupt, say), and "nothing moved" would not be true.
  if (after.some((event) => !BEFORE_FIRST_RECORD.has(event.type))) return undefined;
  const finished = after.find((event) => event.type === 'finished');
  const lock = readLock(store.dir);
  const plan = /^rollout "(.*)" started/.exec(started.message)?.[1] ?? lock?.planName ?? '?';
  const ours = lock !== undefined && lock.planName === plan;
  return {
    plan,
    startedAt: started.at,
    ...(ours && { pid: lock.pid }),
    starting: finished === undefined && ours && isOwnerAlive(lock, host),
    ...(finished && { finished }),
  };
}

/** The sentence `status` and `rollback` say of it. */
export function unrecordedText(rollout: UnrecordedRollout): string {
  const which = `the rollout of plan "${rollout.plan}"${rollout.pid === undefined ? '' : ` (pid ${rollout.pid})`} started at ${new Date(rollout.startedAt).toISOString()}`;
  if (rollout.finished) return `${which} ended before its first record: ${rollout.finished.message}`;
  if (rollout.starting) return `${which} is starting: its first record (state.json) is not written yet`;
  return `${which} and died before its first record; nothing moved: traffic is on blue`;
}

/** What `bluegreen rollback` journals for it: its ending, so status no longer says it died unfinished. */
export function unrecordedEnding(at: number, actor: string): RolloutEvent {
  return {
    at,
    type: 'finished',
    actor,
    message: 'bluegreen rollback: it died before its first record; nothing moved: traffic is on blue',
    data: { phase: 'rolled_back', exitCode: 5 },
  };
}
