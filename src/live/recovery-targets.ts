// Which proxies a dead live rollout's recovery tells to serve blue: the ones the dead run drove, as its record kept
// them, and the ones its plan lists now. The plan's admin_urls may have been edited since the run started (a proxy
// moved, one dropped): a proxy the dead run drove and the plan no longer lists would otherwise stay on green.
import type { RolloutSnapshot } from '../engine/types.js';
import { UsageError } from '../core/exit.js';
import type { Plan } from '../plan/plan.js';
import { liveTargets } from './controller.js';
import { readLiveFile, type LiveFile } from './live-file.js';
import { liveResumeOf } from './resume-record.js';

export interface RecoveryTargets {
  /** The dead run's recorded proxies first, then the plan's others. */
  urls: string[];
  token: string;
  /** Where the lists differ, which proxy came from where; undefined when they are the same. */
  note?: string;
}

/** An admin URL as compared: without trailing slashes. */
export const sameUrl = (url: string): string => url.replace(/\/+$/, '');

/**
 * The admin URLs the dead run drove: state.json's liveResume (taken with every snapshot), else, for a record from
 * before it kept them, live.json when that file is this run's (written since it started).
 */
export function recordedProxies(stateDir: string, snapshot: RolloutSnapshot): string[] {
  const kept = liveResumeOf(snapshot)?.proxies;
  if (kept !== undefined) return kept;
  return (deadRunLive(stateDir, snapshot)?.proxies ?? []).map((proxy) => proxy.url).filter((url): url is string => typeof url === 'string' && url !== '');
}

/**
 * Each proxy's last lease as the dead run saw it (live.json, when that file is this run's), by admin URL as
 * recoveryTargets gives it: what a proxy the recovery cannot reach serves blue by, and since when.
 */
export function recordedLeases(stateDir: string, snapshot: RolloutSnapshot): Map<string, number> {
  const leases = new Map<string, number>();
  for (const proxy of deadRunLive(stateDir, snapshot)?.proxies ?? [])
    if (typeof proxy.url === 'string' && typeof proxy.leaseExpiresAt === 'number') leases.set(sameUrl(proxy.url), proxy.leaseExpiresAt);
  return leases;
}

/** live.json when the dead run wrote it (since it started), not an older run's. */
function deadRunLive(stateDir: string, snapshot: RolloutSnapshot): LiveFile | undefined {
  const live = readLiveFile(stateDir);
  return live !== undefined && live.updatedAt >= snapshot.startedAt ? live : undefined;
}

/**
 * The union of `recorded` and the plan's proxies, with the admin token. A token not set is the UsageError
 * liveTargets gives; a plan naming no proxy (no admin_urls, no proxy.json) is one only when nothing was recorded.
 */
export function recoveryTargets(plan: Plan, stateDir: string, env: NodeJS.ProcessEnv, recorded: readonly string[]): RecoveryTargets {
  let planned: string[] = [];
  let token: string;
  try {
    ({ urls: planned, token } = liveTargets(plan, stateDir, env));
  } catch (error) {
    if (error instanceof UsageError || recorded.length === 0) throw error;
    // No proxy named by the plan or the folder now: the recorded ones are told (the token was found first).
    token = env[plan.proxy?.admin?.token_env ?? ''] as string;
  }
  const recordedSet = new Set(recorded.map(sameUrl));
  const plannedSet = new Set(planned.map(sameUrl));
  const urls = [...new Set([...recorded, ...planned].map(sameUrl))];
  const onlyRecorded = [...recordedSet].filter((url) => !plannedSet.has(url));
  const onlyPlanned = [...plannedSet].filter((url) => !recordedSet.has(url));
  if (recorded.length === 0 || (onlyRecorded.length === 0 && onlyPlanned.length === 0)) return { urls, token };
  const parts = [
    onlyRecorded.length > 0 && `${onlyRecorded.join(', ')} (driven by the rollout that died, as its state records, and not listed by ${plan.source.file} now)`,
    onlyPlanned.length > 0 && `${onlyPlanned.join(', ')} (listed by ${plan.source.file} now, not driven by the rollout that died)`,
  ].filter((part): part is string => typeof part === 'string');
  return { urls, token, note: `the proxies to put back on blue differ from the plan's: ${parts.join('; ')}; each of them is asked` };
}
