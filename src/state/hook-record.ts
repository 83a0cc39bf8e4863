// The running hook, written to the state folder while it runs (hook.json): which hook, the stage and weight it
// is setting, and an exec hook's process group. A hook outlives a kill -9 of bluegreen (it leads its own group)
// and must not finish after `bluegreen rollback` and move traffic back to green: recovery stops the group first.
// And state.json takes a stage's weight only once its on_stage hook succeeded, so after a kill -9 during that
// hook the record is what says the weight may already be the new one (`status`, the orphan message). A live
// rollout's moves of its proxies (a stage's route, the ending's) are recorded the same way (`by: proxies`, no group).
import { rmSync } from 'node:fs';
import { readRegularFile } from '../core/read-regular-file.js';
import path from 'node:path';
import { processStartTime, sameProcess, type ProcessIdentity } from '../core/proc-stat.js';
import { groupGone, HOOK_KILL_GRACE_MS, signalPgid } from '../hooks/process-group.js';
import type { HookEventName } from '../hooks/types.js';
import { HOOK_FILE, replaceFileSync } from './files.js';
import { describeRecovery } from './hook-words.js';
import { groupRunning, hookGroup } from './hook-group.js';

const EVENTS: readonly HookEventName[] = ['stage', 'rollback', 'abort', 'promote'];

/**
 * The `hook` of a record and of what is read back from it: the plan's hook by its key ("on_stage"). A record names
 * the hook that ran (records before session 15 do not); what is read back (RecoveryHook, HookInFlight) names it
 * only when it stood in for the event's own ("on_stage" at 0% for a plan without on_rollback: hooks/ending-hook.ts),
 * the one case status and messages say which hook ran.
 */
type PlanHookKey = string;

interface HookRecord {
  /** An exec hook's process group, once spawned; a webhook has none. */
  pgid?: number;
  /** The group leader's start time (processStartTime): a pgid given to another process since is not taken for it. Absent before session 24. */
  pgidStart?: string;
  plan: string;
  event: string;
  /** The rollout's pid, and the call's one-based stage and the weight it sets: absent in records before session 10. */
  pid?: number;
  /** The pid's start time (processStartTime): a pid given to another process since is not taken for it. Absent before session 22. */
  pidStart?: string;
  /** The boot it ran in (bootId()): a record from another boot names no process now. Absent before session 23. */
  bootId?: string;
  stage?: number;
  greenWeight?: number;
  /** Set when the move is the proxies' routes, not a hook. */
  by?: 'proxies';
  /** Set when a recovery ran it (`bluegreen rollback`, or a new rollout putting a dead one back on blue): which. */
  recovery?: string;
  hook?: PlanHookKey;
  /** Its group no longer runs: a recovery stopped it (or found it ended), and kept the record for `status`. */
  stopped?: true;
  /**
   * A recovery's record: the dead rollout's record it was written over, put back when the recovery's hook ends, so
   * what the rollout was doing when it died is still said if the recovery fails (or is killed in turn).
   */
  died?: HookRecord;
}

/** The rollback hook a recovery of the folder's dead rollout ran (a `bluegreen rollback` killed in turn, say). */
export interface RecoveryHook {
  /** The recovery's process, not the rollout's. */
  pid: number;
  /** Its start time and boot, when the record has them (isProcessAlive). */
  pidStart?: string;
  bootId?: string;
  /** "bluegreen rollback" or "bluegreen rollout" (records before session 14 do not say). */
  command?: string;
  hook?: PlanHookKey;
  /** An exec hook's group still runs (true) or is gone (false); unknown for a webhook. */
  running?: boolean;
}

/** A hook the rollout in the folder was running (still, or when it died), as far as its record says. */
export interface HookInFlight {
  event: HookEventName;
  /** One-based, as the hook was told. */
  stage: number;
  greenWeight: number;
  /** An exec hook's group still runs (true) or is gone (false); unknown for a webhook and the proxies. */
  running?: boolean;
  /** The proxies' routes were being set (a live rollout), not a hook run. */
  by?: 'proxies';
  hook?: PlanHookKey;
}

