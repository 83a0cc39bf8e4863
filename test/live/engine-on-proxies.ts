// An engine driving real proxies through their admin API on the fake clock: no upstream of its own (the proxies
// hold the keys), the proxies as its actuator, the journal kept in memory. The fleet closes when the test ends.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { expect, onTestFinished } from 'vitest';
import type { EngineDeps } from '../../src/engine/deps.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { ProxyFleet } from '../../src/live/fleet.js';
import { ProxyActuator } from '../../src/live/proxy-actuator.js';
import { comparesWithBlue } from '../../src/plan/judging-odds.js';
import type { Plan } from '../../src/plan/plan.js';
import { RolloutEngine } from '../../src/engine/rollout.js';
import { liveTraffic } from '../../src/live/live-source.js';
import { MetricsRecorder } from '../../src/metrics/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import { openAiCompletion, runProxy, scriptedServer, UPSTREAM_KEY } from '../proxy/helpers.js';
import { quietEngineDeps } from '../engine/fake-deps.js';
import { ADMIN_TOKEN } from './helpers.js';
import { until } from '../helpers/until.js';

/** A fleet of the proxies at `adminUrls` on `clock`, which runClockUntil holds while an admin call to them is under way. */
export function fleetOf(adminUrls: string[], clock: FakeClock, leaseMs: number, pollMs: number): ProxyFleet {
  const fleet = new ProxyFleet(adminUrls, ADMIN_TOKEN, clock, leaseMs, pollMs);
  onTestFinished(() => fleet.close());
  clock.waitWhile(exchangesUnderWay(adminUrls));
  return fleet;
}

/**
 * The live source of a two-stage rollout in its first stage (green at 50%), reading the one proxy whose admin API is
 * at `adminUrl` (or each of several) from its feed's start (epoch e1), on a fake clock: what a stage's end reads,
 * without an engine.
 */
export function stageZeroLiveSource(adminUrl: string | readonly string[], warn: (message: string) => void = () => undefined) {
  const clock = new FakeClock();
  const fleet = fleetOf(typeof adminUrl === 'string' ? [adminUrl] : [...adminUrl], clock, 60_000, 250);
  const proxy = fleet.proxies[0] as (typeof fleet.proxies)[number];
  // As the stage's route set it: read from the feed's start.
  for (const each of fleet.proxies) {
    each.cursor = 0;
    each.epoch = 'e1';
  }
  const metrics = new MetricsRecorder({
    stages: [{ durationMs: 1000, greenWeight: 0.5 }],
    prices: { blue: undefined, green: undefined },
    now: () => clock.now(),
  });
  metrics.startStage(0);
  const source = liveTraffic({ fleet, clock, stageCount: 2 })({
    metrics,
    current: () => ({ stage: 0, greenWeight: 0.5 }),
    onGreenResult: () => undefined,
    warn,
    fail: (error) => {
      throw error;
    },
  });
  return { clock, metrics, source, proxy, fleet };
}

/**
 * Whether an HTTP exchange with any of `urls`' origins is under way, by undici's diagnostics channels (every undici
 * request publishes its creation, and its end or failure), from now until the test ends.
 */
function exchangesUnderWay(urls: string[]): () => boolean {
  const origins = new Set(urls.map((url) => new URL(url).origin));
  const open = new Set<object>();
  const created = (message: unknown): void => {
    const { request } = message as { request: { origin?: string | URL } };
    if (request.origin !== undefined && origins.has(new URL(String(request.origin)).origin)) open.add(request);
  };
  const ended = (message: unknown): void => void open.delete((message as { request: object }).request);
  subscribe('undici:request:create', created);
  subscribe('undici:request:trailers', ended);
  subscribe('undici:request:error', ended);
  onTestFinished(() => {
    unsubscribe('undici:request:create', created);
    unsubscribe('undici:request:trailers', ended);
    unsubscribe('undici:request:error', ended);
  });
  return () => open.size > 0;
}

