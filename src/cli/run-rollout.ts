// Wires a rollout together: plan, lock, endpoints, preflight, clients, traffic, engine, reporter, signals.
import { systemClock, type Clock } from '../core/clock.js';
import { thisProcess } from '../core/proc-stat.js';
import type { ArmClient, EngineDeps, HookRunner } from '../engine/deps.js';
import { sourcesOf } from '../engine/generated-traffic.js';
import type { LiveControl } from '../live/controller.js';
import { sendsNothingUpstream, unusedArmClients } from '../live/upstream-free.js';
import type { LiveView } from '../live/fleet.js';
import type { LiveResume } from '../live/resume-record.js';
import { RolloutEngine, type RolloutOutcome } from '../engine/rollout.js';
import type { RolloutSnapshot, RolloutView } from '../engine/types.js';
import { runHook, type HookSecrets } from '../hooks/index.js';
import { ARMS, type ArmName, type Plan } from '../plan/plan.js';
import { createRandom, type RandomSource } from '../core/random.js';
import { createSplitter } from '../split/index.js';
import { StateStore } from '../state/index.js';
import { settlePrevious, type Settled } from './previous-run.js';
import { createArrivalScheduler, createTrafficMix, type TrafficMix } from '../traffic/index.js';
import type { UpstreamClient } from '../upstream/index.js';
import type { CliContext } from './context.js';
import { protectPlanSecrets } from './secrets.js';
import { hookRecorder } from '../state/hook-record.js';
import { lockOwner, operatorName } from './operator.js';
import type { HookKey } from '../hooks/ending-hook.js';
import { watchLauncher } from './launcher.js';
import { guardStartup, routeStopSignals } from './stop-signals.js';
import { sendsToAnthropic } from './plan-checks.js';

export interface RolloutRunOptions {
  plan: Plan;
  stateDir: string;
  seed: number;
  ctx: CliContext;
  clock?: Clock;
  /**
   * Chosen by the CLI layer: the dashboard or the line reporter. `hooks.interrupt` is a SIGINT on the rollout's own
   * signal source (`signals`, or this process): the dashboard's Ctrl-C.
   */
  attachReporter: (engine: ReporterTarget, hooks: ReporterHooks) => Reporter;
  /** Signals and uncaught errors to handle; tests pass an emitter of their own (and then no launcher is watched). */
  signals?: NodeJS.EventEmitter;
  /** `--resume`: continue the dead rollout of this same plan in the state folder from its saved stage. */
  resume?: boolean;
  /** `--from-blue`: run from the first stage even where this plan's green is already promoted. */
  fromBlue?: boolean;
  /** Warnings found before the call (the plan's, as validate gives them): said with the start's own (see runRollout). */
  warnings?: readonly string[];
}

/** The engine, plus the live proxies' view for a live rollout (the dashboard shows it apart). */
export type ReporterTarget = RolloutView & { live?: () => LiveView };

/** What the rollout gives its reporter. */
export interface ReporterHooks {
  /**
   * Ctrl-C on the dashboard (raw mode makes it a key): a SIGINT on the signal source the rollout listens to. Not
   * process.kill(process.pid): that would stop an in-process caller (a test, the library) whose signals are its own.
   */
  interrupt: () => void;
}

export interface Reporter {
  /** Called once the rollout has ended, with its outcome; resolves when the reporter has finished drawing. */
  finish(outcome: RolloutOutcome, snapshot: RolloutSnapshot): Promise<void>;
}

type Closers = (() => Promise<void> | void)[];
type Startup = ReturnType<typeof guardStartup>;