export function hookRecorder(
  dir: string,
  call: {
    plan: string;
    event: HookEventName;
    stage: number;
    greenWeight: number;
    /** The process running it (thisProcess()): its pid, and its start time and boot where known. */
    pid: number;
    pidStart?: string;
    bootId?: string;
    by?: 'proxies';
    recovery?: string;
    hook?: PlanHookKey;
  },
): { begin(): void; started(pgid: number): void; finished(): void } {
  const file = path.join(dir, HOOK_FILE);
  const { plan, event, stage, greenWeight, pid, pidStart, bootId, by, recovery, hook } = call;
  // A recovery writes over the dead rollout's record (stopOrphanHook kept it): carried inside its own, and put back
  // when its hook ends, until the recovery has finished (clearHookRecord).
  let died: HookRecord | undefined;
  // No fsync: the hook's command waits for it (the gate in src/hooks/exec.ts), and it only has to survive a killed
  // process (the page cache does), not a power cut. Through a temp file: a full disk keeps the record there whole (a
  // recovery's copy of the dead run's record, say), where an in-place write left it empty. Never thrown: the record
  // only helps a recovery, and a hook it kept from running (a full disk) could leave traffic on green.
  let written = '';
  const write = (pgid?: number) =>
    bestEffort(() => {
      const pgidStart = pgid === undefined ? undefined : processStartTime(pgid);
      const text = `${JSON.stringify({ pgid, pgidStart, plan, event, pid, pidStart, bootId, stage, greenWeight, by, recovery, hook, died } satisfies HookRecord)}\n`;
      replaceFileSync(file, text);
      // Only once in the file: a record that failed to save (a full disk) must not stand for the one still there.
      written = text;
    });
  const begin = () => {
    if (recovery !== undefined) died = deadRunsRecord(readRecord(dir), plan, { pid, pidStart, bootId });
    write();
  };
  // Removed only while it still holds this call's record: an ending's move recorded while a slow stage move was
  // still under way must outlive that stage move's end (review11).
  const finished = () =>
    bestEffort(() => {
      if (readRegularFile(file, MAX_RECORD_BYTES).toString('utf8') !== written) return;
      if (died === undefined) rmSync(file, { force: true });
      else replaceFileSync(file, `${JSON.stringify(died)}\n`);
    });
  return { begin, started: (pgid) => write(pgid), finished };
}

/** The record a recovery (process `self`) writes over, when it is the dead rollout's of the same plan, not another recovery's. */
function deadRunsRecord(record: HookRecord | undefined, plan: string, self: ProcessIdentity): HookRecord | undefined {
  if (record === undefined || record.plan !== plan || writtenBy(record, self)) return undefined;
  return record.recovery === undefined ? record : validRecord(record.died);
}

/** Forgets the folder's hook record: its rollout was recovered (or resumed), so nothing in it is under way any more. */
export function clearHookRecord(dir: string): void {
  bestEffort(() => rmSync(path.join(dir, HOOK_FILE), { force: true }));
}

function bestEffort(work: () => void): void {
  try {
    work();
  } catch {
    // A full disk, or the file replaced by something that cannot be written: the hook runs all the same.
  }
}

/** A record is one JSON line; a named pipe or a device in its place is not read (it would block, or never end). */
const MAX_RECORD_BYTES = 64 * 1024;

function readRecord(dir: string): HookRecord | undefined {
  try {
    return validRecord(JSON.parse(readRegularFile(path.join(dir, HOOK_FILE), MAX_RECORD_BYTES).toString('utf8')));
  } catch {
    return undefined;
  }
}

function validRecord(record: unknown): HookRecord | undefined {
  return typeof record === 'object' && record !== null && !Array.isArray(record) ? (record as HookRecord) : undefined;
}

/** The plan's hook a record names ("on_stage"), if it names one as a plan does: it is printed. */
function hookOf(record: HookRecord): string | undefined {
  return typeof record.hook === 'string' && /^on_[a-z]{1,20}$/.test(record.hook) ? record.hook : undefined;
}

/** "on_stage" when that hook stood in for the event's own (on_rollback), else undefined. */
function standIn(record: HookRecord): string | undefined {
  const hook = hookOf(record);
  return hook !== undefined && hook !== `on_${record.event}` ? hook : undefined;
}

/**
 * Whether the record was written by the process `by` names: the same pid, and the same start time and boot where both say
 * (sameProcess), so a record of an earlier process given the same pid since (a reboot) is not taken for its own.
 */
function writtenBy(record: HookRecord, by: ProcessIdentity): boolean {
  if (!Number.isSafeInteger(record.pid)) return false;
  const { pidStart, bootId } = record;
  return sameProcess({ pid: record.pid as number, ...(typeof pidStart === 'string' && { pidStart }), ...(typeof bootId === 'string' && { bootId }) }, by);
}

function hasGroup(record: HookRecord): record is HookRecord & { pgid: number } {
  return Number.isSafeInteger(record.pgid) && (record.pgid as number) > 1;
}

/**
 * The hook the folder's rollout (this plan, this pid) is running or was running when it died; undefined when
 * none, or when the record is another rollout's, torn, or from before records named the stage and weight.
 */
