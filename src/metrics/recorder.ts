// Per stage x arm counters, latency histograms, tokens and cost, plus a rolling live window per arm.
import type { CheckResult } from '../analysis/types.js';
import type { ArmName } from '../plan/plan.js';
import type { Price } from '../plan/schema.js';
import type { UpstreamResult } from '../upstream/types.js';
import { ArmRecorder } from './arm.js';
import { carriedCounts, type CarryBounds } from './carry.js';
import type { Percentiles, SlowLimits, StageStats, StageVerdict, WindowStats } from './types.js';
import { RollingWindow } from './window.js';

export interface RecorderStage {
  name?: string;
  durationMs: number;
  greenWeight: number;
}

export interface MetricsRecorderOptions {
  stages: RecorderStage[];
  prices: Record<ArmName, Price | undefined>;
  /** The wall clock: when each stage started and ended, as recorded and shown. */
  now: () => number;
  /**
   * A clock that only moves forward, which the live window's seconds are counted on (default now): on the wall clock,
   * a step back an hour emptied the window (0 requests a second, no p95) for that hour.
   */
  steadyNow?: () => number;
  /** Length of the live window, whole seconds; default 10. */
  windowSeconds?: number;
  /**
   * Keep the live window (window()); default true. A recorder whose window is never read (the proxy's figure sets:
   * a rollout reads the proxy's results, not its window) saves a clock read and a histogram value per result.
   */
  liveWindow?: boolean;
  /** Latency and ttft limits whose exceedances are counted (the latency rules judge those shares). */
  slowLimits?: SlowLimits;
  /** Keep each stage x arm's latencies in buckets (ArmStats.latencyBuckets): the p95-ratio rule needs them. */
  latencyBuckets?: boolean;
}

export interface QualityVerdict {
  ok: boolean;
  reason?: string;
}

interface StageState {
  readonly name?: string;
  readonly durationMs: number;
  greenWeight: number;
  startedAt?: number;
  endedAt?: number;
  verdict: StageVerdict;
  readonly arms: Record<ArmName, ArmRecorder>;
  checks?: CheckResult[];
  /** Results recorded after the stage passed (StageStats.late). */
  late: number;
  /** Each request sent is tagged with it (SendTag); a cut moves it on. */
  epoch: number;
  cut?: Cut;
}

/**
 * A stage's arms as they were when its time was up, going on with the answers of the requests sent before then (those
 * tagged with `epoch` or earlier): what its end is judged on (see MetricsRecorder.cut).
 */
interface Cut {
  readonly epoch: number;
  readonly arms: Record<ArmName, ArmRecorder>;
}

/** Which requests of a stage a result belongs to (recordDispatch gives it): sent before its latest cut, or after. */
export type SendTag = number;

export const DEFAULT_WINDOW_SECONDS = 10;

export class MetricsRecorder {
  private readonly stageStates: StageState[];
  private readonly windows?: Record<ArmName, RollingWindow>;
  private readonly now: () => number;
  /**
   * Failures in a row per arm, across stage boundaries: five failures straddling a stage change are
   * still five in a row. Each stage's ArmStats shows the streak as of its latest result.
   */
  private readonly streak: Record<ArmName, number> = { blue: 0, green: 0 };
  /** The stage most recently started; it also shows a streak that late results of older stages extend. */
  private current?: number;

  constructor(options: MetricsRecorderOptions) {
    const { prices } = options;
    this.now = options.now;
    this.stageStates = options.stages.map((stage) => ({
      ...(stage.name !== undefined ? { name: stage.name } : {}),
      durationMs: stage.durationMs,
      greenWeight: stage.greenWeight,
      verdict: 'pending',
      late: 0,
      epoch: 0,
      arms: {
        blue: new ArmRecorder(prices.blue, options.slowLimits, options.latencyBuckets),
        green: new ArmRecorder(prices.green, options.slowLimits, options.latencyBuckets),
      },
    }));
    if (options.liveWindow === false) return;
    const seconds = options.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
    const steadyNow = options.steadyNow ?? options.now;
    const origin = steadyNow();
    this.windows = {
      blue: new RollingWindow(seconds, steadyNow, origin),
      green: new RollingWindow(seconds, steadyNow, origin),
    };
  }

  // --- stage lifecycle ------------------------------------------------------------------------

  startStage(index: number): void {
    const stage = this.at(index);
    stage.startedAt = this.now();
    stage.endedAt = undefined;
    stage.verdict = 'running';
    stage.arms.blue.consecutiveFailures = this.streak.blue;
    stage.arms.green.consecutiveFailures = this.streak.green;
    this.current = index;
  }

  /** Closes a stage. A stage that never started (skipped) keeps no times. */
  endStage(index: number, verdict: StageVerdict): void {
    const stage = this.at(index);
    stage.verdict = verdict;
    if (stage.startedAt !== undefined) stage.endedAt = this.now();
  }

