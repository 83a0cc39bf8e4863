// Wires a rollout together: plan, lock, endpoints, preflight, clients, traffic, engine, reporter, signals.
import os from 'node:os';
import { openEndpoints, type Endpoints } from './endpoints.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { ArmClient, EngineDeps, HookRunner } from '../engine/deps.js';
import { sourcesOf } from '../engine/generated-traffic.js';
import { openLiveControl } from '../live/controller.js';
import { sendsNothingUpstream, unusedArmClients } from '../live/upstream-free.js';
import type { LiveView } from '../live/fleet.js';
import { liveResumeOf, type LiveResume } from '../live/resume-record.js';
import { alreadyPromotedReason, describePromoted, partlyPromotedMessage, promotedSinceMessage, promotedStanding, type ProxyRoute } from '../live/promoted.js';
import { RolloutEngine, type RolloutOutcome } from '../engine/rollout.js';
import type { RolloutSnapshot, RolloutView } from '../engine/types.js';
import { runHook, type HookSecrets } from '../hooks/index.js';
import { ARMS, type ArmName, type Plan } from '../plan/plan.js';
import { createRandom } from '../core/random.js';
import { createSplitter } from '../split/index.js';
import { orphanMessage, rolloutStanding, StateStore, type RolloutStanding } from '../state/index.js';
import { CliError, EXIT, UsageError } from '../core/exit.js';
import { createArrivalScheduler, createTrafficMix } from '../traffic/index.js';
import { createUpstreamClient, preflight, readApiKey, type UpstreamClient } from '../upstream/index.js';
import type { CliContext } from './context.js';
import { protectPlanSecrets } from './secrets.js';
import { describeHookInFlight, hookRecorder, readHookInFlight, stopOrphanHook } from '../state/hook-record.js';
import { endingBegun, restoreBlue } from './recover.js';
import { operatorName } from './operator.js';
import type { HookKey } from '../hooks/ending-hook.js';
import { watchLauncher } from './launcher.js';
import { guardStartup, routeStopSignals } from './stop-signals.js';

export interface RolloutRunOptions {
  plan: Plan;
  stateDir: string;
  seed: number;
  ctx: CliContext;
  clock?: Clock;
  /** Chosen by the CLI layer: the dashboard or the line reporter. */
  attachReporter: (engine: ReporterTarget) => Reporter;
  /** Signals and uncaught errors to handle; tests pass an emitter of their own (and then no launcher is watched). */
  signals?: NodeJS.EventEmitter;
  /** `--resume`: continue the dead rollout of this same plan in the state folder from its saved stage. */
  resume?: boolean;
  /** `--from-blue`: run from the first stage even where this plan's green is already promoted. */
  fromBlue?: boolean;
}

/** The engine, plus the live proxies' view for a live rollout (the dashboard shows it apart). */
export type ReporterTarget = RolloutView & { live?: () => LiveView };

export interface Reporter {
  /** Called once the rollout has ended, with its outcome; resolves when the reporter has finished drawing. */
  finish(outcome: RolloutOutcome, snapshot: RolloutSnapshot): Promise<void>;
}

