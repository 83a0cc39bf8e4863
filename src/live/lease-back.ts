// Whether a dead live rollout's traffic is known to be back on blue by the proxies' leases, from what `status` reads
// now: the folder's proxy's route file, written by the proxy itself. Only a run that drove that one proxy alone, and
// only while that proxy runs; anything else (another proxy, a dead or unknown one, a route on green) is not known.
// Nor is a route file older than the dead run's last route there (live.json): the proxy's write of that route
// failed (a full disk, a file made read-only), so the file's lapse is of an earlier lease, and the route in force
// is one the file never saw.
import type { RolloutSnapshot } from '../engine/types.js';
import { isProcessAlive } from '../core/proc-stat.js';
import { readProxyInfo } from '../proxy/discovery.js';
import { LEASE_EXPIRED, type Route } from '../proxy/route.js';
import { recordedProxies, recordedRouteSetAt, sameUrl } from './recorded-proxies.js';

/**
 * True when every proxy the dead run drove is the folder's running proxy, on blue by its lease in `route` (read now),
 * and `route` was written no earlier than the run's last route there as it recorded it (live.json).
 */
export function proxiesBackByLease(stateDir: string, snapshot: RolloutSnapshot, route: Route | undefined, now: number): boolean {
  if (route === undefined || route.promotedArm !== undefined) return false;
  const lapsed =
    route.reason === LEASE_EXPIRED ? route.greenWeight === 0 && route.mirror === 0 : route.leaseExpiresAt !== undefined && route.leaseExpiresAt <= now;
  if (!lapsed) return false;
  const proxy = readProxyInfo(stateDir);
  if (proxy?.adminUrl === undefined || !isProcessAlive(proxy)) return false;
  const driven = recordedProxies(stateDir, snapshot);
  if (driven.length === 0 || !driven.every((url) => sameUrl(url) === sameUrl(proxy.adminUrl!))) return false;
  // The file's route (stamped by the proxy's clock when set or lapsed) at or after the run's last recorded route.
  const lastSet = recordedRouteSetAt(stateDir, snapshot, proxy.adminUrl);
  return lastSet !== undefined && route.updatedAt >= lastSet;
}
