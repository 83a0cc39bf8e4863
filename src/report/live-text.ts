// The live traffic section of `status` and the dashboard, as lines: each proxy's route, lease and health, and
// per stage the live figures apart from the generated ones (judged total minus live). Plain functions.
import { formatDuration, formatPercent } from '../core/format.js';
import type { StageStats } from '../metrics/types.js';
import type { LiveView, ProxyView } from '../live/fleet.js';
import { ROUTE_FILE, type Route } from '../proxy/route.js';

export function proxyLine(proxy: ProxyView, now: number): string {
  const route = proxy.promotedArm ? `promoted ${proxy.promotedArm}` : `green ${formatPercent(proxy.greenWeight, 0)}, mirror ${formatPercent(proxy.mirror, 0)}`;
  const lease =
    proxy.promotedArm || proxy.leaseExpiresAt === undefined
      ? 'no lease'
      : proxy.leaseExpiresAt > now
        ? `lease ${formatDuration(proxy.leaseExpiresAt - now)} left`
        : `lease ran out ${formatDuration(now - proxy.leaseExpiresAt)} ago (on blue)`;
  const health = proxy.reachable
    ? 'answering'
    : `NOT ANSWERING${proxy.unreachableSince !== undefined ? ` for ${formatDuration(now - proxy.unreachableSince)}` : ''}: ${proxy.error ?? ''}`;
  const missed = proxy.missed ? `, ${proxy.missed} results missed` : '';
  return `${proxy.url}  ${route}, ${lease}, ${health}${missed}`;
}

/** A proxy's own route file (same state folder): what it serves now and why, in its words. */
export function proxyRouteLine(route: Route): string {
  const serving = route.promotedArm
    ? `promoted ${route.promotedArm}`
    : `green ${formatPercent(route.greenWeight, 0)}, mirror ${formatPercent(route.mirror, 0)}`;
  return `this folder's proxy (${ROUTE_FILE}): ${serving}${route.reason ? `, ${route.reason}` : ''} (since ${new Date(route.updatedAt).toISOString()})`;
}

export interface LiveStageRow {
  stage: number;
  liveBlue: number;
  liveGreen: number;
  liveGreenFailures: number;
  fallbacks: number;
  mirrors: number;
  generatedBlue: number;
  generatedGreen: number;
}

/** Per stage: live requests (summed over proxies) and generated ones (what the judge saw beyond the live). */
export function liveStageRows(view: LiveView, judged: readonly StageStats[]): LiveStageRow[] {
  return view.stages.map((live) => {
    const stage = judged[live.stage];
    return {
      stage: live.stage,
      liveBlue: live.arms.blue.requests,
      liveGreen: live.arms.green.requests,
      liveGreenFailures: live.arms.green.failures,
      fallbacks: live.fallbacks,
      mirrors: live.mirrors,
      generatedBlue: Math.max(0, (stage?.arms.blue.requests ?? 0) - live.arms.blue.requests),
      generatedGreen: Math.max(0, (stage?.arms.green.requests ?? 0) - live.arms.green.requests),
    };
  });
}

export function liveLines(view: LiveView, judged: readonly StageStats[], now: number): string[] {
  const lines = [`live traffic (${view.proxies.length} ${view.proxies.length === 1 ? 'proxy' : 'proxies'}, lease ${formatDuration(view.leaseMs)}):`];
  for (const proxy of view.proxies) lines.push(`  ${proxyLine(proxy, now)}`);
  const rows = liveStageRows(view, judged);
  if (rows.length > 0) {
    lines.push('  stage  live blue  live green  green failed  fallbacks  mirrors  generated blue  generated green');
    for (const row of rows) {
      lines.push(
        `  ${String(row.stage + 1).padStart(5)}  ${String(row.liveBlue).padStart(9)}  ${String(row.liveGreen).padStart(10)}  ${String(row.liveGreenFailures).padStart(12)}  ${String(row.fallbacks).padStart(9)}  ${String(row.mirrors).padStart(7)}  ${String(row.generatedBlue).padStart(14)}  ${String(row.generatedGreen).padStart(15)}`,
      );
    }
  }
  return lines;
}