/** Runs a rollout end to end and resolves to its exit code. Throws CliError for lock and preflight failures. */
export async function runRollout(options: RolloutRunOptions): Promise<number> {
  const { plan, ctx } = options;
  const secrets = protectPlanSecrets(ctx, plan);
  const clock = options.clock ?? systemClock;
  const store = new StateStore(options.stateDir);
  const lock = store.acquireLock({ pid: process.pid, planName: plan.name, startedAt: clock.now(), user: operatorName(ctx.env), host: os.hostname() });
  const closers: (() => Promise<void> | void)[] = [() => lock.release()];
  const startup = guardStartup(options.signals ?? process);
  closers.unshift(() => startup.dispose());
  try {
    const { startStage, keepRecord, carried, liveResume } = await startup.step(settlePrevious(store, plan, ctx, options.resume ?? false, lock.warning));
    // A live rollout without generated traffic or a health check sends nothing upstream itself: the upstream
    // keys stay with the proxies, and the rollout neither needs, checks nor starts (a simulator) an upstream.
    const clients = sendsNothingUpstream(plan) ? unusedArmClients() : await startup.step(openUpstream(plan, ctx, closers));
    closers.unshift(() => Promise.all(ARMS.map((arm) => clients[arm].close())).then(() => undefined));
    const random = createRandom(options.seed);
    // Sampled requests an Anthropic arm cannot be sent faithfully are skipped (and counted) for both arms alike.
    const traffic = createTrafficMix(plan.traffic, random, { anthropic: ARMS.some((arm) => plan.arms[arm].upstream.api === 'anthropic') });
    closers.unshift(() => traffic.close());
    await startup.step(traffic.ready());
    // Unusable sampled lines are skipped, never silently: say how many and where the first one is.
    const trafficWarning = traffic.warning();
    if (trafficWarning) ctx.stderr.write(`bluegreen: warning: ${trafficWarning}\n`);

    // A plan whose proxy block has an admin API is a live rollout: it drives the proxies and judges their results.
    const live = plan.proxy?.admin
      ? await startup.step(
          openLiveControl({
            plan,
            stateDir: store.dir,
            env: ctx.env,
            clock,
            resumed: liveResume,
            by: `${operatorName(ctx.env)} pid ${process.pid}, state folder ${store.dir}`,
          }),
        )
      : undefined;
    if (live) closers.unshift(() => live.close());
    // Nor a resumed rollout undo a promotion made since it died (another rollout's, which said exit 0).
    const promotedSince = live && options.resume ? promotedSinceMessage(plan, live.routes, liveResume?.controllers ?? []) : undefined;
    if (promotedSince !== undefined) throw new CliError(promotedSince, EXIT.preflight);
    // A re-run after a promotion must not move users back to blue unasked (a resumed rollout never promoted).
    const promoted = live && !options.resume ? promotedEverywhere(plan, live.routes, options.fromBlue ?? false, ctx) : undefined;
    const alreadyPromoted = promoted && alreadyPromotedReason(plan, promoted);
    // Only now is the previous record moved aside: a start that fails (preflight, proxies, a signal) leaves it as it was.
    store.reset({ keepRecord });
    // Beside each snapshot, taken at the same moment: which proxy results its figures hold, for a resume.
    const withLive = (snapshot: RolloutSnapshot): RolloutSnapshot & { liveResume?: LiveResume } =>
      live ? { ...snapshot, liveResume: live.fleet.resumeRecord() } : snapshot;
    const deps: EngineDeps = {
      plan,
      clients,
      traffic,
      splitter: createSplitter(options.seed, random),
      clock,
      arrivals: (onArrival) => createArrivalScheduler({ rate: plan.traffic.rate, clock, onArrival: () => onArrival() }),
      // The record on disk is one boundary where a key (echoed by a hook or an upstream) must stop.
      persistence: {
        appendEvent: (event) => store.appendEvent(secrets.redactor.value(event)),
        writeState: (snapshot) => store.writeState(secrets.redactor.value(withLive(snapshot))),
      },
      runHook: hookRunner(plan, ctx, secrets, store.dir),
      takeControlRequests: () =>
        store.takeControlRequests().map((request) => ({ action: request.action, actor: `${request.user}@${request.host} (pid ${request.pid})` })),
      pid: process.pid,
      startStage,
      carried,
      alreadyPromoted,
    };
    if (live) {
      deps.sources = [live.source, ...(live.generated ? sourcesOf(deps) : [])];
      deps.actuators = [live.actuator];
    }
    const engine = new RolloutEngine(deps);
    // The record must exist before any hook moves traffic (a kill -9 is recovered from it): no room, no start.
    await startup.step(store.proveStateFits(secrets.redactor.value(withLive(engine.snapshot()))));
    const target: ReporterTarget = {
      snapshot: () => engine.snapshot(),
      onEvent: (listener) => engine.onEvent(listener),
      pause: (actor) => engine.pause(actor),
      resume: (actor) => engine.resume(actor),
      promote: (actor) => engine.promote(actor),
      abort: (actor) => engine.abort(actor),
      ...(live && { live: () => live.view() }),
    };
    const reporter = options.attachReporter(target);
    startup.dispose();
    const unroute = routeStopSignals(engine, {
      events: options.signals ?? process,
      watchLauncher: options.signals ? undefined : (onEnd) => watchLauncher({ env: ctx.env, onEnd: (end) => onEnd(end.signal, end.cause) }),
      warn: (message) => ctx.stderr.write(`bluegreen: ${message}\n`),
      outputs: [ctx.stdout, ctx.stderr],
    });
    closers.unshift(unroute);
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

/**
 * A previous rollout that died unfinished may have left traffic split: put it back on blue before anything
 * else (its on_rollback runs), or with --resume take over its record and go on from its stage.
 * Resolves to the stage to start at, whether the previous record is kept (--resume) when the new one starts, and
 * (--resume) the dead run's per-stage figures, which the resumed stages go on from, and what it had read of its
 * proxies' results (whose handed-over results are the resumed run's to judge).
 */
async function settlePrevious(
  store: StateStore,
  plan: Plan,
  ctx: CliContext,
  resume: boolean,
  lockWarning: string | undefined,
): Promise<{ startStage: number; keepRecord: boolean; carried?: RolloutSnapshot['stages']; liveResume?: LiveResume }> {
  const previous = rolloutStanding(store, { self: process.pid });
  // The lock's note about a dead owner says the same as what follows, less precisely.
  if (lockWarning && previous.kind !== 'orphaned') ctx.stderr.write(`bluegreen: warning: ${lockWarning}\n`);
  if (resume) {
    const snapshot = resumable(store, plan, previous);
    const stopped = await stopOrphanHook(store.dir, snapshot);
    if (stopped) ctx.stderr.write(`bluegreen: warning: ${stopped}\n`);
    ctx.stderr.write(
      `bluegreen: resuming the rollout of plan "${plan.name}" (pid ${snapshot.pid} died) at stage ${snapshot.stageIndex + 1}/${plan.stages.length}${plan.hooks?.on_stage ? '; its on_stage hook runs again' : ''}\n`,
    );
    return { startStage: snapshot.stageIndex, keepRecord: true, carried: snapshot.stages, liveResume: liveResumeOf(snapshot) };
  }
  if (previous.kind === 'orphaned') {
    ctx.stderr.write(
      `bluegreen: ${orphanMessage(previous.snapshot, store.dir).replace(/: run bluegreen rollback.*$/, '')}; putting traffic back on blue before starting\n`,
    );
    const result = await restoreBlue({ store, snapshot: previous.snapshot, ctx, command: 'bluegreen rollout', fallbackPlan: plan });
    // What the recovery left to another rollout run: the preflight that follows judges it (a live lease: exit 3).
    for (const message of result.left ?? []) ctx.stderr.write(`bluegreen: ${message}\n`);
    if (!result.ok)
      throw new CliError(
        `${result.message}; not starting a new rollout (run bluegreen rollback --state-dir ${store.dir} once it can put traffic back on blue)`,
        EXIT.orphaned,
      );
  }
  return { startStage: 0, keepRecord: false };
}

/**
 * The dead rollout --resume takes over (the real run and --dry-run alike): refused, exit 2, when the folder has
 * none, when it ran another plan, or when it died ending (its green was being taken off traffic).
 */
export function resumable(store: StateStore, plan: Plan, previous: RolloutStanding): RolloutSnapshot {
  if (previous.kind !== 'orphaned')
    throw new UsageError(
      `--resume: there is no unfinished rollout to resume in ${store.dir} (${previous.kind === 'none' ? 'no state' : `its last rollout ${previous.kind === 'finished' ? 'finished' : 'is running'}`})`,
    );
  const { snapshot } = previous;
  if (snapshot.plan.hash !== plan.source.hash) {
    throw new UsageError(
      `--resume: ${plan.source.file} is not the plan the dead rollout ran (${snapshot.plan.file}, different content); run bluegreen rollback, then start again`,
    );
  }
  // hook.json too: the kill may land after the ending's hook (or the proxies' promotion) began and before the
  // journal's line of it was written, a resume would then undo what that hook did.
  const hook = readHookInFlight(store.dir, snapshot);
  const moving = hook !== undefined && hook.event !== 'stage' ? `ending (its ${describeHookInFlight(hook)} was under way when it died)` : undefined;
  const ending = endingBegun(snapshot, store.readEvents()) ?? moving;
  if (ending)
    throw new UsageError(`--resume: the rollout that died was already ${ending}; it cannot be resumed: run bluegreen rollback --state-dir ${store.dir}`);
  return snapshot;
}

/**
 * What the proxies' routes say before anything moves (the real run and --dry-run alike): green already promoted
 * everywhere ends the rollout at once (those proxies are returned); promoted on some proxies only is refused
 * (exit 3); --from-blue goes on, saying what it undoes.
 */
export function promotedEverywhere(plan: Plan, routes: ProxyRoute[], fromBlue: boolean, ctx: CliContext): ProxyRoute[] | undefined {
  const standing = promotedStanding(plan, routes);
  if (standing.kind === 'not_promoted') return undefined;
  const promoted = standing.kind === 'promoted' ? standing.proxies : standing.promoted;
  if (fromBlue) {
    ctx.stderr.write(
      `bluegreen: warning: --from-blue: ${plan.arms.green.model} is promoted on ${promoted.map(describePromoted).join(', ')}; this rollout moves its users back to stage 1's route\n`,
    );
    return undefined;
  }
  if (standing.kind === 'partly') throw new CliError(partlyPromotedMessage(plan, standing), EXIT.preflight);
  return standing.proxies;
}

/** Opens both arms' endpoints (starting a planned simulator), checks them, and makes the arms' clients. */
async function openUpstream(plan: Plan, ctx: CliContext, closers: (() => Promise<void> | void)[]): Promise<Record<ArmName, UpstreamClient & ArmClient>> {
  const endpoints = await openEndpoints(plan);
  closers.unshift(() => endpoints.close());
  const { warnings } = await preflight(
    ARMS.map((arm) => endpoints.arms[arm]),
    { env: ctx.env, cwd: ctx.cwd },
  );
  for (const warning of warnings) ctx.stderr.write(`bluegreen: warning: ${warning}\n`);
  return createClients(plan, endpoints, ctx);
}

function createClients(plan: Plan, endpoints: Endpoints, ctx: CliContext): Record<ArmName, UpstreamClient & ArmClient> {
  const make = (arm: ArmName) => {
    const { upstream, model } = endpoints.arms[arm];
    const apiKey = upstream.apiKeyEnv ? readApiKey(upstream.apiKeyEnv, ctx.env, ctx.cwd) : undefined;
    return createUpstreamClient({ arm, model, upstream, apiKey, env: ctx.env, maxConnections: plan.traffic.max_in_flight });
  };
  return { blue: make('blue'), green: make('green') };
}

function hookRunner(plan: Plan, ctx: CliContext, secrets: HookSecrets, stateDir: string): HookRunner {
  return async (hook, call, signal) => {
    // Which of the plan's hooks runs: on_stage stands in for an ending the plan has no hook for (ending-hook.ts).
    const key = (Object.keys(plan.hooks ?? {}) as HookKey[]).find((name) => plan.hooks?.[name] === hook);
    const record = hookRecorder(stateDir, {
      plan: plan.name,
      event: call.event,
      stage: call.stage,
      greenWeight: call.greenWeight,
      pid: process.pid,
      hook: key,
    });
    record.begin();
    try {
      const outcome = await runHook(hook, call, { cwd: plan.source.dir, env: ctx.env, secrets, signal, onStart: (pgid) => record.started(pgid) });
      return { ok: outcome.ok, message: outcome.message };
    } finally {
      record.finished();
    }
  };
}
