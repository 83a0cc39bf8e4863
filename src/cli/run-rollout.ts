// Wires a rollout together: plan, lock, endpoints, preflight, clients, traffic, engine, reporter, signals.
import os from 'node:os';
import { openEndpoints, type Endpoints } from './endpoints.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { ArmClient, HookRunner } from '../engine/deps.js';
import { RolloutEngine, type RolloutOutcome } from '../engine/rollout.js';
import type { RolloutSnapshot, RolloutView } from '../engine/types.js';
import { runHook, type HookSecrets } from '../hooks/index.js';
import { ARMS, type ArmName, type Plan } from '../plan/plan.js';
import { createRandom } from '../core/random.js';
import { createSplitter } from '../split/index.js';
import { StateStore } from '../state/index.js';
import { createArrivalScheduler, createTrafficMix } from '../traffic/index.js';
import { createUpstreamClient, preflight, readApiKey, type UpstreamClient } from '../upstream/index.js';
import type { CliContext } from './context.js';
import { protectPlanSecrets } from './secrets.js';

export interface RolloutRunOptions {
  plan: Plan;
  stateDir: string;
  seed: number;
  ctx: CliContext;
  clock?: Clock;
  /** Chosen by the CLI layer: the dashboard or the line reporter. */
  attachReporter: (engine: ReporterTarget) => Reporter;
  /** Signals to handle; tests pass an emitter of their own. */
  signals?: NodeJS.EventEmitter;
}

export type ReporterTarget = RolloutView;

export interface Reporter {
  /** Called once the rollout has ended, with its outcome; resolves when the reporter has finished drawing. */
  finish(outcome: RolloutOutcome, snapshot: RolloutSnapshot): Promise<void>;
}

export function operatorName(env: NodeJS.ProcessEnv): string {
  const user = env.USER ?? env.LOGNAME ?? (() => { try { return os.userInfo().username; } catch { return 'unknown'; } })();
  return `${user}@${os.hostname()}`;
}

/** Runs a rollout end to end and resolves to its exit code. Throws CliError for lock and preflight failures. */
export async function runRollout(options: RolloutRunOptions): Promise<number> {
  const { plan, ctx } = options;
  const secrets = protectPlanSecrets(ctx, plan);
  const clock = options.clock ?? systemClock;
  const store = new StateStore(options.stateDir);
  const lock = store.acquireLock({ pid: process.pid, planName: plan.name, startedAt: clock.now(), user: operatorName(ctx.env), host: os.hostname() });
  const closers: (() => Promise<void> | void)[] = [() => lock.release()];
  try {
    if (lock.warning) ctx.stderr.write(`bluegreen: warning: ${lock.warning}\n`);
    store.reset();
    const endpoints = await openEndpoints(plan);
    closers.unshift(() => endpoints.close());
    const { warnings } = await preflight(ARMS.map((arm) => endpoints.arms[arm]), { env: ctx.env, cwd: ctx.cwd });
    for (const warning of warnings) ctx.stderr.write(`bluegreen: warning: ${warning}\n`);

    const clients = createClients(plan, endpoints, ctx);
    closers.unshift(() => Promise.all(ARMS.map((arm) => clients[arm].close())).then(() => undefined));
    const random = createRandom(options.seed);
    // Sampled requests an Anthropic arm cannot be sent faithfully are skipped (and counted) for both arms alike.
    const traffic = createTrafficMix(plan.traffic, random, { anthropic: ARMS.some((arm) => plan.arms[arm].upstream.api === 'anthropic') });
    closers.unshift(() => traffic.close());
    await traffic.ready();
    // Unusable sampled lines are skipped, never silently: say how many and where the first one is.
    const trafficWarning = traffic.warning();
    if (trafficWarning) ctx.stderr.write(`bluegreen: warning: ${trafficWarning}\n`);

    const engine = new RolloutEngine({
      plan,
      clients,
      traffic,
      splitter: createSplitter(options.seed, random),
      clock,
      arrivals: (onArrival) => createArrivalScheduler({ rate: plan.traffic.rate, clock, onArrival: () => onArrival() }),
      // The record on disk is one boundary where a key (echoed by a hook or an upstream) must stop.
      persistence: {
        appendEvent: (event) => store.appendEvent(secrets.redactor.value(event)),
        writeState: (snapshot) => store.writeState(secrets.redactor.value(snapshot)),
      },
      runHook: hookRunner(plan, ctx, secrets),
      takeControlRequests: () => store.takeControlRequests().map((request) => ({ action: request.action, actor: `${request.user}@${request.host} (pid ${request.pid})` })),
      pid: process.pid,
    });
    const reporter = options.attachReporter(engine);
    const signals = options.signals ?? process;
    const onSigint = () => engine.interrupt('SIGINT');
    const onSigterm = () => engine.interrupt('SIGTERM');
    signals.on('SIGINT', onSigint);
    signals.on('SIGTERM', onSigterm);
    closers.unshift(() => {
      signals.off('SIGINT', onSigint);
      signals.off('SIGTERM', onSigterm);
    });
    const outcome = await engine.run();
    await reporter.finish(outcome, engine.snapshot());
    // Lines past the first buffer are read during the rollout: report any skipped there too.
    const laterWarning = traffic.warning();
    if (laterWarning && laterWarning !== trafficWarning) ctx.stderr.write(`bluegreen: warning: ${laterWarning}\n`);
    return outcome.exitCode;
  } finally {
    for (const close of closers) await close();
  }
}

function createClients(plan: Plan, endpoints: Endpoints, ctx: CliContext): Record<ArmName, UpstreamClient & ArmClient> {
  const make = (arm: ArmName) => {
    const { upstream, model } = endpoints.arms[arm];
    const apiKey = upstream.apiKeyEnv ? readApiKey(upstream.apiKeyEnv, ctx.env, ctx.cwd) : undefined;
    return createUpstreamClient({ arm, model, upstream, apiKey, env: ctx.env, maxConnections: plan.traffic.max_in_flight });
  };
  return { blue: make('blue'), green: make('green') };
}

function hookRunner(plan: Plan, ctx: CliContext, secrets: HookSecrets): HookRunner {
  return async (hook, call, signal) => {
    const outcome = await runHook(hook, call, { cwd: plan.source.dir, env: ctx.env, signal, secrets });
    return { ok: outcome.ok, message: outcome.message };
  };
}
