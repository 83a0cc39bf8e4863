// The rollout: stages on a stage clock, judgement on an interval and on fast signals, and the ways it ends.
// Where traffic comes from (sources), who judges (StageJudging) and what moves real traffic (actuators) are
// seams; this file only sequences them.
import type { Breach, CheckResult } from '../analysis/types.js';
import type { TimerHandle } from '../core/clock.js';
import { formatCount, formatDuration, formatWeight } from '../core/format.js';
import { MetricsRecorder } from '../metrics/index.js';
import { Actuators, type ActuationResult, type EndingMove } from './actuator.js';
import type { ControlRequest, EngineDeps } from './deps.js';
import { endingEventMessage, endings, finalMessage, type Ending, type InterruptSignal } from './endings.js';
import { EventLog } from './event-log.js';
import { firstFailureReporter } from './first-errors.js';
import { sourcesOf } from './generated-traffic.js';
import { HealthChecker } from './health.js';
import { HookActuator } from './hook-actuator.js';
import { needsLatencyBuckets, slowLimitsOf, StageJudging } from './judging.js';
import { repeatEvery } from './repeat.js';
import { buildSnapshot } from './snapshot.js';
import { StageClock } from './stage-clock.js';
import { stageEndStep } from './stage-end.js';
import { StateSaver } from './state-saver.js';
import type { TrafficSource } from './traffic-source.js';
import type { EventType, Phase, RolloutEvent, RolloutSnapshot } from './types.js';
import { errorText } from '../core/errors.js';

export interface RolloutOutcome {
  phase: Phase;
  exitCode: number;
  reason?: string;
  breach?: Breach;
}

const TREND_POINTS = 60;
const CONTROL_POLL_MS = 250;

export class RolloutEngine {
  private phase: Phase = 'starting';
  private stageIndex = 0;
  private greenWeight = 0;
  private stageStarted = false;
  /** on_inconclusive: extend — how many times the current stage was extended. */
  private stageExtensions = 0;
  private ending?: Ending;
  private endedAt?: number;
  private startedAt = 0;
  private checks: CheckResult[] = [];
  private readonly trend: number[] = [];
  private readonly timers: TimerHandle[] = [];
  /** Kept apart from the other timers: state.json goes on being written while the ending drains. */
  private stateTimer?: TimerHandle;
  private readonly events: EventLog;
  private readonly metrics: MetricsRecorder;
  private readonly stageClock: StageClock;
  private readonly judging: StageJudging;
  private readonly sources: TrafficSource[];
  private readonly actuators: Actuators;
  private readonly health?: HealthChecker;
  private readonly stateSaver: StateSaver;
  private resolveDone!: (outcome: RolloutOutcome) => void;
  private readonly done: Promise<RolloutOutcome>;
  /** While a promotion moves traffic, its actuation reports wait here: they follow `promoted`, or the rollback's breach. */
  private heldReports?: (() => void)[];
  /** What of a resumed run's saved figures could not be read, journaled once it started. */
  private readonly carryProblems: string[] = [];