export function readHookInFlight(dir: string, rollout: ProcessIdentity & { plan: { name: string; stages: readonly unknown[] } }): HookInFlight | undefined {
  const read = readRecord(dir);
  // A recovery's hook under way (or killed) carries the dead rollout's record inside its own.
  const record = read !== undefined && !writtenBy(read, rollout) && read.recovery !== undefined ? validRecord(read.died) : read;
  if (!record || record.plan !== rollout.plan.name || !writtenBy(record, rollout)) return undefined;
  const { event, stage, greenWeight } = record;
  if (!EVENTS.includes(event as HookEventName) || !Number.isSafeInteger(stage) || (stage as number) < 1 || (stage as number) > rollout.plan.stages.length)
    return undefined;
  if (typeof greenWeight !== 'number' || !(greenWeight >= 0 && greenWeight <= 1)) return undefined;
  return {
    event: event as HookEventName,
    stage: stage as number,
    greenWeight,
    ...(record.stopped === true ? { running: false } : hasGroup(record) && groupRunning(record)),
    ...(record.by === 'proxies' && { by: 'proxies' as const }),
    ...(standIn(record) !== undefined && { hook: standIn(record) }),
  };
}

/**
 * The rollback hook another process ran for the folder's dead rollout (its recovery: readHookInFlight leaves such a
 * record out, it is not the rollout's), or undefined. A recovery killed while it ran leaves it, maybe still running.
 */
export function readRecoveryHook(dir: string, rollout: ProcessIdentity & { plan: { name: string } }): RecoveryHook | undefined {
  const record = readRecord(dir);
  if (!record || record.plan !== rollout.plan.name || record.event !== 'rollback') return undefined;
  if (!Number.isSafeInteger(record.pid) || writtenBy(record, rollout)) return undefined;
  return {
    pid: record.pid as number,
    ...(typeof record.pidStart === 'string' && { pidStart: record.pidStart }),
    ...(typeof record.bootId === 'string' && { bootId: record.bootId }),
    ...(typeof record.recovery === 'string' && { command: record.recovery.slice(0, 40) }),
    ...(standIn(record) !== undefined && { hook: standIn(record) }),
    ...(hasGroup(record) && groupRunning(record)),
  };
}

/**
 * Stops a hook a dead rollout (or a killed recovery of it) left running; says what it did and whose it was, or
 * undefined when there was nothing to stop. `graceMs`: between SIGTERM and SIGKILL (tests shorten it).
 */
export async function stopOrphanHook(
  dir: string,
  rollout: ProcessIdentity & { plan: { name: string } },
  graceMs = HOOK_KILL_GRACE_MS,
): Promise<string | undefined> {
  const record = readRecord(dir);
  if (!record) return undefined;
  const file = path.join(dir, HOOK_FILE);
  // Another plan's record says nothing of this rollout.
  if (record.plan !== rollout.plan.name) {
    rmSync(file, { force: true });
    return undefined;
  }
  const group = hasGroup(record) ? hookGroup(record) : undefined;
  const said = !hasGroup(record)
    ? undefined
    : group === 'ours'
      ? await stopGroup(record, rollout, graceMs)
      : group === 'unverified'
        ? unverifiedGroup(record)
        : undefined;
  // Rewritten once the group is stopped (a recovery killed before that finds it again), and kept until the recovery
  // has finished (clearHookRecord): should it fail, status still says what the rollout was doing when it died.
  const kept = !writtenBy(record, rollout) && record.recovery !== undefined ? validRecord(record.died) : record;
  if (kept === undefined) rmSync(file, { force: true });
  else if (kept !== record || hasGroup(record)) bestEffort(() => replaceFileSync(file, `${JSON.stringify(stoppedRecord(kept))}\n`));
  return said;
}

/** Said of a group left alone: an old record cannot show it is still the hook (its leader's environment unreadable). */
function unverifiedGroup(record: HookRecord & { pgid: number }): string {
  const hook = hookOf(record) ?? `on_${record.event}`;
  return `left process group ${record.pgid} alone: hook.json, written before bluegreen recorded a hook's start time, cannot show it is still the ${hook} hook (its leader's /proc/${record.pgid}/environ cannot be read); if it is, stop it with: kill -TERM -${record.pgid}`;
}

/** The record with its group stopped: no group left to stop again (a pid reused since), said as ended. */
function stoppedRecord(record: HookRecord): HookRecord {
  if (!hasGroup(record)) return record;
  const { pgid: _stopped, ...rest } = record;
  return { ...rest, stopped: true };
}

/** SIGTERM to the record's group, SIGKILL after a grace; says what it stopped and whose it was. */
async function stopGroup(record: HookRecord & { pgid: number }, rollout: ProcessIdentity, graceMs: number): Promise<string> {
  signalPgid(record.pgid, 'SIGTERM');
  await groupGone(record.pgid, graceMs);
  // The record's pid says whose: the rollout's own, or a recovery's (a `bluegreen rollback` killed in turn).
  const whose =
    Number.isSafeInteger(record.pid) && !writtenBy(record, rollout)
      ? `${describeRecovery({ pid: record.pid as number, ...(typeof record.recovery === 'string' && { command: record.recovery.slice(0, 40) }) })} that was killed while it ran`
      : 'the dead rollout';
  return `stopped the ${hookOf(record) ?? `on_${record.event}`} hook (process group ${record.pgid}) left running by ${whose}`;
}
