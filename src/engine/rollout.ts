// The rollout: stages on a stage clock, judgement on an interval and on fast signals, and the ways it ends.
// Where traffic comes from (sources), who judges (StageJudging) and what moves real traffic (actuators) are
// seams; this file only wires them and sequences the ending. The stages themselves are StageSteps; putting
// traffic where an ending leaves it is EndingMoves.
import type { Breach } from '../analysis/types.js';
import { steadyNow, type TimerHandle } from '../core/clock.js';
import { MetricsRecorder } from '../metrics/index.js';
import { generatesTraffic } from '../plan/summary.js';
import { carryOver } from './carry-over.js';
import type { ControlRequest, EngineDeps } from './deps.js';
import { EndingMoves, isPromoting } from './ending-moves.js';
import { claimPending, endingStartMessage, endings, finalMessage, type Ending, type InterruptSignal } from './endings.js';
import { EventLog } from './event-log.js';
import { firstFailureReporter } from './first-errors.js';
import { sourcesOf } from './generated-traffic.js';
import { HealthChecker, healthChange } from './health.js';
import { HookActuator } from './hook-actuator.js';
import { needsLatencyBuckets, slowLimitsOf, StageJudging } from './judging.js';
import { repeatEvery } from './repeat.js';
import { RolloutState } from './rollout-state.js';
import { buildSnapshot } from './snapshot.js';
import { StageClock } from './stage-clock.js';
import { StageSteps } from './stage-steps.js';
import { StateSaver } from './state-saver.js';
import { catchUpOf, passedThroughOf, type TrafficContext, type TrafficSource } from './traffic-source.js';
import type { EventType, Phase, RolloutEvent, RolloutSnapshot } from './types.js';
import { errorText } from '../core/errors.js';

export interface RolloutOutcome {
  phase: Phase;
  exitCode: number;
  reason?: string;
  breach?: Breach;
}

/** What an ending under way waits for when a signal finds it (see RolloutEngine.interrupt). */
export interface EndingUnderWay {
  /** The ending's phase: `promoted` while a promotion is still moving traffic too. */
  phase: Phase;
  /**
   * What still moves traffic, which a signal does not stop: "the on_promote hook (exec, up to its 60s timeout)";
   * undefined once traffic is where the ending leaves it (only requests in flight are left).
   */
  moving?: string;
}

const CONTROL_POLL_MS = 250;

export class RolloutEngine {
  private readonly state = new RolloutState();
  private readonly timers: TimerHandle[] = [];
  /** Kept apart from the other timers: state.json goes on being written while the ending drains. */
  private stateTimer?: TimerHandle;
  private readonly events: EventLog;
  private readonly metrics: MetricsRecorder;
  private readonly stageClock: StageClock;
  private readonly judging: StageJudging;
  private readonly steps: StageSteps;
  private readonly sources: TrafficSource[];
  private readonly moves: EndingMoves;
  private readonly health?: HealthChecker;
  private readonly stateSaver: StateSaver;
  private resolveDone!: (outcome: RolloutOutcome) => void;
  private readonly done: Promise<RolloutOutcome>;