  /**
   * The checks that decided the stage (it passed on them, or one breached): see StageStats.checks. A stage that
   * passed keeps the checks it passed on: its traffic goes on while the next stage's is moved (its on_stage hook),
   * and a breach judged on it then rolls back while entering the next stage, which the report shows as failed.
   */
  judged(index: number, checks: readonly CheckResult[]): void {
    const stage = this.at(index);
    if (stage.verdict === 'passed') return;
    stage.checks = [...checks];
  }

  /**
   * A stage a dead run passed (rollout --resume): passed, with the times it ran and the checks it passed on as that
   * run saved them, so the report shows it as it was judged rather than as never run.
   */
  passedBefore(index: number, saved: Partial<Pick<StageStats, 'startedAt' | 'endedAt' | 'checks'>> | undefined): void {
    const stage = this.at(index);
    stage.verdict = 'passed';
    if (saved?.startedAt !== undefined) {
      stage.startedAt = saved.startedAt;
      stage.endedAt = saved.endedAt ?? saved.startedAt;
    }
    if (saved?.checks) stage.checks = [...saved.checks];
  }

  /** At the end of a rollout: the running stage (if it started) gets the ending's verdict, the rest are skipped. */
  closeAll(running: number | undefined, verdict: StageVerdict): void {
    if (running !== undefined && this.at(running).verdict === 'running') this.endStage(running, verdict);
    this.stageStates.forEach((stage, index) => {
      if (stage.verdict === 'pending') this.endStage(index, 'skipped');
    });
  }

  /** Adds a dead run's saved figures of a stage (rollout --resume) to the stage's, before it starts again. */
  /** Says what of it was unreadable ("green latency histogram: ..."). `bounds`: the plan's and the journal's (carriedCounts). */
  carry(index: number, saved: Partial<Pick<StageStats, 'arms'>>, bounds?: CarryBounds): string[] {
    const stage = this.at(index);
    const unreadable: string[] = [];
    for (const arm of ['blue', 'green'] as const) {
      const counts = carriedCounts(saved.arms?.[arm], bounds);
      stage.arms[arm].carry(counts);
      unreadable.push(...counts.unreadable.map((problem) => `${arm} ${problem}`));
    }
    return unreadable;
  }

  /** A promote or a rollback changes the live weight of the stage. */
  setStageWeight(index: number, greenWeight: number): void {
    this.at(index).greenWeight = greenWeight;
  }

  // --- hot path -------------------------------------------------------------------------------

  /** A request sent, streamed or not; pass its tag with its result (or its cancellation). */
  recordDispatch(stage: number, arm: ArmName, stream: boolean): SendTag {
    const at = this.at(stage);
    at.arms[arm].dispatched(stream);
    return at.epoch;
  }

  /**
   * The stage's time is up: its end is judged (judgedStage) on the requests sent until now, in send order a prefix of
   * each arm's, with the answers of those still running recorded as they come. Requests sent from now on (the stage's
   * weight holds until the next stage is entered) count in its figures but not in that judgement: judged there, those
   * still running widened every interval as outcomes unknown. Only for sources that tag their results (generated
   * traffic, live traffic's proxies): an untagged result counts as sent before the cut.
   */
  cut(index: number): void {
    const stage = this.at(index);
    stage.cut = { epoch: stage.epoch, arms: { blue: stage.arms.blue.copy(), green: stage.arms.green.copy() } };
    stage.epoch++;
  }

  /** The stage's end was judged, or goes on (extended, paused): its figures are one set again. */
  uncut(index: number): void {
    this.at(index).cut = undefined;
  }

  /**
   * Live traffic: the requests the proxies still serve in a stage on an arm, as their latest read says. They count
   * in the arm's inFlight: the rate rules judge them as outcomes still unknown (src/analysis/rate-rules.ts).
   * `sentBeforeCut`: those of them begun before the stage's cut (see cut). `streamed`: of each, those streamed or not
   * known not to be (ttft_p95's unknowns); all of them unless given.
   */
  setInFlightAtProxies(stage: number, arm: ArmName, count: number, sentBeforeCut = count, streamed = { all: count, beforeCut: sentBeforeCut }): void {
    const at = this.at(stage);
    at.arms[arm].atProxies = count;
    at.arms[arm].streamedAtProxies = Math.min(streamed.all, count);
    // After a cut, its end judges as unknown only those begun before it (a live source's proxies say which).
    if (at.cut) {
      at.cut.arms[arm].atProxies = sentBeforeCut;
      at.cut.arms[arm].streamedAtProxies = Math.min(streamed.beforeCut, sentBeforeCut);
    }
  }

  /**
   * The tag a request sent now in the stage gets (recordDispatch's, without a dispatch): a source that learns of its
   * requests later (the proxies' feed) tags those it knows were sent after the stage's cut with it.
   */
  sendTag(stage: number): SendTag {
    return this.at(stage).epoch;
  }

  recordDropped(stage: number, arm: ArmName): void {
    this.at(stage).arms[arm].dropped++;
  }

