// What a dead live rollout's record says it drove: its proxies' admin URLs and their last leases. Read by status
// (which loads no live controller, nor its HTTP client) as well as by the recoveries.
import type { RolloutSnapshot } from '../engine/types.js';
import { readLiveFile, type LiveFile } from './live-file.js';
import { liveResumeOf } from './resume-record.js';

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

/**
 * When the dead run last set the route of the proxy at `url` as it recorded it (live.json: that lease's end less
 * the lease's length, by the proxy's clock), or undefined when live.json is not this run's or names no lease there.
 */
export function recordedRouteSetAt(stateDir: string, snapshot: RolloutSnapshot, url: string): number | undefined {
  const live = deadRunLive(stateDir, snapshot);
  const proxy = live?.proxies.find((view) => typeof view.url === 'string' && sameUrl(view.url) === sameUrl(url));
  return live !== undefined && typeof proxy?.leaseExpiresAt === 'number' ? proxy.leaseExpiresAt - live.leaseMs : undefined;
}

/**
 * Whether the dead run recorded (live.json) that the proxy at `url` took its last route there without saving it: the
 * proxy's route file then says less than it serves.
 */
export function recordedUnsaved(stateDir: string, snapshot: RolloutSnapshot, url: string): boolean {
  const proxy = deadRunLive(stateDir, snapshot)?.proxies.find((view) => typeof view.url === 'string' && sameUrl(view.url) === sameUrl(url));
  return proxy?.unsaved !== undefined;
}

/** live.json when the dead run wrote it (since it started), not an older run's. */
function deadRunLive(stateDir: string, snapshot: RolloutSnapshot): LiveFile | undefined {
  const live = readLiveFile(stateDir);
  return live !== undefined && live.updatedAt >= snapshot.startedAt ? live : undefined;
}
