// The live traffic section of `status` and the dashboard, as lines: each proxy's route, lease and health, and
// per stage the live figures apart from the generated ones (judged total minus live). Plain functions.
import { formatDuration } from '../core/format.js';
import type { StageStats } from '../metrics/types.js';
import type { LiveView, ProxyView } from '../live/fleet.js';
import { describeSplit, ROUTE_FILE, type Route } from '../proxy/route.js';

/**
 * A route's lease as of `now`: time left, or run out (the proxy serves blue then, whatever weights it shows).
 * 'no lease' for a promotion or a route without one.
 */
function leaseWords(route: Pick<ProxyView, 'promotedArm' | 'leaseExpiresAt'>, now: number): string {
  if (route.promotedArm || route.leaseExpiresAt === undefined) return 'no lease';
  return route.leaseExpiresAt > now
    ? `lease ${formatDuration(route.leaseExpiresAt - now)} left`
    : `lease ran out ${formatDuration(now - route.leaseExpiresAt)} ago (on blue)`;
}

/**
 * One proxy: `answering  URL  green 10%, mirror 0%, lease 3.8s left` (NOT ANSWERING for 2s when silent, REFUSING its
 * route). `lastRead`: the rollout no longer reads its proxies (it ended, or died) and this is its last reading, then:
 * said in the past, with its age (`answered 5m00s ago`), not as a proxy answering now.
 */
export function proxyLine(proxy: ProxyView, now: number, lastRead?: number): string {
  const health = lastRead === undefined ? healthNow(proxy, now) : healthThen(proxy, lastRead, now);
  const missed = proxy.missed ? `, ${proxy.missed} results missed` : '';
  // Health first: on a narrow terminal the end of the line is what gets cut, and a long URL pushed it off.
  return `${health}  ${proxy.url}  ${describeSplit(proxy)}, ${leaseWords(proxy, now)}${missed}`;
}

function healthNow(proxy: ProxyView, now: number): string {
  if (!proxy.reachable) return `NOT ANSWERING${proxy.unreachableSince !== undefined ? ` for ${formatDuration(now - proxy.unreachableSince)}` : ''}`;
  return proxy.refused === undefined ? 'answering' : 'REFUSING';
}

/** The health a proxy's last reading showed, `lastRead` (ms) ago as of `now`. */
function healthThen(proxy: ProxyView, lastRead: number, now: number): string {
  const ago = `${formatDuration(Math.max(0, now - lastRead))} ago`;
  if (!proxy.reachable)
    return `did NOT ANSWER ${ago}${proxy.unreachableSince !== undefined ? ` (silent for ${formatDuration(lastRead - proxy.unreachableSince)} then)` : ''}`;
  return `${proxy.refused === undefined ? 'answered' : 'REFUSED'} ${ago}`;
}

/**
 * On a line of its own under the proxy (the error is long): why it does not answer, or, answering, why it refused
 * this rollout's route or could not save the route it took (its state folder full or read-only: a restart would not
 * serve it); else undefined.
 */
export function proxyErrorLine(proxy: ProxyView): string | undefined {
  if (!proxy.reachable) return proxy.error ? `    last error: ${proxy.error}` : undefined;
  if (proxy.refused !== undefined) return `    refused this rollout's route: ${proxy.refused}`;
  return proxy.unsaved === undefined ? undefined : `    route taken, not saved there: ${proxy.unsaved}`;
}

/**
 * A proxy's own route file (same state folder): what it serves now and why, in its words, and its lease. A lease
 * run out in the file (its proxy stopped before it could write blue) is said so: its weights are no longer served.
 */
export function proxyRouteLine(route: Route, now: number): string {
  const lease = route.leaseExpiresAt !== undefined && !route.promotedArm ? `, ${leaseWords(route, now)}` : '';
  return `this folder's proxy (${ROUTE_FILE}): ${describeSplit(route)}${lease}${route.reason ? `, ${route.reason}` : ''} (since ${new Date(route.updatedAt).toISOString()})`;
}

export interface LiveStageRow {
  stage: number;
  liveBlue: number;
  liveGreen: number;
  liveGreenFailures: number;
  fallbacks: number;
  mirrors: number;
  /** Both arms' neutral results (docs/proxy.md, "Neutral results"): served, in no judged figure. */
  neutral: number;
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
      neutral: (live.arms.blue.neutral ?? 0) + (live.arms.green.neutral ?? 0),
      // Blue's live count includes its answers to fallbacks, which the judged figures leave out (live-source.ts).
      generatedBlue: Math.max(0, (stage?.arms.blue.requests ?? 0) - (live.arms.blue.requests - live.fallbacks)),
      generatedGreen: Math.max(0, (stage?.arms.green.requests ?? 0) - live.arms.green.requests),
    };
  });
}

