// Whether a dead live rollout's traffic is known to be back on blue by the proxies' leases, from what `status` reads
// now: the folder's proxy's route file, written by the proxy itself. Only a run that drove that one proxy alone, and
// only while that proxy runs; anything else (another proxy, a dead or unknown one, a route on green) is not known.
// Nor is a route file older than the dead run's last route there (live.json): the proxy's write of that route
// failed (a full disk, a file made read-only), so the file's lapse is of an earlier lease, and the route in force
// is one the file never saw. And only a lapse the proxy wrote itself (its lease-expired route): a running proxy writes
// it as its lease runs out, so a file still holding a lease that ran out is one whose lapse it could not write, or
// whose lease a renewal it could not save still runs in memory (that renewal's write failed, and the run died before
// live.json recorded it: the file is no older than the run's last record, and proves nothing). Nor, whatever the file
// says, when live.json records that the proxy took the run's last route there without saving it (a renewal that came
// after the proxy wrote its lapse, say).
import type { RolloutSnapshot } from '../engine/types.js';
import { isProcessAlive } from '../core/proc-stat.js';
import { readProxyInfo } from '../proxy/discovery.js';
import { LEASE_EXPIRED, type Route } from '../proxy/route.js';
import { readLiveFile, readProxyRoute } from './live-file.js';
import { recordedProxies, recordedRouteSetAt, recordedUnsaved, sameUrl } from './recorded-proxies.js';

/**
 * True when every proxy the dead run drove is the folder's running proxy, on blue by its lease in `route` (read now:
 * the lapse it wrote), and `route` was written no earlier than the run's last route there as it recorded it (live.json).
 */
export function proxiesBackByLease(stateDir: string, snapshot: RolloutSnapshot, route: Route | undefined): boolean {
  if (route === undefined || route.promotedArm !== undefined) return false;
  if (route.reason !== LEASE_EXPIRED || route.greenWeight !== 0 || route.mirror !== 0) return false;
  const proxy = readProxyInfo(stateDir);
  if (proxy?.adminUrl === undefined || !isProcessAlive(proxy)) return false;
  const driven = recordedProxies(stateDir, snapshot);
  if (driven.length === 0 || !driven.every((url) => sameUrl(url) === sameUrl(proxy.adminUrl!))) return false;
  // The file's route (stamped by the proxy's clock when set or lapsed) at or after the run's last recorded route.
  // A route it took and could not save, as the run recorded it: the file says less than the proxy serves.
  if (recordedUnsaved(stateDir, snapshot, proxy.adminUrl)) return false;
  const lastSet = recordedRouteSetAt(stateDir, snapshot, proxy.adminUrl);
  return lastSet !== undefined && route.updatedAt >= lastSet;
}

/**
 * proxiesBackByLease with the folder's files read now: live.json (only when it is this rollout's) and the proxy's
 * route file. One reading for every command that speaks of a dead run's traffic (status, rollback, a new rollout,
 * pause and the rest), so none says "may not be on blue" where another says the proxies are back on blue.
 */
export function proxiesBackByLeaseNow(stateDir: string, snapshot: RolloutSnapshot): boolean {
  const live = readLiveFile(stateDir);
  if (live === undefined || live.updatedAt < snapshot.startedAt) return false;
  return proxiesBackByLease(stateDir, snapshot, readProxyRoute(stateDir));
}
