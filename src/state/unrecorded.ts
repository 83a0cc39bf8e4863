// A rollout whose journal began (rollout_started) but whose state.json was never written: killed (kill -9, OOM) in
// the moment between the two. Nothing moves before that first record (RolloutEngine.run waits for it), so traffic
// is on blue; `status` and `rollback` say so rather than "no rollout".
import os from 'node:os';
import type { RolloutEvent } from '../engine/types.js';
import { formatWeight } from '../core/format.js';
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

/** The journal's latest rollout: its first line, and the lines after it. */
function latestRollout(store: StateStore): { started: RolloutEvent; after: RolloutEvent[]; plan: string } | undefined {
  const events = store.readEvents();
  const since = events.findLastIndex((event) => event.type === 'rollout_started');
  const started = events[since];
  if (started === undefined) return undefined;
  const plan = /^rollout "(.*)" started/.exec(started.message)?.[1] ?? readLock(store.dir)?.planName ?? '?';
  return { started, after: events.slice(since + 1), plan };
}

/** The folder's rollout that has a journal and no state.json, if any; call only when state.json is missing. */
export function unrecordedRollout(store: StateStore, host: string = os.hostname()): UnrecordedRollout | undefined {
  const latest = latestRollout(store);
  if (latest === undefined) return undefined;
  const { started, after, plan } = latest;
  // Past its start (a hook ran, a stage began) it had written state.json: one missing now was removed since (moved
  // aside as corrupt, say), and "nothing moved" would not be true (lostRecord says that one).
  if (after.some((event) => !BEFORE_FIRST_RECORD.has(event.type))) return undefined;
  const finished = after.find((event) => event.type === 'finished');
  const lock = readLock(store.dir);
  const ours = lock !== undefined && lock.planName === plan;
  return {
    plan,
    startedAt: started.at,
    ...(ours && { pid: lock.pid }),
    starting: finished === undefined && ours && isOwnerAlive(lock, host),
    ...(finished && { finished }),
  };
}

/**
 * A rollout whose journal goes on past its first record (a hook ran, a stage began: traffic moved) and has no
 * ending, while its state.json is gone (moved aside, deleted): traffic may be on green, and only its journal says
 * where. `bluegreen rollback --plan FILE` puts it back on blue (journal-recovery.ts).
 */
export interface LostRecord {
  plan: string;
  blueModel?: string;
  greenModel?: string;
  startedAt: number;
  /** Its process, as its lock names it (absent when the lock is gone too). */
  pid?: number;
  /** Its process still runs (and holds the lock): its next write makes state.json again. */
  running: boolean;
  /** Its journal from its first line on. */
  events: RolloutEvent[];
}

/** The folder's rollout that moved traffic and lost its state.json, if any; call only when state.json is missing. */
export function lostRecord(store: StateStore, options: { host?: string; self?: number } = {}): LostRecord | undefined {
  const latest = latestRollout(store);
  if (latest === undefined) return undefined;
  const { started, after, plan } = latest;
  if (!after.some((event) => !BEFORE_FIRST_RECORD.has(event.type))) return undefined;
  if (after.some((event) => event.type === 'finished')) return undefined;
  const models = /started: (.*) \(blue\) -> (.*) \(green\),/.exec(started.message);
  const lock = readLock(store.dir);
  const ours = lock !== undefined && lock.planName === plan && lock.pid !== options.self;
  return {
    plan,
    ...(models && { blueModel: models[1], greenModel: models[2] }),
    startedAt: started.at,
    ...(ours && { pid: lock.pid }),
    running: ours && isOwnerAlive(lock, options.host ?? os.hostname()),
    events: [started, ...after],
  };
}

/** The sentence `status`, `rollback` and `rollout` say of it. */
export function lostRecordText(lost: LostRecord, dir: string): string {
  const last = lost.events.findLast((event) => typeof event.greenWeight === 'number');
  const where = last === undefined ? '' : ` (its journal's last line: stage ${(last.stage ?? 0) + 1}, green ${formatWeight(last.greenWeight ?? 0)})`;
  const which = `the rollout of plan "${lost.plan}"${lost.pid === undefined ? '' : ` (pid ${lost.pid})`} started at ${new Date(lost.startedAt).toISOString()}`;
  if (lost.running) return `${which} is running, but its state.json in ${dir} is gone (moved or deleted); its next write makes it again`;
  return `${which} moved traffic${where} and its state.json in ${dir} is gone (moved or deleted) with no ending in its journal: traffic may be on green`;
}

/** The sentence `status` and `rollback` say of it. */
export function unrecordedText(rollout: UnrecordedRollout): string {
  const which = `the rollout of plan "${rollout.plan}"${rollout.pid === undefined ? '' : ` (pid ${rollout.pid})`} started at ${new Date(rollout.startedAt).toISOString()}`;
  if (rollout.finished) return `${which} ended before its first record: ${rollout.finished.message}`;
  if (rollout.starting) return `${which} is starting: its first record (state.json) is not written yet`;
  return `${which} and died before its first record; nothing moved: traffic is on blue`;
}

/** What `status` (on stderr) and the control commands (refusing, exit 5) say of a dead rollout whose record is lost. */
export function lostRecordAdvice(lost: LostRecord, dir: string): string {
  return `${lostRecordText(lost, dir)}: run bluegreen rollback --state-dir ${dir} --plan FILE with its plan to put it back on blue`;
}

/** What `status` (on stderr) and the control commands (refusing, exit 5) say of one that died before its first record. */
export function unrecordedAdvice(rollout: UnrecordedRollout): string {
  return `${unrecordedText(rollout)}: run bluegreen rollback to mark it ended`;
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