/** `overrides` replace any part (hooks, sources); the journal goes to `journal`. */
export function engineOnProxies(plan: Plan, fleet: ProxyFleet, clock: FakeClock, journal: RolloutEvent[], overrides: Partial<EngineDeps> = {}): EngineDeps {
  return quietEngineDeps(plan, clock, journal, { actuators: [new ProxyActuator(plan, fleet, clock)], ...overrides });
}

/**
 * Runs the fake clock on whenever the rollout waits on it alone, until `done` settles; resolves to it. A rollback
 * tries a proxy that does not answer again (until its lease runs out, or a minute for one that may hold the
 * promotion): those retries wait on the clock. The clock moves only while no admin call to the fleet's proxies is
 * under way (fleetOf), and at most to the next timer (or `stepMs`) at a time: a poll of a proxy, or a route set,
 * takes no time on it however long the machine takes to answer. (Before, it moved `stepMs` whenever any timer was
 * pending, the engine's repeating ones included, so under load fake seconds passed during one poll.)
 */
export async function runClockUntil<T>(clock: FakeClock, done: Promise<T>, stepMs = 1000): Promise<T> {
  let ended = false;
  void done.finally(() => (ended = true)).catch(() => undefined);
  while (!ended) {
    await until(() => ended || (clock.pendingTimers() > 0 && !clock.busy()), 'the rollout to end or wait on its clock alone');
    const next = clock.nextDueAt();
    if (!ended && next !== undefined) await clock.advance(Math.min(stepMs, Math.max(0, next - clock.steadyNow())));
  }
  return done;
}

/**
 * A proxy on `proxyYaml` (a scripted plan with an admin API) and a one-stage rollout driving it on the fake clock: the
 * same plan (the proxy refuses another's routes) with a 1 s stage and an `error_rate` threshold green crosses once
 * judged. `stages`: that many such stages instead (the last stage's end waits for every stage's requests);
 * `onUnjudged`: analysis.on_unjudged (promote by default); `proxy`: where the proxy listens and keeps its state (a
 * test restarting it). Resolves once stage 1 has started.
 */
export async function oneStageLiveRollout(
  proxyYaml: string,
  options: {
    pollMs: number;
    errorRate: number;
    stages?: number;
    onUnjudged?: 'promote' | 'rollback';
    proxy?: { listen: string; adminListen: string; stateDir: string };
    /** analysis.compare_to_blue, like "{ max_latency_p95_ratio: 3 }". */
    compareToBlue?: string;
    /** The admin URL the rollout is given for the proxy's (a relay before it, say). */
    adminUrl?: (proxyAdminUrl: string) => Promise<string>;
    /** A restarted proxy gets its route (and stage number) back at once, as controller.ts wires it; else at the next renewal. */
    renewOnRestart?: boolean;
    /** The engine's judge (evaluate by default): a test looking at what each judgement is given. */
    judge?: EngineDeps['judge'];
    /** Proxies of the same plan the rollout drives (1 by default): the others come back as `others`. */
    proxies?: number;
    /** Each stage's duration (1s by default). */
    stageDuration?: string;
  },
) {
  const running = await runProxy(proxyYaml, { env: { ADMIN_TOKEN, UPSTREAM_KEY }, ...options.proxy });
  // More proxies of the same plan in front of the same upstream (an application behind several replicas).
  const others = await Promise.all(Array.from({ length: (options.proxies ?? 1) - 1 }, () => runProxy(proxyYaml, { env: { ADMIN_TOKEN, UPSTREAM_KEY } })));
  const clock = new FakeClock();
  const analysis = `analysis: { interval: 200ms, min_requests: 5, thresholds: { error_rate: ${options.errorRate} }, on_unjudged: ${options.onUnjudged ?? 'promote'}${options.compareToBlue ? `, compare_to_blue: ${options.compareToBlue}` : ''} }`;
  const stages = options.stages ?? 1;
  const stageLines = Array.from({ length: stages }, () => `  - { duration: ${options.stageDuration ?? '1s'}, green_weight: 0.5 }`).join('\n');
  const plan = planFromYaml(`${proxyYaml.replace('  - { duration: 1m, green_weight: 0.5 }', stageLines)}${analysis}\n`);
  const adminUrl = running.proxy.adminUrl as string;
  const otherUrls = others.map((other) => other.proxy.adminUrl as string);
  const fleet = fleetOf([options.adminUrl ? await options.adminUrl(adminUrl) : adminUrl, ...otherUrls], clock, 60_000, options.pollMs);
  const journal: RolloutEvent[] = [];
  const actuator = new ProxyActuator(plan, fleet, clock);
  const onRestart = options.renewOnRestart === true ? { onRestart: () => actuator.renewNow() } : {};
  const source = liveTraffic({ fleet, clock, stageCount: stages, comparesWithBlue: comparesWithBlue(plan), ...onRestart });
  const engine = new RolloutEngine(
    engineOnProxies(plan, fleet, clock, journal, { sources: [source], actuators: [actuator], ...(options.judge && { judge: options.judge }) }),
  );
  const done = engine.run();
  await until(() => journal.some((event) => event.type === 'stage_started'), 'stage 1 started');
  return { running, others, clock, journal, engine, done, fleet };
}