  constructor(private readonly deps: EngineDeps) {
    const { plan, clock } = deps;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.events = new EventLog((event) => deps.persistence.appendEvent(event));
    this.metrics = new MetricsRecorder({
      stages: plan.stages.map((s) => ({ name: s.name, durationMs: s.duration, greenWeight: s.green_weight })),
      prices: { blue: plan.arms.blue.price, green: plan.arms.green.price },
      now: () => clock.now(),
      steadyNow: () => steadyNow(clock),
      // The latency rules judge the share of requests over their limits: count those exactly.
      slowLimits: slowLimitsOf(plan),
      latencyBuckets: needsLatencyBuckets(plan),
    });
    this.stageClock = new StageClock(clock, () => this.guard(() => this.steps.timeUp()));
    this.judging = new StageJudging({ plan, clock, metrics: this.metrics, judge: deps.judge, onOverdue: () => this.guard(() => this.steps.analyse()) });
    this.sources = sourcesOf(deps).map((factory) => factory(this.trafficContext()));
    // Each arm's send times from the source that alone sends (a live plan's proxies), when it reports them; not on a
    // resume, whose stages hold figures carried from the run before, which no proxy's sends count.
    const only = this.sources.length === 1 ? this.sources[0] : undefined;
    if (only?.sent && !generatesTraffic(plan) && (deps.carried ?? []).length === 0) this.judging.sentFrom(only.sent.bind(only));
    const emit = (type: EventType, message: string, extra?: Partial<RolloutEvent>) => this.emit(type, message, extra);
    // The given actuators (the live proxies) first: a rollback puts live traffic on blue before any hook runs.
    const actuators = [...(deps.actuators ?? []), new HookActuator(plan, deps.runHook, clock)];
    this.moves = new EndingMoves(actuators, { state: this.state, stages: plan.stages.length, emit });
    this.stateSaver = new StateSaver({
      build: () => this.snapshot(true),
      write: (snapshot) => deps.persistence.writeState(snapshot),
      onError: (message) => this.stateUnwritten(message),
    });
    if (plan.health_check)
      this.health = new HealthChecker(plan.health_check, deps.clients.green, clock, (ok, state, changed) => {
        if (changed) this.emit(...healthChange(ok, state));
        if (!ok) this.steps.analyse();
      });
    this.steps = new StageSteps({
      state: this.state,
      plan,
      metrics: this.metrics,
      stageClock: this.stageClock,
      judging: this.judging,
      actuators: this.moves,
      health: this.health,
      catchUp: catchUpOf(this.sources),
      passedThrough: passedThroughOf(this.sources),
      cutAtTimeUp: this.sources.length > 0 && this.sources.every((source) => source.tagsSends === true),
      now: () => steadyNow(clock),
      emit,
      rollback: (breach) => this.rollback(breach),
      end: (ending) => this.end(ending),
    });
  }

  /** What a traffic source is told: where requests go now, and how to report what only it sees. */
  private trafficContext(): TrafficContext {
    const consecutiveLimit = this.deps.plan.analysis.thresholds.consecutive_errors;
    return {
      metrics: this.metrics,
      current: () => this.state.current(),
      // Consecutive errors are judged at once, not at the next interval: that is their point.
      onGreenResult: (result, quality) => {
        if (consecutiveLimit !== undefined && (!result.ok || !quality.ok)) this.steps.analyse();
      },
      // The first failure of each kind is journaled with what came back: "100% errors" alone says too little.
      onFailure: firstFailureReporter((message) => this.emit('warning', message)),
      greenWatch: this.judging.greenWatch,
      blueWatch: this.judging.blueSends,
      breach: (breach) => this.rollback(breach),
      warn: (message) => this.emit('warning', message),
      fail: (error) => this.fail(error),
    };
  }

  /** Runs the rollout to its end. */
  run(): Promise<RolloutOutcome> {
    const { clock, plan } = this.deps;
    const { state } = this;
    state.startedAt = clock.now();
    state.phase = 'progressing';
    const first = Math.min(Math.max(0, this.deps.startStage ?? 0), plan.stages.length - 1);
    // A live plan's own requests in flight can only be 0: all it judges are the proxies' (counted apart).
    const carried = carryOver(this.metrics, this.deps.carried ?? [], first, {
      maxInFlight: generatesTraffic(plan) ? plan.traffic.max_in_flight : 0,
      ...(this.deps.carriedRuns !== undefined && { runs: this.deps.carriedRuns }),
    });
    state.stageIndex = first;
    this.emit(
      'rollout_started',
      `rollout "${plan.name}" started: ${plan.arms.blue.model} (blue) -> ${plan.arms.green.model} (green), ${plan.stages.length} stages${carried.resumed}`,
    );
    for (const problem of carried.problems) this.emit('warning', problem);
    for (const warning of this.deps.startWarnings ?? []) this.emit('warning', warning);
    this.timers.push(repeatEvery(clock, plan.analysis.interval, () => this.guard(() => this.steps.interval())));
    this.stateTimer = repeatEvery(clock, this.deps.stateIntervalMs ?? 1000, () => this.persistState());
    const take = this.deps.takeControlRequests;
    if (take) this.timers.push(repeatEvery(clock, CONTROL_POLL_MS, () => this.guard(() => take().forEach((request) => this.applyControl(request)))));
    this.health?.start();
    this.guard(async () => {
      // state.json exists before any hook can move traffic, so a crash from here on leaves a record to recover from.
      await this.stateSaver.flush();
      if (state.ending) return;
      // Not even that first record could be written (the folder filled up since the start's check): refused.
      const unsaved = this.stateSaver.failure;
      if (unsaved !== undefined) {
        const ending = endings.unrecorded(unsaved, first > 0 || (this.deps.carried?.length ?? 0) > 0);
        this.emit('failed', claimPending(ending.reason, ending.phase));
        return this.end(ending);
      }
      if (this.deps.alreadyPromoted !== undefined) {
        return this.end(endings.alreadyPromoted(this.deps.alreadyPromoted));
      }
      await this.steps.enter(first);
      if (!state.ending) for (const source of this.sources) source.start();
    });
    return this.done;
  }

