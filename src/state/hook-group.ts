// Whether the process group a hook record names is still that hook: a pgid outlives its hook and may be given to
// another process since (a reboot, a long wait), which a recovery must not signal and status must not call running.
import { readFileSync } from 'node:fs';
import { readProcStat } from '../core/proc-stat.js';
import { signalPgid } from '../hooks/process-group.js';

/** What a hook record (hook-record.ts) says of the group: its id, its leader's start time, and the plan. */
export interface RecordedGroup {
  pgid: number;
  /** Absent in records before session 24. */
  pgidStart?: string;
  plan: string;
}

/**
 * Whether the record's group is still our hook: its leader started when the record says (Linux) and its environment
 * names the plan where it can be read. 'unverified': a record from before session 24 (no start time) whose leader's
 * environment cannot be read (another user's process given the pgid since, say): not taken for ours.
 */
export function hookGroup(record: RecordedGroup): 'ours' | 'not ours' | 'unverified' {
  if (!signalPgid(record.pgid, 0)) return 'not ours';
  const leader = readProcStat(record.pgid);
  const recordedStart = typeof record.pgidStart === 'string' ? record.pgidStart : undefined;
  if (leader !== undefined && recordedStart !== undefined && leader.startTime !== recordedStart) return 'not ours';
  let environ: string;
  try {
    environ = readFileSync(`/proc/${record.pgid}/environ`, 'utf8');
  } catch {
    // The leader (the hook's shell) may be gone while its children run on, or there is no /proc: the record stands.
    // A leader that runs, its environment unreadable, is ours only when its start time says so.
    return leader === undefined || recordedStart !== undefined ? 'ours' : 'unverified';
  }
  return environ.split('\0').includes(`BLUEGREEN_PLAN=${record.plan}`) ? 'ours' : 'not ours';
}

/** `running` as status says it: unknown (left out) when the group cannot be shown to be the hook's. */
export function groupRunning(record: RecordedGroup): { running?: boolean } {
  const group = hookGroup(record);
  return group === 'unverified' ? {} : { running: group === 'ours' };
}