/** An upstream answering one arm at once and holding the other's (`held`, blue by default) requests until release(). */
export async function heldArm(held: 'blue' | 'green') {
  const other = held === 'blue' ? 'green' : 'blue';
  const hung: ServerResponse[] = [];
  const server = await scriptedServer((_req, res, body) => {
    if (body.includes(`${held}-model`)) return void hung.push(res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(openAiCompletion(`${other}-model`, 'hello'));
  });
  const release = (): void => {
    for (const res of hung.splice(0)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion(`${held}-model`, 'hello'));
    }
  };
  return { server, hung, release };
}

/** An upstream answering green at once and holding blue's requests until release(). */
export const heldBlue = () => heldArm('blue');

/**
 * The live sent-before tests' flow: `requests` calls of the `openai` SDK through the proxy at `baseUrl`, the held
 * arm's (heldArm) still running at a judgement whose send times cover them all, then released, answered and covered
 * again; resolves with the rollout's outcome. `covered`: what each judgement given the arm's send times saw (the
 * test's judge records it); `arm` names the held arm in the waits' messages.
 */
export async function heldThenAnswered<T>(options: {
  baseUrl: string;
  held: Awaited<ReturnType<typeof heldArm>>;
  arm: 'blue' | 'green';
  requests: number;
  clock: FakeClock;
  done: Promise<T>;
  covered: readonly { requests: number; running: number }[];
  pollMs: number;
}): Promise<T> {
  const { held, arm, requests, clock, covered, pollMs } = options;
  const client = new OpenAI({ baseURL: options.baseUrl, apiKey: 'unused', maxRetries: 0 });
  const calls = Array.from({ length: requests }, (_, i) =>
    client.chat.completions.create({ model: 'blue-model', user: `user-${i}`, messages: [{ role: 'user', content: 'hi' }] }).catch(() => undefined),
  );
  await until(() => held.server.seen.length === requests, 'every request at the upstream');
  const count = held.hung.length;
  expect(count).toBeGreaterThanOrEqual(3);
  // The held arm's requests still running: judged with their ages at the proxy's read.
  await runClockUntil(
    clock,
    until(() => covered.some((seen) => seen.running === count && seen.requests === count), `a judgement given ${arm}'s running requests' send times`),
    pollMs,
  );
  held.release();
  await Promise.all(calls);
  // Answered: judged with their send times (and latencies) too.
  const answeredAfter = covered.length;
  await runClockUntil(
    clock,
    until(
      () => covered.slice(answeredAfter).some((seen) => seen.running === 0 && seen.requests === count),
      `a judgement given ${arm}'s answered requests' send times`,
    ),
    pollMs,
  );
  return runClockUntil(clock, options.done, pollMs);
}