  constructor(private readonly deps: EngineDeps) {
    const { plan, clock } = deps;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.events = new EventLog((event) => deps.persistence.appendEvent(event));
    this.metrics = new MetricsRecorder({
      stages: plan.stages.map((s) => ({ name: s.name, durationMs: s.duration, greenWeight: s.green_weight })),
      prices: { blue: plan.arms.blue.price, green: plan.arms.green.price },
      now: () => clock.now(),
      // The latency rules judge the share of requests over their limits: count those exactly.
      slowLimits: slowLimitsOf(plan),
      latencyBuckets: needsLatencyBuckets(plan),
    });
    this.stageClock = new StageClock(clock, () => this.guard(() => this.onStageTimeUp()));
    this.judging = new StageJudging({ plan, clock, metrics: this.metrics, judge: deps.judge, onOverdue: () => this.guard(() => this.analyse()) });
    const consecutiveLimit = plan.analysis.thresholds.consecutive_errors;
    const context = {
      metrics: this.metrics,
      current: () => (this.ending || !this.stageStarted ? undefined : { stage: this.stageIndex, greenWeight: this.greenWeight }),
      // Consecutive errors are judged at once, not at the next interval: that is their point.
      onGreenResult: (result: { ok: boolean }, quality: { ok: boolean }) => {
        if (consecutiveLimit !== undefined && (!result.ok || !quality.ok)) this.analyse();
      },
      // The first failure of each kind is journaled with what came back: "100% errors" alone says too little.
      onFailure: firstFailureReporter((message) => this.emit('warning', message)),
      greenWatch: this.judging.overdue,
      breach: (breach: Breach) => this.rollback(breach),
      warn: (message: string) => this.emit('warning', message),
    };
    this.sources = sourcesOf(deps).map((factory) => factory(context));
    // The given actuators (the live proxies) first: a rollback puts live traffic on blue before any hook runs.
    this.actuators = new Actuators([...(deps.actuators ?? []), new HookActuator(plan, deps.runHook, clock)], (result, move) =>
      this.reportActuation(result, move),
    );
    this.stateSaver = new StateSaver({
      build: () => this.snapshot(true),
      write: (snapshot) => deps.persistence.writeState(snapshot),
      onError: (message) => this.emit('warning', `state.json could not be written (${message}); the rollout goes on, and events.jsonl still records it`),
    });
    if (plan.health_check) {
      this.health = new HealthChecker(plan.health_check, deps.clients.green, clock, (ok, state, changed) => {
        if (changed)
          this.emit(
            ok ? 'health_check_recovered' : 'health_check_failed',
            ok ? 'green health check passes again' : `green health check failed: ${state.lastError ?? 'error'}`,
          );
        if (!ok) this.analyse();
      });
    }
  }

  /** Runs the rollout to its end. */
  run(): Promise<RolloutOutcome> {
    const { clock, plan } = this.deps;
    this.startedAt = clock.now();
    this.phase = 'progressing';
    const first = Math.min(Math.max(0, this.deps.startStage ?? 0), plan.stages.length - 1);
    const resumed = this.carryOver(first);
    this.stageIndex = first;
    this.emit(
      'rollout_started',
      `rollout "${plan.name}" started: ${plan.arms.blue.model} (blue) -> ${plan.arms.green.model} (green), ${plan.stages.length} stages${resumed}`,
    );
    for (const problem of this.carryProblems.splice(0)) this.emit('warning', problem);
    this.timers.push(repeatEvery(clock, plan.analysis.interval, () => this.guard(() => this.onInterval())));
    this.stateTimer = repeatEvery(clock, this.deps.stateIntervalMs ?? 1000, () => this.persistState());
    const take = this.deps.takeControlRequests;
    if (take) this.timers.push(repeatEvery(clock, CONTROL_POLL_MS, () => this.guard(() => take().forEach((request) => this.applyControl(request)))));
    this.health?.start();
    this.guard(async () => {
      // state.json exists before any hook can move traffic, so a crash from here on leaves a record to recover from.
      await this.stateSaver.flush();
      if (this.ending) return;
      // Not even that first record could be written (the folder filled up since the start's check): refused.
      const unsaved = this.stateSaver.failure;
      if (unsaved !== undefined) {
        const ending = endings.unrecorded(unsaved, first > 0 || (this.deps.carried?.length ?? 0) > 0);
        this.emit('failed', ending.reason);
        return this.end(ending);
      }
      if (this.deps.alreadyPromoted !== undefined) {
        this.greenWeight = 1;
        return this.end(endings.alreadyPromoted(this.deps.alreadyPromoted));
      }
      await this.enterStage(first);
      if (!this.ending) for (const source of this.sources) source.start();
    });
    return this.done;
  }