/** Runs a rollout end to end and resolves to its exit code. Throws CliError for lock and preflight failures. */
export async function runRollout(options: RolloutRunOptions): Promise<number> {
  const { plan, ctx } = options;
  // Every warning of the start (the plan's, a lock taken over, a dead run's recovery, skipped sampled lines, the
  // preflight's, --from-blue's) is journaled right after rollout_started, so the dashboard, drawn over the terminal,
  // shows it: written to stderr before it, it scrolled away at 80x24. A start that fails (a held lock included) says
  // them on stderr instead.
  const startWarnings: string[] = [...(options.warnings ?? [])];
  const warn = (message: string): void => void startWarnings.push(message);
  let journaled = false;
  // A resumed run that stopped the dead run's hook and then failed to start: that stop goes in the kept journal.
  let notStarted: (() => void) | undefined;
  const closers: Closers = [];
  try {
    const secrets = protectPlanSecrets(ctx, plan);
    const clock = options.clock ?? systemClock;
    const store = new StateStore(options.stateDir);
    const lock = store.acquireLock(lockOwner(plan.name, clock.now(), ctx.env));
    closers.unshift(() => lock.release());
    const startup = guardStartup(options.signals ?? ctx.signals ?? process, [ctx.stdout, ctx.stderr]);
    closers.unshift(() => startup.dispose());
    // Not raced against a signal (startup.step): putting a dead run's traffic back on blue finishes first
    // (recovery-signals.ts); a signal that came meanwhile stops the start at the next step.
    const settled = await settlePrevious(
      store,
      plan,
      ctx,
      { resume: options.resume ?? false, lockWarning: lock.warning, warn },
      options.signals ?? ctx.signals ?? process,
    );
    const { hookStopped } = settled;
    if (hookStopped !== undefined)
      notStarted = () =>
        store.appendEvent(
          secrets.redactor.value({
            at: clock.now(),
            type: 'warning',
            stage: settled.startStage,
            actor: `${operatorName(ctx.env)} (bluegreen rollout --resume)`,
            message: hookStopped,
          }),
        );
    const random = createRandom(options.seed);
    // The traffic before the upstream, in the order validate and --dry-run check them (plan-checks.ts, then preflight):
    // a plan both would stop on stops here with the same error and exit code.
    const { traffic, trafficWarning } = await openTraffic(plan, random, warn, startup, closers);
    // A live rollout without generated traffic or a health check sends nothing upstream itself: the upstream
    // keys stay with the proxies, and the rollout neither needs, checks nor starts (a simulator) an upstream.
    const clients = sendsNothingUpstream(plan) ? unusedArmClients() : await startup.step(openUpstream(plan, ctx, { clock, warn }, closers));
    closers.unshift(() => Promise.all(ARMS.map((arm) => clients[arm].close())).then(() => undefined));
    const live = await openLive(plan, store, clock, settled.liveResume, ctx, startup, closers);
    // What the proxies' routes allow: loaded with the live modules, for a live plan only.
    const alreadyPromoted =
      live &&
      (await import('./live-start.js')).liveStartCheck(
        plan,
        live,
        { resume: options.resume ?? false, fromBlue: options.fromBlue ?? false, ctx, warn },
        settled.liveResume,
      );
    // Only now is the previous record moved aside: a start that fails (preflight, proxies, a signal) leaves it as it was.
    store.reset({ keepRecord: settled.keepRecord });
    const withLive = withLiveResume(live);
    const engine = new RolloutEngine(
      engineDeps({ plan, seed: options.seed, ctx, secrets, clock, store, clients, traffic, random, live, withLive, settled, alreadyPromoted, startWarnings }),
    );
    // The record must exist before any hook moves traffic (a kill -9 is recovered from it): no room, no start.
    await startup.step(store.proveStateFits(secrets.redactor.value(withLive(engine.snapshot()))));
    const signals = options.signals ?? ctx.signals ?? process;
    // A signal or a closed output since the last step stops the start here, before the reporter draws anything.
    startup.started();
    const reporter = options.attachReporter(reporterTarget(engine, live), { interrupt: () => signals.emit('SIGINT') });
    closers.unshift(
      routeStopSignals(engine, {
        events: signals,
        watchLauncher: options.signals ? undefined : (onEnd) => watchLauncher({ env: ctx.env, onEnd: (end) => onEnd(end.signal, end.cause) }),
        warn: (message) => ctx.stderr.write(`bluegreen: ${message}\n`),
        outputs: [ctx.stdout, ctx.stderr],
      }),
    );
    journaled = true;
    // Only now that the rollout's handlers listen: a signal caught meanwhile reaches them (guardStartup).
    startup.dispose();
    const outcome = await engine.run();
    await reporter.finish(outcome, engine.snapshot());
    // Lines past the first buffer are read during the rollout: report any skipped there too.
    const laterWarning = traffic.warning();
    if (laterWarning && laterWarning !== trafficWarning) ctx.stderr.write(`bluegreen: warning: ${laterWarning}\n`);
    return outcome.exitCode;
  } catch (error) {
    // Not started: no journal line will say them. Before the error, which the caller writes.
    if (!journaled) for (const message of startWarnings) ctx.stderr.write(`bluegreen: warning: ${message}\n`);
    if (!journaled) journalBeside(notStarted);
    throw error;
  } finally {
    for (const close of closers) await close();
  }
}