  recordCancelled(stage: number, arm: ArmName, stream: boolean, tag?: SendTag): void {
    const at = this.at(stage);
    at.arms[arm].cancelled(stream);
    if (at.cut && sentBefore(at.cut, tag)) at.cut.arms[arm].cancelled(stream);
  }

  /**
   * One finished request. `quality` is only looked at for ok results: a failed request is an error, not a quality failure.
   * `sentStream`: what recordDispatch was told (the in-flight streams it counted), if the result may say otherwise.
   */
  recordResult(stage: number, result: UpstreamResult, quality: QualityVerdict, tag?: SendTag, sentStream = result.stream): void {
    const armName = result.arm;
    const at = this.at(stage);
    // Answered after its stage passed: judged with it again at the next judgement (stage-steps.ts judgeLate). A
    // neutral result changes no judged figure.
    if (at.verdict === 'passed' && !result.neutral) at.late++;
    const arm = at.arms[armName];
    const failed = !result.ok;
    const qualityFailed = result.ok && !quality.ok;
    arm.record(result, qualityFailed, sentStream);
    const cut = at.cut;
    if (cut && sentBefore(cut, tag)) cut.arms[armName].record(result, qualityFailed, sentStream);
    // Counted apart by the arm (ArmRecorder.record), in neither its live window nor its streak.
    if (result.neutral) return;
    this.windows?.[armName].record(result.latencyMs, failed);
    // A client abort neither extends nor breaks a streak: a client closing a page cuts several requests at once,
    // and nobody saw how they would have ended (src/analysis/aborts.ts).
    if (failed && result.failure === 'client_abort') return;
    const streak = failed || qualityFailed ? this.streak[armName] + 1 : 0;
    this.streak[armName] = streak;
    setStreak(at, armName, streak);
    if (this.current !== undefined && this.current !== stage) setStreak(this.at(this.current), armName, streak);
  }

  // --- reading --------------------------------------------------------------------------------

  get stageCount(): number {
    return this.stageStates.length;
  }

  /**
   * A plain, serialisable copy; percentiles are recomputed only for histograms that changed. `withHistograms` for
   * state.json (ArmStats.histograms).
   */
  stage(index: number, withHistograms = false): StageStats {
    const stage = this.at(index);
    return this.stats(index, stage, stage.arms, withHistograms);
  }

  /** The stage as its end judges it: after a cut, the requests sent before it (see cut); otherwise stage(). */
  judgedStage(index: number): StageStats {
    const stage = this.at(index);
    return this.stats(index, stage, stage.cut?.arms ?? stage.arms, false);
  }

  private stats(index: number, stage: StageState, arms: Record<ArmName, ArmRecorder>, withHistograms: boolean): StageStats {
    const stats: StageStats = {
      index,
      greenWeight: stage.greenWeight,
      durationMs: stage.durationMs,
      verdict: stage.verdict,
      arms: { blue: arms.blue.snapshot(withHistograms), green: arms.green.snapshot(withHistograms) },
    };
    if (stage.name !== undefined) stats.name = stage.name;
    if (stage.startedAt !== undefined) stats.startedAt = stage.startedAt;
    if (stage.endedAt !== undefined) stats.endedAt = stage.endedAt;
    if (stage.checks !== undefined) stats.checks = [...stage.checks];
    if (stage.late > 0) stats.late = stage.late;
    return stats;
  }

  /** Results recorded after `index` passed: requests that outlived its end's wait. */
  late(index: number): number {
    return this.at(index).late;
  }

  stages(withHistograms = false): StageStats[] {
    return this.stageStates.map((_, index) => this.stage(index, withHistograms));
  }

  /**
   * One stage x arm's latency with still-running requests counted at their ages: lower bounds, for analysis.
   * `sentBeforeCut`: of the requests sent before the stage's cut (judgedStage).
   */
  latencyWithRunning(stage: number, arm: ArmName, runningAgesMs: readonly number[], sentBeforeCut = false): Percentiles | null {
    const at = this.at(stage);
    return ((sentBeforeCut && at.cut?.arms) || at.arms)[arm].latencyWithRunning(runningAgesMs);
  }

  /** Live figures for one arm over the last windowSeconds, across stages. */
  window(arm: ArmName): WindowStats {
    // Asked of a recorder made without one: a bug in the caller.
    if (!this.windows) throw new Error('this recorder keeps no live window (liveWindow: false)');
    return this.windows[arm].stats();
  }

  private at(index: number): StageState {
    const stage = this.stageStates[index];
    // A bad index is a bug in the caller: fail loudly rather than lose figures.
    if (!stage) throw new RangeError(`no stage ${index}: the plan has ${this.stageStates.length}`);
    return stage;
  }
}

/** Sent before the cut: tagged with its epoch or an earlier one, or untagged (a source that tags nothing). */
function sentBefore(cut: Cut, tag: SendTag | undefined): boolean {
  return tag === undefined || tag <= cut.epoch;
}

function setStreak(stage: StageState, arm: ArmName, streak: number): void {
  stage.arms[arm].consecutiveFailures = streak;
  if (stage.cut) stage.cut.arms[arm].consecutiveFailures = streak;
}
