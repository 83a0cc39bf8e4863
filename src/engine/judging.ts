// What the engine hands the judge: the stage's per-arm figures, the health check's state, and green latency
// that counts requests still running past a latency limit (known slow before they answer).
import { evaluate, plannedBlueRequests } from '../analysis/index.js';
import type { EvaluateInput } from '../analysis/evaluate.js';
import type { SentBefore } from '../analysis/quantile.js';
import type { Verdict } from '../analysis/types.js';
import type { Clock } from '../core/clock.js';
import type { MetricsRecorder } from '../metrics/index.js';
import type { SlowLimits } from '../metrics/types.js';
import type { ArmName } from '../plan/plan.js';
import type { Plan } from '../plan/plan.js';
import type { Judge } from './deps.js';
import type { HealthChecker } from './health.js';
import { ArmSends } from './arm-sends.js';
import { OverdueWatch } from './overdue.js';

/** Latency rules are judged at most this often on requests crossing their limit (besides the interval). */
const OVERDUE_GAP_MS = 100;
const LATENCY_RULES = ['latency_p95', 'latency_p99'] as const;

/** The latency limits whose exceedances the metrics count per arm: the latency rules judge them as rates. */
export function slowLimitsOf(plan: Plan): SlowLimits {
  const thresholds = plan.analysis.thresholds;
  return { latency: LATENCY_RULES.flatMap((rule) => thresholds[rule] ?? []), ttft: thresholds.ttft_p95 !== undefined ? [thresholds.ttft_p95] : [] };
}

/** The p95 ratio to blue needs ranks of both arms' latencies: the metrics then keep them in buckets. */
export function needsLatencyBuckets(plan: Plan): boolean {
  return plan.analysis.compare_to_blue?.max_latency_p95_ratio !== undefined;
}

export interface JudgingOptions {
  plan: Plan;
  clock: Clock;
  metrics: MetricsRecorder;
  judge?: Judge;
  /** Called when a green request crosses a latency limit, so the engine judges then, not an interval later. */
  onOverdue: () => void;
}

export class StageJudging {
  /** Watches green requests in flight when the plan has latency rules or the p95 ratio to blue (greenSends' watch then). */
  readonly overdue?: OverdueWatch;
  /**
   * Each arm's send times, when the plan has the p95 ratio to blue (its sent-before upper bounds, src/analysis/quantile.ts).
   * Only generated traffic feeds them; a live proxy's requests are not in them, so they never cover its sample.
   */
  readonly greenSends?: ArmSends;
  readonly blueSends?: ArmSends;
  private readonly judge: Judge;
  /**
   * Each arm's send times from the one traffic source that reports them (live traffic: TrafficSource.sent), instead of
   * greenSends and blueSends, which only generated traffic feeds.
   */
  private sourceSent?: (arm: ArmName, stage: number) => SentBefore | undefined;
  /** The stage whose time is up, and the last green (and blue) request its end judges (see cut). */
  private cutAt?: { stage: number; upTo: number; blueUpTo: number };

  constructor(private readonly options: JudgingOptions) {
    const thresholds = options.plan.analysis.thresholds;
    const latencyLimits = LATENCY_RULES.map((rule) => thresholds[rule]).filter((limit) => limit !== undefined);
    if (latencyLimits.length > 0 || needsLatencyBuckets(options.plan)) {
      // Without a latency limit the watch only tells the ratio rule how long green's running requests have run.
      const limitMs = latencyLimits.length > 0 ? Math.min(...latencyLimits) : undefined;
      const watch = { limitMs, minGapMs: OVERDUE_GAP_MS, onOverdue: options.onOverdue };
      // With the ratio, green's send times and its watch are one (one reading of each send, one set of ids for a cut).
      if (needsLatencyBuckets(options.plan)) this.greenSends = new ArmSends(options.clock, watch);
      this.overdue = this.greenSends?.running ?? new OverdueWatch({ clock: options.clock, ...watch });
    }
    if (needsLatencyBuckets(options.plan)) this.blueSends = new ArmSends(options.clock);
    this.judge = options.judge ?? evaluate;
  }

  /** What the dispatcher tells of each green request's start and end. */
  get greenWatch(): ArmSends | OverdueWatch | undefined {
    return this.greenSends ?? this.overdue;
  }

  /** Each arm's send times come from `source` (its only traffic). */
  sentFrom(source: (arm: ArmName, stage: number) => SentBefore | undefined): void {
    if (this.blueSends) this.sourceSent = source;
  }