  onEvent(listener: (event: RolloutEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  /** `forState`: with each stage x arm's histograms, which only state.json keeps (for rollout --resume). */
  snapshot(forState = false): RolloutSnapshot {
    const { state } = this;
    const now = this.deps.clock.now();
    const stageEndWait = this.steps.waitAt(steadyNow(this.deps.clock));
    return buildSnapshot({
      plan: this.deps.plan,
      pid: this.deps.pid,
      phase: state.phase,
      startedAt: state.startedAt,
      now,
      endedAt: state.endedAt,
      stageIndex: state.stageIndex,
      stageElapsedMs: this.stageClock.elapsed(),
      greenWeight: state.greenWeight,
      stages: this.metrics.stages(forState),
      checks: this.steps.checks,
      breach: state.ending?.breach,
      reason: state.ending?.reason,
      exitCode: state.endedAt !== undefined ? state.ending?.exitCode : undefined,
      window: { blue: this.metrics.window('blue'), green: this.metrics.window('green') },
      trend: this.steps.trend,
      recentEvents: this.events.recent(),
      ...(stageEndWait && { stageEndWait }),
    });
  }

  // --- operator controls ----------------------------------------------------------------------

  pause(actor = 'operator'): void {
    this.steps.pause(actor);
  }

  resume(actor = 'operator'): void {
    this.steps.resume(actor);
    const held = this.state.phase === 'progressing' ? this.steps.takeHeldEntry() : undefined;
    if (held !== undefined) this.guard(() => this.steps.enter(held));
  }

  promote(actor = 'operator'): void {
    if (this.state.ending) return;
    this.emit('promote_requested', `promotion to 100% requested by ${actor}`, { actor });
    this.state.greenWeight = 1;
    void this.end(endings.promotedByOperator(actor));
  }

  abort(actor = 'operator'): void {
    if (this.state.ending) return;
    this.emit('abort_requested', `abort requested by ${actor}`, { actor });
    this.state.toBlue();
    void this.end(endings.aborted(actor));
  }

  /**
   * SIGINT / SIGTERM / SIGHUP: roll back to blue, save the state, exit 130 / 143 / 129. `cause` says where it came from.
   * Once the rollout is ending (a second signal, or the first during a promotion or a rollback already under way),
   * it stops waiting for requests in flight, never for the moves that put traffic where the ending leaves it, and
   * returns what the ending waits for, so the operator is told rather than met with silence.
   */
  interrupt(signal: InterruptSignal, cause: string = signal): EndingUnderWay | undefined {
    const { ending } = this.state;
    if (ending) {
      const moving = this.moves.busy();
      for (const source of this.sources) source.cancelAll();
      return { phase: ending.phase, ...(moving !== undefined && { moving }) };
    }
    this.state.toBlue();
    this.emit('interrupted', `interrupted by ${cause}: rolling back to blue`);
    void this.end(endings.interrupted(signal, cause));
    return undefined;
  }

  private applyControl(request: ControlRequest): void {
    const { phase, ending } = this.state;
    // `bluegreen pause` said "requested"; one that changes nothing says so in the journal rather than nothing.
    const idle = !ending && ((request.action === 'pause' && phase === 'paused') || (request.action === 'resume' && phase === 'progressing'));
    if (idle)
      this.emit(
        'warning',
        `${request.action} requested by ${request.actor}: the rollout is ${request.action === 'pause' ? 'already paused' : 'not paused'}; nothing to do`,
      );
    else this[request.action](request.actor);
  }

  // --- endings --------------------------------------------------------------------------------

  private rollback(breach: Breach): void {
    if (this.state.ending) return;
    this.state.toBlue();
    this.emit('breach', breach.message, { breach });
    // The breach event just before carries the figures; this one says what was done about them.
    this.emit('rolled_back', `rolling back to blue on ${breach.rule}`, { breach });
    void this.end(endings.rolledBack(breach));
  }

  private async end(decided: Ending): Promise<void> {
    const { state } = this;
    if (state.ending) return;
    state.ending = decided;
    // A promotion is said once every proxy took it (see EndingMoves); the others at once. Until then state.json does
    // not say "promoted" either: a script polling `status --json` must not read it for a rollout that rolls back.
    const promoting = isPromoting(decided);
    // A promotion takes all traffic to green whatever the last stage's weight (its hook is told 1: EndingMoves). One
    // that moves traffic sets it once taken: until then state.json keeps the stage's, so a rollout that dies meanwhile
    // reads "green at 50% or 100%" (kill-nine-live), not a 100% no proxy may have taken.
    if (decided.phase === 'promoted' && !promoting) state.greenWeight = 1;
    if (!promoting) state.phase = decided.phase;
    for (const source of this.sources) source.stop();
    for (const timer of this.timers) timer.cancel();
    this.health?.stop();
    this.judging.stop();
    this.stageClock.stop();
    this.metrics.closeAll(state.stageStarted ? state.stageIndex : undefined, decided.verdict);
    // Said as it begins: the ending's hook has yet to put traffic where the reason says (the finished line confirms it).
    if (decided.phase === 'aborted' || (decided.phase === 'promoted' && !promoting)) this.emit(decided.phase, endingStartMessage(decided));
    this.persistState();
    const ending = decided.moves === false ? decided : await this.moves.run(decided);
    state.ending = ending;
    await Promise.all(this.sources.map((source) => source.drain(this.deps.plan.arms.green.upstream.timeout.requestMs)));
    this.emit('drained', 'in-flight requests finished');
    this.reportUntaken(ending);
    state.endedAt = this.deps.clock.now();
    this.emit('finished', finalMessage(ending), { data: { phase: ending.phase, exitCode: ending.exitCode } });
    this.stateTimer?.cancel();
    this.persistState();
    await this.stateSaver.flush();
    this.resolveDone({ phase: ending.phase, exitCode: ending.exitCode, reason: ending.reason, breach: ending.breach });
  }

  /**
   * A request `bluegreen pause|resume|promote|abort` wrote after the last poll (it checks the rollout is not ending,
   * then writes: the last stage can pass, or a breach roll back, in between) said "requested" and was never read:
   * the journal says so, and it is not left in control/ for no one.
   */
  private reportUntaken(ending: Ending): void {
    let requests: ControlRequest[];
    try {
      requests = this.deps.takeControlRequests?.() ?? [];
    } catch {
      return; // Only a report: a folder that cannot be read now must not stop the ending.
    }
    const phase = ending.phase.replace('_', ' ');
    for (const request of requests)
      this.emit('warning', `${request.action} requested by ${request.actor} reached the rollout only as it was already ending (${phase}): not taken`);
  }

  // --- plumbing -------------------------------------------------------------------------------

  private emit(type: EventType, message: string, extra: Partial<RolloutEvent> = {}): void {
    const { state } = this;
    this.events.publish({ at: this.deps.clock.now(), type, stage: state.stageIndex, greenWeight: state.greenWeight, message, ...extra });
    // state.json follows every event within one write, so `status` never shows a phase the journal lacks.
    if (state.startedAt) this.persistState();
  }

  /**
   * Before the first record the rollout does not go on without one: run() ends it, and that ending says why, so a
   * warning here would contradict it. During an ending (that one or any other) only the journal's lines follow.
   */
  private stateUnwritten(message: string): void {
    if (this.state.ending) this.emit('warning', `state.json could not be written (${message}); events.jsonl still records how the rollout ends`);
    else if (this.stateSaver.written)
      this.emit('warning', `state.json could not be written (${message}); the rollout goes on, and events.jsonl still records it`);
  }

  private persistState(): void {
    this.stateSaver.request();
  }

  /** A bug inside a timer or a stage step must still end the rollout on blue with the state saved, not crash silently. */
  private guard(work: () => void | Promise<void>): void {
    try {
      work()?.catch((error: unknown) => this.fail(error));
    } catch (error) {
      this.fail(error);
    }
  }

  /** An internal error (a bug here, or one nothing caught that the CLI hands over): end on blue with the state saved, exit 1. */
  fail(error: unknown): void {
    if (this.state.ending) return;
    const message = errorText(error);
    this.state.toBlue();
    this.emit('failed', `internal error: ${message}; rolling back to blue`);
    void this.end(endings.failed(message));
  }
}
