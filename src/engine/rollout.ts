// The rollout loop: stages on a stage clock, analysis on an interval, and the ways a rollout ends.
import { createQualityChecker, decideStageEnd, evaluate } from '../analysis/index.js';
import type { Breach, CheckResult } from '../analysis/types.js';
import type { EvaluateInput } from '../analysis/evaluate.js';
import { MetricsRecorder, sumArmCounts } from '../metrics/index.js';
import type { StageVerdict } from '../metrics/types.js';
import type { HookConfig } from '../plan/schema.js';
import type { TimerHandle } from './clock.js';
import type { Arrivals, ControlRequest, EngineDeps, HookEventName } from './deps.js';
import { Dispatcher } from './dispatcher.js';
import { HealthChecker } from './health.js';
import { OverdueWatch } from './overdue.js';
import { buildSnapshot } from './snapshot.js';
import { StateSaver } from './state-saver.js';
import type { EventType, Phase, RolloutEvent, RolloutSnapshot } from './types.js';

export interface RolloutOutcome {
  phase: Phase;
  exitCode: number;
  reason?: string;
  breach?: Breach;
}

const RECENT_EVENTS = 30;
const TREND_POINTS = 60;
const CONTROL_POLL_MS = 250;
/** Latency rules are judged at most this often on requests crossing their limit (besides the interval). */
const OVERDUE_GAP_MS = 100;
const LATENCY_RULES = ['latency_p95', 'latency_p99'] as const;

type Ending = { phase: Phase; exitCode: number; reason: string; hook?: HookEventName; verdict: StageVerdict; breach?: Breach };

export class RolloutEngine {
  private phase: Phase = 'starting';
  private stageIndex = 0;
  private greenWeight = 0;
  private stageStarted = false;
  /** on_inconclusive: extend — how many times the current stage was extended. */
  private stageExtensions = 0;
  private stageElapsedBefore = 0;
  private segmentStartedAt: number | undefined;
  private stageTimer?: TimerHandle;
  private analysisTimer?: TimerHandle;
  private stateTimer?: TimerHandle;
  private controlTimer?: TimerHandle;
  private ending?: Ending;
  private endedAt?: number;
  private startedAt = 0;
  private checks: CheckResult[] = [];
  private readonly recentEvents: RolloutEvent[] = [];
  private readonly trend: number[] = [];
  private readonly listeners = new Set<(event: RolloutEvent) => void>();
  private readonly metrics: MetricsRecorder;
  private readonly dispatcher: Dispatcher;
  private readonly health?: HealthChecker;
  private readonly stateSaver: StateSaver;
  private readonly overdue?: OverdueWatch;
  private arrivals?: Arrivals;
  private resolveDone!: (outcome: RolloutOutcome) => void;
  private readonly done: Promise<RolloutOutcome>;

  constructor(private readonly deps: EngineDeps) {
    const { plan, clock } = deps;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.metrics = new MetricsRecorder({
      stages: plan.stages.map((s) => ({ name: s.name, durationMs: s.duration, greenWeight: s.green_weight })),
      prices: { blue: plan.arms.blue.price, green: plan.arms.green.price },
      now: () => clock.now(),
      // The latency rules judge the share of requests over their limits: count those exactly.
      slowLimits: { latency: LATENCY_RULES.flatMap((rule) => plan.analysis.thresholds[rule] ?? []), ttft: plan.analysis.thresholds.ttft_p95 !== undefined ? [plan.analysis.thresholds.ttft_p95] : [] },
    });
    const consecutiveLimit = plan.analysis.thresholds.consecutive_errors;
    const latencyLimits = LATENCY_RULES.map((rule) => plan.analysis.thresholds[rule]).filter((limit) => limit !== undefined);
    if (latencyLimits.length > 0) {
      // A request running past the limit is known to be slow before it answers: judge then, not an interval later.
      this.overdue = new OverdueWatch({ clock, limitMs: Math.min(...latencyLimits), minGapMs: OVERDUE_GAP_MS, onOverdue: () => this.guardSync(() => this.analyse()) });
    }
    this.dispatcher = new Dispatcher({
      clients: deps.clients,
      traffic: deps.traffic,
      splitter: deps.splitter,
      metrics: this.metrics,
      maxInFlight: plan.traffic.max_in_flight,
      checkQuality: createQualityChecker(plan.analysis.quality),
      onGreenResult: (result, quality) => {
        // Consecutive errors are judged at once, not at the next interval: that is their point.
        if (consecutiveLimit !== undefined && (!result.ok || !quality.ok)) this.analyse();
      },
      greenWatch: this.overdue,
    });
    this.stateSaver = new StateSaver({
      build: () => this.snapshot(),
      write: (snapshot) => deps.persistence.writeState(snapshot),
      onError: (message) => this.emit('warning', `state.json could not be written (${message}); the rollout goes on, and events.jsonl still records it`),
    });
    if (plan.health_check) {
      this.health = new HealthChecker(plan.health_check, deps.clients.green, clock, (ok) => {
        if (!ok) this.analyse();
      });
    }
  }