/** A journal line for a start that failed, written if it can be: the start's own error is what is said. */
function journalBeside(write: (() => void) | undefined): void {
  try {
    write?.();
  } catch {
    // A full or read-only folder: the line was said on stderr with the start's warnings.
  }
}

/** The generated traffic (prompts loaded, first sampled lines buffered), and what it skipped so far. */
async function openTraffic(
  plan: Plan,
  random: RandomSource,
  warn: (message: string) => void,
  startup: Startup,
  closers: Closers,
): Promise<{ traffic: TrafficMix; trafficWarning: string | undefined }> {
  // Sampled requests an Anthropic arm cannot be sent faithfully are skipped (and counted) for both arms alike.
  const traffic = createTrafficMix(plan.traffic, random, { anthropic: sendsToAnthropic(plan) });
  closers.unshift(() => traffic.close());
  await startup.step(traffic.ready());
  // Unusable sampled lines are skipped, never silently: say how many and where the first one is.
  const trafficWarning = traffic.warning();
  if (trafficWarning) warn(trafficWarning);
  return { traffic, trafficWarning };
}

/**
 * A plan whose proxy block has an admin API is a live rollout: it drives the proxies and judges their results. Its
 * modules (and undici) load here, so a rollout without proxies never loads them.
 */
async function openLive(
  plan: Plan,
  store: StateStore,
  clock: Clock,
  resumed: LiveResume | undefined,
  ctx: CliContext,
  startup: Startup,
  closers: Closers,
): Promise<LiveControl | undefined> {
  if (!plan.proxy?.admin) return undefined;
  const { openLiveControl } = await import('../live/controller.js');
  const live = await startup.step(
    openLiveControl({
      plan,
      stateDir: store.dir,
      env: ctx.env,
      clock,
      resumed,
      by: `${operatorName(ctx.env)} pid ${process.pid}, state folder ${store.dir}`,
    }),
  );
  closers.unshift(() => live.close());
  return live;
}

/** Beside each snapshot, taken at the same moment: which proxy results its figures hold, for a resume. */
function withLiveResume(live: LiveControl | undefined): (snapshot: RolloutSnapshot) => RolloutSnapshot & { liveResume?: LiveResume } {
  return (snapshot) => (live ? { ...snapshot, liveResume: live.fleet.resumeRecord() } : snapshot);
}

/** What runRollout has opened and settled by the time the engine is made. */
interface Opened {
  plan: Plan;
  seed: number;
  ctx: CliContext;
  secrets: HookSecrets;
  clock: Clock;
  store: StateStore;
  clients: EngineDeps['clients'];
  traffic: TrafficMix;
  random: RandomSource;
  live: LiveControl | undefined;
  withLive: ReturnType<typeof withLiveResume>;
  settled: Settled;
  alreadyPromoted: string | undefined;
  startWarnings: readonly string[];
}

