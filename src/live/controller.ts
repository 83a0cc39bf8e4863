// Everything a rollout needs to drive live traffic, from the plan's `proxy` block: the proxies (admin URLs from
// the plan, or the one the state folder names), the admin token, the actuator, the live source and the
// live.json view `status` reads. Checked before the rollout starts: a proxy it cannot reach is a preflight failure.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../core/clock.js';
import { CliError, EXIT } from '../core/exit.js';
import { comparesWithBlue } from '../plan/judging-odds.js';
import type { Plan } from '../plan/plan.js';
import { proxyBlockOf } from '../plan/proxy-schema.js';
import { PROXY_INFO_FILE, readProxyInfo, type ProxyInfo } from '../proxy/discovery.js';
import { writeFileAtomicAsync } from '../state/files.js';
import { hookRecorder } from '../state/hook-record.js';
import { thisProcess } from '../core/proc-stat.js';
import type { TrafficSourceFactory } from '../engine/traffic-source.js';
import { ProxyFleet, type LiveView } from './fleet.js';
import { liveTraffic } from './live-source.js';
import { ProxyActuator } from './proxy-actuator.js';
import type { ProxyRoute } from './promoted.js';
import type { LiveResume } from './resume-record.js';
import { readRoutes, servedPlan } from './routes.js';

import { LIVE_VIEW_FILE } from './live-file.js';
import { adminToken } from './admin-token.js';

export { LIVE_VIEW_FILE };

export interface LiveControl {
  fleet: ProxyFleet;
  actuator: ProxyActuator;
  source: TrafficSourceFactory;
  /** Also run the plan's generated traffic (judged with the live results, reported apart). */
  generated: boolean;
  /** Each proxy's route as read at the preflight, before this rollout moved anything. */
  routes: ProxyRoute[];
  view(): LiveView;
  close(): Promise<void>;
}

export interface LiveControlOptions {
  plan: Plan;
  stateDir: string;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** `rollout --resume`: what the dead run's state.json kept of its proxies' feeds (resume-record.ts). */
  resumed?: LiveResume;
  /** Who runs this rollout and where, kept with its routes: another rollout refused by a proxy is told whose it is. */
  by?: string;
}

/** The admin URLs to drive and the token, or a clear error saying what is missing. */
export function liveTargets(plan: Plan, stateDir: string, env: NodeJS.ProcessEnv): { urls: string[]; token: string } {
  const block = proxyBlockOf(plan);
  const token = adminToken(plan, env);
  const urls = block.controller.admin_urls ?? [];
  if (urls.length > 0) return { urls, token };
  const info = readProxyInfo(stateDir);
  if (!info?.adminUrl) throw new CliError(`no proxy to drive: ${noProxyWhy(stateDir, info)}`, EXIT.preflight);
  return { urls: [info.adminUrl], token };
}

/**
 * Why the state folder names no proxy to drive. Most often none was started there: a newcomer's proxy not started
 * yet, or started on another --state-dir (the default .bluegreen beside a rollout's own folder).
 */
function noProxyWhy(stateDir: string, info: ProxyInfo | undefined): string {
  const file = path.join(stateDir, PROXY_INFO_FILE);
  const start = `start \`bluegreen proxy PLAN --state-dir ${stateDir}\` first (the rollout's --state-dir), or list proxy.controller.admin_urls`;
  if (info !== undefined)
    return `the proxy on the state folder ${stateDir} (pid ${info.pid}, ${info.url}) has no admin API (its plan has no proxy.admin): restart it on this plan, or list proxy.controller.admin_urls`;
  if (!existsSync(file)) return `no bluegreen proxy was started on the state folder ${stateDir} (no ${PROXY_INFO_FILE}, which a proxy writes there); ${start}`;
  return `${file} names no proxy (it could not be read); ${start}`;
}

export async function openLiveControl(options: LiveControlOptions): Promise<LiveControl> {
  const { plan, stateDir, clock } = options;
  const block = proxyBlockOf(plan);
  const { urls, token } = liveTargets(plan, stateDir, options.env);
  const fleet = new ProxyFleet(urls, token, clock, block.controller.lease, block.controller.poll_interval, options.resumed, options.by);
  // Every proxy must answer (and accept the token), and serve this plan, before any traffic moves.
  let routes: ProxyRoute[];
  try {
    routes = await readRoutes(
      fleet.proxies.map((proxy) => proxy.client),
      servedPlan(plan),
      options.resumed?.controllers,
    );
  } catch (error) {
    await fleet.close();
    throw error;
  }
  // Until this rollout sets a route, each proxy's view is the route it answered with (a promotion, say).
  fleet.proxies.forEach((proxy, index) => {
    const route = routes[index]?.route;
    if (!route) return;
    Object.assign(proxy.view, { greenWeight: route.greenWeight, mirror: route.mirror, promotedArm: route.promotedArm });
    proxy.found = route;
  });
  const generated = block.controller.generated_traffic;
  const view = (): LiveView => ({ ...fleet.view(), generatedTraffic: generated });
  let writing: Promise<void> | undefined;
  const file = path.join(stateDir, LIVE_VIEW_FILE);
  const save = (): void => {
    if (writing) return;
    writing = writeFileAtomicAsync(file, `${JSON.stringify({ updatedAt: clock.now(), ...view() }, null, 2)}\n`)
      .catch(() => undefined)
      .finally(() => (writing = undefined));
  };
  // Each move of the proxies is in hook.json while under way, as a hook's run is: a kill -9 half way is known.
  const self = thisProcess();
  const actuator = new ProxyActuator(plan, fleet, clock, (move) => {
    const record = hookRecorder(stateDir, { plan: plan.name, ...move, ...self, by: 'proxies' });
    record.begin();
    return () => record.finished();
  });
  return {
    fleet,
    actuator,
    // A restarted proxy gets its route (and stage number) back at once, not at the next renewal.
    source: liveTraffic({
      fleet,
      clock,
      stageCount: plan.stages.length,
      comparesWithBlue: comparesWithBlue(plan),
      onPoll: save,
      onRestart: () => actuator.renewNow(),
    }),
    generated,
    routes,
    view,
    close: async () => {
      await writing;
      await writeFileAtomicAsync(file, `${JSON.stringify({ updatedAt: clock.now(), ...view() }, null, 2)}\n`).catch(() => undefined);
      await fleet.close();
    },
  };
}