  /** Runs the rollout to its end. */
  run(): Promise<RolloutOutcome> {
    const { clock, plan } = this.deps;
    this.startedAt = clock.now();
    this.phase = 'progressing';
    this.emit('rollout_started', `rollout "${plan.name}" started: ${plan.arms.blue.model} (blue) -> ${plan.arms.green.model} (green), ${plan.stages.length} stages`);
    this.arrivals = this.deps.arrivals(() => this.onArrival());
    this.scheduleAnalysis();
    this.scheduleStateWrites();
    this.scheduleControlPolling();
    this.health?.start();
    void this.guard(async () => {
      await this.enterStage(0);
      if (!this.ending) this.arrivals?.start();
    });
    return this.done;
  }

  onEvent(listener: (event: RolloutEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): RolloutSnapshot {
    return buildSnapshot({
      plan: this.deps.plan,
      pid: this.deps.pid,
      phase: this.phase,
      startedAt: this.startedAt,
      now: this.deps.clock.now(),
      endedAt: this.endedAt,
      stageIndex: this.stageIndex,
      stageElapsedMs: this.stageElapsed(),
      greenWeight: this.greenWeight,
      stages: this.metrics.stages(),
      checks: this.checks,
      breach: this.ending?.breach,
      reason: this.ending?.reason,
      exitCode: this.endedAt !== undefined ? this.ending?.exitCode : undefined,
      window: { blue: this.metrics.window('blue'), green: this.metrics.window('green') },
      trend: this.trend,
      recentEvents: this.recentEvents,
    });
  }

  // --- operator controls ----------------------------------------------------------------------

  pause(actor = 'operator'): void {
    if (this.phase !== 'progressing' || this.ending) return;
    this.phase = 'paused';
    this.stopStageClock();
    this.emit('paused', `paused by ${actor}: traffic goes on at ${pct(this.greenWeight)} green, the stage clock is stopped`, { actor });
  }

  resume(actor = 'operator'): void {
    if (this.phase !== 'paused' || this.ending) return;
    this.phase = 'progressing';
    if (this.stageStarted) this.startStageClock();
    this.emit('resumed', `resumed by ${actor}`, { actor });
  }

  promote(actor = 'operator'): void {
    if (this.ending) return;
    this.emit('promote_requested', `promotion to 100% requested by ${actor}`, { actor });
    this.greenWeight = 1;
    void this.end({ phase: 'promoted', exitCode: 0, reason: `promoted to 100% green by ${actor}`, hook: 'promote', verdict: 'skipped' });
  }

  abort(actor = 'operator'): void {
    if (this.ending) return;
    this.emit('abort_requested', `abort requested by ${actor}`, { actor });
    this.toBlue();
    void this.end({ phase: 'aborted', exitCode: 4, reason: `aborted by ${actor}; traffic is back on blue`, hook: 'abort', verdict: 'aborted' });
  }

  /** SIGINT / SIGTERM: roll back to blue, save the state, exit 130 / 143. */
  interrupt(signal: 'SIGINT' | 'SIGTERM'): void {
    if (this.ending) {
      // A second signal: stop waiting for in-flight requests.
      this.dispatcher.cancelAll();
      return;
    }
    this.toBlue();
    this.emit('interrupted', `interrupted by ${signal}: traffic is back on blue`);
    void this.end({
      phase: 'interrupted',
      exitCode: signal === 'SIGINT' ? 130 : 143,
      reason: `interrupted by ${signal}; rolled back to blue`,
      hook: 'rollback',
      verdict: 'aborted',
    });
  }

  // --- stages ---------------------------------------------------------------------------------

  private async enterStage(index: number): Promise<void> {
    const { plan } = this.deps;
    const stage = plan.stages[index];
    if (!stage) return;
    const hook = plan.hooks?.on_stage;
    if (hook) {
      const result = await this.runHook(hook, 'stage', index, stage.green_weight);
      if (this.ending) return;
      if (!result.ok) {
        this.rollback({ rule: 'hook', figure: null, limit: 0, unit: 'count', sample: 0, message: `on_stage hook for stage ${index + 1} failed: ${result.message}` });
        return;
      }
    }
    this.stageIndex = index;
    this.greenWeight = stage.green_weight;
    this.stageElapsedBefore = 0;
    this.stageExtensions = 0;
    this.stageStarted = true;
    this.metrics.startStage(index);
    this.emit('stage_started', `stage ${index + 1}/${plan.stages.length} started: ${pct(stage.green_weight)} green for ${seconds(stage.duration)}`);
    if (this.phase === 'progressing') this.startStageClock();
  }

  private startStageClock(): void {
    const duration = (this.deps.plan.stages[this.stageIndex]?.duration ?? 0) * (1 + this.stageExtensions);
    this.segmentStartedAt = this.deps.clock.now();
    this.stageTimer = this.deps.clock.setTimer(() => void this.guard(() => this.onStageTimeUp()), Math.max(0, duration - this.stageElapsedBefore));
  }

  private stopStageClock(): void {
    if (this.segmentStartedAt !== undefined) this.stageElapsedBefore += this.deps.clock.now() - this.segmentStartedAt;
    this.segmentStartedAt = undefined;
    this.stageTimer?.cancel();
  }

  private stageElapsed(): number {
    const running = this.segmentStartedAt !== undefined ? this.deps.clock.now() - this.segmentStartedAt : 0;
    return this.stageElapsedBefore + running;
  }

  private async onStageTimeUp(): Promise<void> {
    if (this.ending) return;
    this.stopStageClock();
    // The stage is judged once more at its end, so a breach in its last moments still counts.
    this.analyse();
    if (this.ending) return;
    const index = this.stageIndex;
    const { plan } = this.deps;
    // A rule still undecided at the stage's end: the plan's on_inconclusive says what happens (src/analysis).
    const decision = decideStageEnd(this.checks, plan.analysis, this.stageExtensions);
    const undecided = decision.undecided.length ? ` (undecided: ${decision.undecided.join(', ')})` : '';
    if (decision.action === 'extend') {
      this.stageExtensions = decision.extension;
      this.emit('stage_extended', `stage ${index + 1}/${plan.stages.length} extended by ${seconds(plan.stages[index]?.duration ?? 0)} (${decision.extension} of ${plan.analysis.max_extensions})${undecided}`);
      this.startStageClock();
      return;
    }
    if (decision.action === 'pause') {
      this.emit('stage_undecided', `stage ${index + 1}/${plan.stages.length} time is up${undecided}; pausing for an operator (resume to go on, promote or abort)`);
      this.stageExtensions++;
      this.pause('analysis');
      return;
    }
    this.metrics.endStage(index, 'passed');
    this.emit('stage_passed', `stage ${index + 1}/${plan.stages.length} passed at ${pct(this.greenWeight)} green${undecided}`);
    if (index + 1 < plan.stages.length) {
      await this.enterStage(index + 1);
    } else {
      await this.end({ phase: 'promoted', exitCode: 0, reason: `all ${plan.stages.length} stages passed; ${plan.arms.green.model} takes 100% of traffic`, hook: 'promote', verdict: 'passed' });
    }
  }

  // --- traffic and analysis -------------------------------------------------------------------

  private onArrival(): void {
    if (this.ending) return;
    this.dispatcher.dispatch(this.stageIndex, this.greenWeight);
  }

  private analyse(): void {
    if (this.ending || !this.stageStarted) return;
    const stats = this.metrics.stage(this.stageIndex);
    const blueSoFar = this.metrics.stages().slice(0, this.stageIndex + 1).map((stage) => stage.arms.blue);
    const verdict = evaluate({
      stageIndex: this.stageIndex,
      stageCount: this.deps.plan.stages.length,
      green: stats.arms.green,
      blue: stats.arms.blue,
      blueBaseline: sumArmCounts(blueSoFar),
      config: this.deps.plan.analysis,
      health: this.health?.current(),
      greenRunning: this.greenRunning(),
    });
    this.checks = verdict.checks;
    if (verdict.breach) this.rollback(verdict.breach);
  }

  /** For each latency rule, green latency counting the stage's requests still running past its limit. */
  private greenRunning(): EvaluateInput['greenRunning'] {
    if (!this.overdue) return undefined;
    const running: NonNullable<EvaluateInput['greenRunning']> = {};
    for (const rule of LATENCY_RULES) {
      const limit = this.deps.plan.analysis.thresholds[rule];
      if (limit === undefined) continue;
      const ages = this.overdue.agesOver(limit, this.stageIndex);
      const latency = ages.length > 0 ? this.metrics.latencyWithRunning(this.stageIndex, 'green', ages) : null;
      if (latency) running[rule] = { latency, running: ages.length };
    }
    return running;
  }

  private scheduleAnalysis(): void {
    const interval = this.deps.plan.analysis.interval;
    this.analysisTimer = this.deps.clock.setTimer(() => {
      if (this.ending) return;
      this.guardSync(() => {
        this.analyse();
        this.trend.push(this.metrics.window('green').errorRate);
        if (this.trend.length > TREND_POINTS) this.trend.shift();
      });
      this.scheduleAnalysis();
    }, interval);
  }

  private scheduleStateWrites(): void {
    const interval = this.deps.stateIntervalMs ?? 1000;
    this.stateTimer = this.deps.clock.setTimer(() => {
      if (this.endedAt !== undefined) return;
      this.persistState();
      this.scheduleStateWrites();
    }, interval);
  }

  private scheduleControlPolling(): void {
    const take = this.deps.takeControlRequests;
    if (!take) return;
    this.controlTimer = this.deps.clock.setTimer(() => {
      if (this.ending) return;
      this.guardSync(() => {
        for (const request of take()) this.applyControl(request);
      });
      this.scheduleControlPolling();
    }, CONTROL_POLL_MS);
  }

  private applyControl(request: ControlRequest): void {
    if (request.action === 'pause') this.pause(request.actor);
    else if (request.action === 'resume') this.resume(request.actor);
    else if (request.action === 'promote') this.promote(request.actor);
    else if (request.action === 'abort') this.abort(request.actor);
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
    this.emit('rolled_back', `rolled back to blue: ${breach.message}`, { breach });
    void this.end({ phase: 'rolled_back', exitCode: 10, reason: breach.message, hook: 'rollback', verdict: 'failed', breach });
  }

  private async end(ending: Ending): Promise<void> {
    if (this.ending) return;
    this.ending = ending;
    this.phase = ending.phase;
    this.arrivals?.stop();
    for (const timer of [this.stageTimer, this.analysisTimer, this.controlTimer]) timer?.cancel();
    this.health?.stop();
    this.overdue?.stop();
    this.stopStageClock();
    this.closeStages(ending.verdict);
    this.persistState();
    if (ending.hook) {
      const hook = this.deps.plan.hooks?.[`on_${ending.hook}`];
      if (hook) await this.runHook(hook, ending.hook, this.stageIndex, this.greenWeight, ending.reason);
    }
    await this.dispatcher.drain(this.deps.plan.arms.green.upstream.timeout.requestMs, (fn, ms) => this.deps.clock.setTimer(fn, ms));
    this.emit('drained', 'in-flight requests finished');
    this.endedAt = this.deps.clock.now();
    this.emit('finished', finalMessage(ending), { data: { phase: ending.phase, exitCode: ending.exitCode } });
    this.stateTimer?.cancel();
    this.persistState();
    await this.stateSaver.flush();
    this.resolveDone({ phase: ending.phase, exitCode: ending.exitCode, reason: ending.reason, breach: ending.breach });
  }

  private closeStages(verdict: StageVerdict): void {
    const stages = this.metrics.stages();
    const current = stages[this.stageIndex];
    if (this.stageStarted && current && current.verdict === 'running') this.metrics.endStage(this.stageIndex, verdict);
    for (const stage of stages) {
      if (stage.verdict === 'pending') this.metrics.endStage(stage.index, 'skipped');
    }
  }

  private async runHook(hook: HookConfig, event: HookEventName, stage: number, greenWeight: number, reason?: string): Promise<{ ok: boolean; message: string }> {
    const { plan, clock } = this.deps;
    const result = await this.deps.runHook(hook, {
      event,
      plan: plan.name,
      stage: stage + 1,
      stages: plan.stages.length,
      greenWeight,
      blueModel: plan.arms.blue.model,
      greenModel: plan.arms.green.model,
      reason,
      at: clock.now(),
    });
    this.emit(result.ok ? 'hook_succeeded' : 'hook_failed', `on_${event} hook: ${result.message}`);
    return result;
  }

  // --- plumbing -------------------------------------------------------------------------------

  private emit(type: EventType, message: string, extra: Partial<RolloutEvent> = {}): void {
    const event: RolloutEvent = { at: this.deps.clock.now(), type, stage: this.stageIndex, greenWeight: this.greenWeight, message, ...extra };
    this.recentEvents.push(event);
    if (this.recentEvents.length > RECENT_EVENTS) this.recentEvents.shift();
    this.deps.persistence.appendEvent(event);
    // state.json follows every event within one write, so `status` never shows a phase the journal lacks.
    if (this.startedAt) this.persistState();
    for (const listener of this.listeners) listener(event);
  }

  private persistState(): void {
    this.stateSaver.request();
  }

  /** A bug inside a timer must still end the rollout on blue with the state saved, not crash silently. */
  private async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.fail(error);
    }
  }

  private guardSync(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.toBlue();
    this.emit('failed', `internal error: ${message}; rolled back to blue`);
    void this.end({ phase: 'failed', exitCode: 1, reason: `internal error: ${message}`, hook: 'rollback', verdict: 'aborted' });
  }
}

function finalMessage(ending: Ending): string {
  return `${ending.phase.replace('_', ' ')} (exit ${ending.exitCode}): ${ending.reason}`;
}

function pct(weight: number): string {
  return `${Math.round(weight * 1000) / 10}%`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