  /**
   * The stage's time is up: its end is judged on the requests sent until now (MetricsRecorder.cut), green's running
   * ones among them too. Only for sources that tag what they send (generated and live traffic).
   */
  cut(stageIndex: number): void {
    this.options.metrics.cut(stageIndex);
    this.cutAt = { stage: stageIndex, upTo: this.overdue?.lastStarted ?? Infinity, blueUpTo: this.blueSends?.lastStarted ?? Infinity };
  }

  /** The stage's end was judged, or it goes on: its figures are one set again. */
  uncut(stageIndex: number): void {
    this.options.metrics.uncut(stageIndex);
    if (this.cutAt?.stage === stageIndex) this.cutAt = undefined;
  }

  /** `sentBeforeCut`: judge the requests sent before the stage's time was up, if it was cut (see cut). */
  verdict(stageIndex: number, health?: HealthChecker, sentBeforeCut = false): Verdict {
    const { metrics, plan } = this.options;
    const stats = sentBeforeCut ? metrics.judgedStage(stageIndex) : metrics.stage(stageIndex);
    const cutAt = sentBeforeCut && this.cutAt?.stage === stageIndex ? this.cutAt : undefined;
    const upTo = cutAt?.upTo ?? Infinity;
    // Green's send times in the stage (up to its cut): its p95's sent-before bound, the ratio's ok side.
    const greenSent = this.greenSends ? this.sentOf('green', stageIndex, cutAt) : undefined;
    // Comparisons judge green against the stage's blue, or blue over the rollout so far when it plans too few (src/analysis/reference.ts).
    // The absolute rate thresholds judge green since each stage began too (src/analysis/since-stage.ts).
    const before = metrics.stages().slice(0, stageIndex);
    const blueStages = [...before.map((stage) => stage.arms.blue), stats.arms.blue];
    const greenStages = [...before.map((stage) => stage.arms.green), stats.arms.green];
    return this.judge({
      stageIndex,
      stageCount: plan.stages.length,
      green: stats.arms.green,
      blue: stats.arms.blue,
      blueStages,
      greenStages,
      greenWeight: plan.stages[stageIndex]?.green_weight,
      plannedBlue: plannedBlueRequests(plan),
      config: this.options.plan.analysis,
      health: health?.current(),
      greenRunning: this.greenRunning(stageIndex, upTo, sentBeforeCut),
      // Every running green request at its age so far: a lower bound of its latency, for green's p95 lower bound. Read
      // once a look: the send times' exact ages where they have them (the same watch, the same requests), else the watch's.
      ...(this.overdue && needsLatencyBuckets(plan)
        ? { greenRunningAgesMs: greenSent?.runningAgesAtMostMs ?? this.overdue.agesOver(0, stageIndex, upTo) }
        : {}),
      ...(this.greenSends ? { greenSent } : {}),
      // Blue's send times in each stage so far (the stage's own up to its cut): its p95's sent-before bound.
      ...(this.blueSends ? { blueSent: blueStages.map((_, i) => this.sentOf('blue', i, i === stageIndex ? cutAt : undefined)) } : {}),
    });
  }

  stop(): void {
    this.overdue?.stop();
  }

  /**
   * The arm's send times in `stage` (up to its cut when judged at its end). A source's are of every request it read,
   * not only those sent before the cut: none then (the conservative count), never a sample the judged figures are not.
   */
  private sentOf(arm: ArmName, stage: number, cutAt: { upTo: number; blueUpTo: number } | undefined): SentBefore | undefined {
    if (this.sourceSent) return cutAt ? undefined : this.sourceSent(arm, stage);
    return arm === 'blue' ? this.blueSends?.view(stage, cutAt?.blueUpTo) : this.greenSends?.view(stage, cutAt?.upTo);
  }

  /** For each latency rule, green latency counting the stage's requests still running past its limit. */
  private greenRunning(stageIndex: number, upTo: number, sentBeforeCut: boolean): EvaluateInput['greenRunning'] {
    if (!this.overdue) return undefined;
    const running: NonNullable<EvaluateInput['greenRunning']> = {};
    for (const rule of LATENCY_RULES) {
      const limit = this.options.plan.analysis.thresholds[rule];
      if (limit === undefined) continue;
      const ages = this.overdue.agesOver(limit, stageIndex, upTo);
      const latency = ages.length > 0 ? this.options.metrics.latencyWithRunning(stageIndex, 'green', ages, sentBeforeCut) : null;
      if (latency) running[rule] = { latency, running: ages.length };
    }
    return running;
  }
}