function engineDeps(opened: Opened): EngineDeps {
  const { plan, clock, store, secrets, withLive, settled, live } = opened;
  const { pidStart, bootId } = thisProcess();
  const deps: EngineDeps = {
    plan,
    clients: opened.clients,
    traffic: opened.traffic,
    splitter: createSplitter(opened.seed, opened.random),
    clock,
    arrivals: (onArrival) => createArrivalScheduler({ rate: plan.traffic.rate, clock, onArrival: () => onArrival() }),
    // With the pid, its start time and boot: a pid given to another process since is not taken for this rollout (orphan.ts).
    // The record on disk is one boundary where a key (echoed by a hook or an upstream) must stop.
    persistence: {
      appendEvent: (event) => store.appendEvent(secrets.redactor.value(event)),
      // Once a record exists, room is set aside for the journal's finished line: the disk filling later must not
      // leave status saying a rollout that ended died.
      writeState: (snapshot) =>
        store
          .writeState(secrets.redactor.value({ ...withLive(snapshot), ...(pidStart !== undefined && { pidStart }), ...(bootId !== undefined && { bootId }) }))
          .then(() => store.setRoomAside()),
    },
    runHook: hookRunner(plan, opened.ctx, secrets, store.dir),
    takeControlRequests: () =>
      store.takeControlRequests().map((request) => ({ action: request.action, actor: `${request.user}@${request.host} (pid ${request.pid})` })),
    pid: process.pid,
    startStage: settled.startStage,
    carried: settled.carried,
    carriedRuns: settled.carriedRuns,
    alreadyPromoted: opened.alreadyPromoted,
    startWarnings: opened.startWarnings,
  };
  if (live) {
    deps.sources = [live.source, ...(live.generated ? sourcesOf(deps) : [])];
    deps.actuators = [live.actuator];
  }
  return deps;
}

/** What the reporter may read and steer: the engine, plus the proxies' view on a live rollout. */
function reporterTarget(engine: RolloutEngine, live: LiveControl | undefined): ReporterTarget {
  return {
    snapshot: () => engine.snapshot(),
    onEvent: (listener) => engine.onEvent(listener),
    pause: (actor) => engine.pause(actor),
    resume: (actor) => engine.resume(actor),
    promote: (actor) => engine.promote(actor),
    abort: (actor) => engine.abort(actor),
    ...(live && { live: () => live.view() }),
  };
}

/**
 * Opens both arms' endpoints (starting a planned simulator), checks them, and makes the arms' clients. The upstream
 * client and the simulator load here: a live rollout that sends nothing upstream itself never loads them.
 */
async function openUpstream(
  plan: Plan,
  ctx: CliContext,
  { clock, warn }: { clock: Clock; warn: (message: string) => void },
  closers: (() => Promise<void> | void)[],
): Promise<Record<ArmName, UpstreamClient & ArmClient>> {
  const [{ openEndpoints }, { createUpstreamClient, preflight, readApiKey }] = await Promise.all([import('./endpoints.js'), import('../upstream/index.js')]);
  const endpoints = await openEndpoints(plan);
  closers.unshift(() => endpoints.close());
  const { warnings } = await preflight(
    ARMS.map((arm) => endpoints.arms[arm]),
    { env: ctx.env, cwd: ctx.cwd },
  );
  for (const warning of warnings) warn(warning);
  const client = (arm: ArmName) => {
    const { upstream, model } = endpoints.arms[arm];
    const apiKey = upstream.apiKeyEnv ? readApiKey(upstream.apiKeyEnv, ctx.env, ctx.cwd) : undefined;
    // Latencies on the rollout's steady clock: a test's fake clock, shared with a simulator's answers, times them exactly.
    return createUpstreamClient({ arm, model, upstream, apiKey, env: ctx.env, maxConnections: plan.traffic.max_in_flight, clock });
  };
  return { blue: client('blue'), green: client('green') };
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
      ...thisProcess(),
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