  /**
   * A resumed rollout's earlier stages passed in the run that died; they, and the stage it resumes, go on
   * from that run's saved figures, so the resumed stage continues its tests (and their share of the
   * false-rollback budget) instead of spending the share again on fresh counts. Says what was carried.
   */
  private carryOver(first: number): string {
    const carried = this.deps.carried ?? [];
    for (const [index, saved] of carried.entries()) {
      if (index > first) continue;
      // A saved histogram hand-edited or corrupt is left out (its percentiles cover the new requests only), and said.
      for (const problem of this.metrics.carry(index, saved))
        this.carryProblems.push(`state.json's stage ${index + 1} ${problem}: left out, so its percentiles cover this run's requests only`);
    }
    for (let index = 0; index < first; index++) this.metrics.endStage(index, 'passed');
    if (first === 0 && carried.length === 0) return '';
    const arms = this.metrics.stage(first).arms;
    const counts =
      arms.green.requests + arms.blue.requests > 0
        ? ` (its tests go on from the ${formatCount(arms.green.requests)} green and ${formatCount(arms.blue.requests)} blue requests the dead run recorded)`
        : '';
    return `, resumed at stage ${first + 1}${counts}`;
  }

  onEvent(listener: (event: RolloutEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  /** `forState`: with each stage x arm's histograms, which only state.json keeps (for rollout --resume). */
  snapshot(forState = false): RolloutSnapshot {
    return buildSnapshot({
      plan: this.deps.plan,
      pid: this.deps.pid,
      phase: this.phase,
      startedAt: this.startedAt,
      now: this.deps.clock.now(),
      endedAt: this.endedAt,
      stageIndex: this.stageIndex,
      stageElapsedMs: this.stageClock.elapsed(),
      greenWeight: this.greenWeight,
      stages: this.metrics.stages(forState),
      checks: this.checks,
      breach: this.ending?.breach,
      reason: this.ending?.reason,
      exitCode: this.endedAt !== undefined ? this.ending?.exitCode : undefined,
      window: { blue: this.metrics.window('blue'), green: this.metrics.window('green') },
      trend: this.trend,
      recentEvents: this.events.recent(),
    });
  }

  // --- operator controls ----------------------------------------------------------------------

  pause(actor = 'operator'): void {
    if (this.phase !== 'progressing' || this.ending) return;
    this.phase = 'paused';
    this.stageClock.stop();
    this.emit('paused', `paused by ${actor}: traffic goes on at ${formatWeight(this.greenWeight)} green, the stage clock is stopped`, { actor });
  }

  resume(actor = 'operator'): void {
    if (this.phase !== 'paused' || this.ending) return;
    this.phase = 'progressing';
    if (this.stageStarted) this.stageClock.run();
    this.emit('resumed', `resumed by ${actor}`, { actor });
  }

  promote(actor = 'operator'): void {
    if (this.ending) return;
    this.emit('promote_requested', `promotion to 100% requested by ${actor}`, { actor });
    this.greenWeight = 1;
    void this.end(endings.promotedByOperator(actor));
  }

  abort(actor = 'operator'): void {
    if (this.ending) return;
    this.emit('abort_requested', `abort requested by ${actor}`, { actor });
    this.toBlue();
    void this.end(endings.aborted(actor));
  }

  /** SIGINT / SIGTERM / SIGHUP: roll back to blue, save the state, exit 130 / 143 / 129. `cause` says where it came from. */
  interrupt(signal: InterruptSignal, cause: string = signal): void {
    if (this.ending) {
      // A second signal: stop waiting for in-flight requests.
      for (const source of this.sources) source.cancelAll();
      return;
    }
    this.toBlue();
    this.emit('interrupted', `interrupted by ${cause}: rolling back to blue`);
    void this.end(endings.interrupted(signal, cause));
  }

  // --- stages ---------------------------------------------------------------------------------

  private async enterStage(index: number): Promise<void> {
    const { plan } = this.deps;
    const stage = plan.stages[index];
    if (!stage) return;
    const results = await this.actuators.applyStage({ stage: index, stages: plan.stages.length, greenWeight: stage.green_weight });
    if (this.ending) return;
    const failed = results.find((result) => !result.ok);
    if (failed) {
      this.rollback({
        rule: failed.rule ?? 'hook',
        figure: null,
        limit: 0,
        unit: 'count',
        sample: 0,
        message: `${failed.label} for stage ${index + 1} failed: ${failed.message}`,
      });
      return;
    }
    this.stageIndex = index;
    this.greenWeight = stage.green_weight;
    this.stageExtensions = 0;
    this.stageStarted = true;
    this.metrics.startStage(index);
    this.stageClock.begin(stage.duration, this.phase === 'progressing');
    this.emit(
      'stage_started',
      `stage ${index + 1}/${plan.stages.length} started: ${formatWeight(stage.green_weight)} green for ${formatDuration(stage.duration)}`,
    );
  }

  private async onStageTimeUp(): Promise<void> {
    if (this.ending) return;
    this.stageClock.stop();
    // The stage is judged once more at its end, so a breach in its last moments still counts.
    this.analyse();
    if (this.ending) return;
    const index = this.stageIndex;
    const { plan } = this.deps;
    const step = stageEndStep(plan, index, this.checks, this.stageExtensions, this.greenWeight);
    this.stageExtensions = step.extensions;
    if (step.kind !== 'pass') {
      this.emit(step.event, step.message);
      this.stageClock.extend(step.extendByMs);
      if (step.kind === 'extend') this.stageClock.run();
      else this.pause('analysis');
      return;
    }
    this.metrics.endStage(index, 'passed');
    this.emit('stage_passed', step.message);
    if (index + 1 < plan.stages.length) await this.enterStage(index + 1);
    else await this.end(endings.allStagesPassed(plan.stages.length, plan.arms.green.model));
  }

  // --- analysis -------------------------------------------------------------------------------

  private onInterval(): void {
    if (this.ending) return;
    this.analyse();
    this.trend.push(this.metrics.window('green').errorRate);
    if (this.trend.length > TREND_POINTS) this.trend.shift();
  }

  private analyse(): void {
    if (this.ending || !this.stageStarted) return;
    const verdict = this.judging.verdict(this.stageIndex, this.health);
    this.checks = verdict.checks;
    if (verdict.breach) this.rollback(verdict.breach);
  }

  private applyControl(request: ControlRequest): void {
    // `bluegreen pause` said "requested"; one that changes nothing says so in the journal rather than nothing.
    const idle = !this.ending && ((request.action === 'pause' && this.phase === 'paused') || (request.action === 'resume' && this.phase === 'progressing'));
    if (idle)
      this.emit(
        'warning',
        `${request.action} requested by ${request.actor}: the rollout is ${request.action === 'pause' ? 'already paused' : 'not paused'}; nothing to do`,
      );
    else this[request.action](request.actor);
  }

  // --- endings --------------------------------------------------------------------------------

  private toBlue(): void {
    // Before anything else: from this moment no new request goes to green.
    this.greenWeight = 0;
  }

  private rollback(breach: Breach): void {
    if (this.ending) return;
    this.toBlue();
    this.emit('breach', breach.message, { breach });
    // The breach event just before carries the figures; this one says what was done about them.
    this.emit('rolled_back', `rolled back to blue on ${breach.rule}`, { breach });
    void this.end(endings.rolledBack(breach));
  }

  private async end(decided: Ending): Promise<void> {
    if (this.ending) return;
    let ending = decided;
    this.ending = ending;
    // A promotion is said once every proxy took it (see promotionDeclined); the others at once. Until then state.json
    // does not say "promoted" either: a script polling `status --json` must not read it for a rollout that rolls back.
    const promoting = ending.phase === 'promoted' && ending.moves !== false;
    if (!promoting) this.phase = ending.phase;
    for (const source of this.sources) source.stop();
    for (const timer of this.timers) timer.cancel();
    this.health?.stop();
    this.judging.stop();
    this.stageClock.stop();
    this.metrics.closeAll(this.stageStarted ? this.stageIndex : undefined, ending.verdict);
    if (ending.phase === 'aborted' || (ending.phase === 'promoted' && !promoting)) this.emit(ending.phase, endingEventMessage(ending));
    this.persistState();
    if (ending.moves !== false) {
      // A hook still moving traffic (a slow on_stage) is stopped before the ending's hook moves it back.
      await this.actuators.cancel();
      if (promoting) this.heldReports = [];
      const results = await this.actuators.applyEnding(this.endingMove(ending));
      const held = this.heldReports ?? [];
      this.heldReports = undefined;
      const declined = promoting ? results.filter((result) => result.declined) : [];
      if (declined.length === 0 && promoting) {
        this.phase = ending.phase;
        this.emit('promoted', endingEventMessage(ending));
      }
      for (const report of held) report();
      if (declined.length > 0) ending = await this.promotionDeclined(declined);
    }
    await Promise.all(this.sources.map((source) => source.drain(this.deps.plan.arms.green.upstream.timeout.requestMs)));
    this.emit('drained', 'in-flight requests finished');
    this.endedAt = this.deps.clock.now();
    this.emit('finished', finalMessage(ending), { data: { phase: ending.phase, exitCode: ending.exitCode } });
    this.stateTimer?.cancel();
    this.persistState();
    await this.stateSaver.flush();
    this.resolveDone({ phase: ending.phase, exitCode: ending.exitCode, reason: ending.reason, breach: ending.breach });
  }

  private endingMove(ending: Ending): EndingMove {
    const { stages } = this.deps.plan;
    return { event: ending.hook, stage: this.stageIndex, stages: stages.length, greenWeight: this.greenWeight, reason: ending.reason };
  }

  /**
   * A proxy kept a route someone else set (an operator's blue by hand) rather than take the promotion, or did not
   * answer: "promoted" would be untrue there, so the rollout rolls back as for a renewal refused, or a proxy silent,
   * the same way (exit 10): every proxy to blue, on_rollback runs.
   */
  private async promotionDeclined(declined: readonly ActuationResult[]): Promise<Ending> {
    const what = declined.map((result) => `${result.label} did not take the promotion (${result.message})`).join('; ');
    const ending = endings.promotionDeclined(what, declined[0]?.rule ?? 'hook');
    const breach = ending.breach as Breach;
    this.ending = ending;
    this.phase = ending.phase;
    this.toBlue();
    this.emit('breach', breach.message, { breach });
    this.emit('rolled_back', `rolled back to blue on ${breach.rule}`, { breach });
    await this.actuators.applyEnding(this.endingMove(ending));
    return ending;
  }

  /** Journals an actuator's result; a declined promotion is named by the breach that follows instead (every one). */
  private reportActuation(result: ActuationResult, move: { stage: number; greenWeight: number }): void {
    if (result.declined) return;
    // A held report takes the time it is journaled: the journal's times never go back (status --watch reads on from the last).
    const report = () =>
      this.emit(result.ok ? 'hook_succeeded' : 'hook_failed', `${result.label}: ${result.message}`, { stage: move.stage, greenWeight: move.greenWeight });
    if (this.heldReports) this.heldReports.push(report);
    else report();
  }

  // --- plumbing -------------------------------------------------------------------------------

  private emit(type: EventType, message: string, extra: Partial<RolloutEvent> = {}): void {
    this.events.publish({ at: this.deps.clock.now(), type, stage: this.stageIndex, greenWeight: this.greenWeight, message, ...extra });
    // state.json follows every event within one write, so `status` never shows a phase the journal lacks.
    if (this.startedAt) this.persistState();
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
    if (this.ending) return;
    const message = errorText(error);
    this.toBlue();
    this.emit('failed', `internal error: ${message}; rolled back to blue`);
    void this.end(endings.failed(message));
  }
}