/** How a proxy reads at a glance: bad when it does not answer or refuses this rollout's route, warn when it is on blue by its lease, lost results or did not save its route. */
export function proxyHealth(proxy: ProxyView, now: number): 'ok' | 'warn' | 'bad' {
  if (!proxy.reachable || proxy.refused !== undefined) return 'bad';
  const leaseRanOut = !proxy.promotedArm && proxy.leaseExpiresAt !== undefined && proxy.leaseExpiresAt <= now && proxy.greenWeight + proxy.mirror > 0;
  return leaseRanOut || (proxy.missed ?? 0) > 0 || proxy.unsaved !== undefined ? 'warn' : 'ok';
}

/**
 * "live traffic (2 proxies, lease 5s, read 300ms ago):". Read from live.json (`status`, `status --watch`: it has
 * updatedAt), the figures are as of the rollout's last poll of its proxies, a few times a second, where the stage
 * table's are as of its last state.json save (once a second): each says its age, or the live figures ahead of the
 * table read as contradicting it. The rollout's own dashboard reads both as they are now, and says no age.
 */
export function liveTitle(view: LiveView & { updatedAt?: number }, now: number): string {
  const age = view.updatedAt === undefined ? '' : `, read ${formatDuration(Math.max(0, now - view.updatedAt))} ago`;
  return `live traffic (${view.proxies.length} ${view.proxies.length === 1 ? 'proxy' : 'proxies'}, lease ${formatDuration(view.leaseMs)}${age}):`;
}

const LIVE_COLUMNS: [string, number][] = [
  ['stage', 5],
  // Blue's live count includes its answers to green's fallbacks, which the stage table's (judged) blue leaves
  // out: headed "blue" it read as contradicting it (16 here, 12 there, in the demo's rollback at 60 columns).
  ['blue+fb', 7],
  ['green', 6],
  ['green err', 9],
  ['fallbacks', 9],
  ['mirrors', 7],
];
const NEUTRAL_COLUMNS: [string, number][] = [['neutral', 7]];
const GENERATED_COLUMNS: [string, number][] = [
  ['gen blue', 8],
  ['gen green', 9],
];

/**
 * The per-stage table under the proxies (fits 80 columns): the live requests per arm (blue's with the fallbacks
 * it answered, "blue+fb"), green's live failures, fallbacks and mirror copies; the neutral results once there are any
 * (in neither arm's columns); and, when the rollout also generates traffic, the generated requests per arm.
 */
export function liveTableLines(rows: readonly LiveStageRow[], withGenerated: boolean): string[] {
  const withNeutral = rows.some((row) => row.neutral > 0);
  const columns = [...LIVE_COLUMNS, ...(withNeutral ? NEUTRAL_COLUMNS : []), ...(withGenerated ? GENERATED_COLUMNS : [])];
  const line = (cells: (string | number)[]) => `  ${cells.map((cell, i) => String(cell).padStart(columns[i]?.[1] ?? 0)).join('  ')}`;
  return [
    line(columns.map(([name]) => name)),
    ...rows.map((row) =>
      line([
        row.stage + 1,
        row.liveBlue,
        row.liveGreen,
        row.liveGreenFailures,
        row.fallbacks,
        row.mirrors,
        ...(withNeutral ? [row.neutral] : []),
        ...(withGenerated ? [row.generatedBlue, row.generatedGreen] : []),
      ]),
    ),
  ];
}

/** Whether the generated columns are shown: only when the rollout sends its own traffic too. */
export function showsGenerated(view: LiveView): boolean {
  return view.generatedTraffic === true;
}

/**
 * `stopped`: the rollout no longer reads its proxies (ended, or its process died): each proxy's line is its last
 * reading's, said with its age (proxyLine), not in the present.
 */
export function liveLines(view: LiveView & { updatedAt?: number }, judged: readonly StageStats[], now: number, stopped = false): string[] {
  const lines = [liveTitle(view, now)];
  const lastRead = stopped ? view.updatedAt : undefined;
  for (const proxy of view.proxies) {
    lines.push(`  ${proxyLine(proxy, now, lastRead)}`);
    const error = proxyErrorLine(proxy);
    if (error) lines.push(error);
  }
  const rows = liveStageRows(view, judged);
  if (rows.length > 0) lines.push(...liveTableLines(rows, showsGenerated(view)));
  return lines;
}
