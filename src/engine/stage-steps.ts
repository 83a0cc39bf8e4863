// The stages in order: move traffic to a stage's weight, judge it on an interval and at its end, and pass, extend
// or pause it (stageEndStep) until the last one passes; an operator's pause and resume stop and run its clock.
// A failed traffic move or a breach rolls back.
import type { Breach, CheckResult } from '../analysis/types.js';
import { formatDuration, formatPlural, formatWeight } from '../core/format.js';
import type { MetricsRecorder } from '../metrics/index.js';
import type { Plan } from '../plan/plan.js';
import type { ActuationResult, StageMove } from './actuator.js';
import { endings, type Ending } from './endings.js';
import type { HealthChecker } from './health.js';
import type { StageJudging } from './judging.js';
import type { RolloutState } from './rollout-state.js';
import type { StageClock } from './stage-clock.js';
import { stageEndStep } from './stage-end.js';
import type { CatchUp, CatchUpWait } from './traffic-source.js';
import { nothingJudged, unjudgedStage, type Unjudged } from './unjudged.js';
import type { EventType, RolloutEvent, StageEndWait } from './types.js';

const TREND_POINTS = 60;

export interface StageStepsParts {
  state: RolloutState;
  plan: Plan;
  metrics: MetricsRecorder;
  stageClock: StageClock;
  judging: StageJudging;
  /** Moves traffic to a stage's weight (EndingMoves, which also holds the ending's moves). */
  actuators: { applyStage(move: StageMove): Promise<ActuationResult[]> };
  health?: HealthChecker;
  /**
   * Records what the sources served in a stage but have not recorded yet (live results since the last poll,
   * generated requests still in flight); none: nothing to wait for.
   */
  catchUp?: CatchUp;
  /**
   * Every source tags its requests as sent (TrafficSource.tagsSends): a stage's end is judged on those sent before
   * its time was up (StageJudging.cut).
   */
  cutAtTimeUp?: boolean;
  /** Requests the sources passed outside the split, never judged (TrafficSource.passedThrough): said with nothing_judged. */
  passedThrough?: () => number;
  /** The engine's steady clock (steadyNow): when a stage's end began waiting (see waitAt). */
  now(): number;
  emit(type: EventType, message: string, extra?: Partial<RolloutEvent>): void;
  rollback(breach: Breach): void;
  end(ending: Ending): Promise<void>;
}

export class StageSteps {
  /** The latest verdict's checks, shown in the snapshot. */
  checks: CheckResult[] = [];
  /** Green's error rate at each interval, the newest last (the dashboard's trend line). */
  readonly trend: number[] = [];
  /** on_inconclusive: extend — how many times the current stage was extended. */
  private extensions = 0;
  /**
   * The stages this run passed (0-based), each with why nothing of green was judged in it (undefined: something
   * was): the promotion says so, and a rollout that judged nothing in any stage rolls back instead.
   */
  private readonly passed = new Map<number, Unjudged | undefined>();
  /**
   * Set from a stage's time being up until it goes on (extended, paused) or the next stage is entered: the wait
   * for the sources and the next stage's traffic move (its on_stage hook) may take a while, and a resume meanwhile
   * must not run the spent clock, whose time-up would end the stage again (pass it twice, enter the next stage
   * twice, or judge the next stage before its time).
   */
  private stageEnding = false;
  /** What the stage's end waits for while it waits (requests in flight), and since when: see waitAt. */
  private waits: { since: number; wait: CatchUpWait }[] = [];
  /** Each passed stage's late results (MetricsRecorder.late) when it was last judged again on them: see judgeLate. */
  private readonly lateJudged = new Map<number, number>();
  /**
   * The first stage, when the rollout was paused before it began (`p` pressed as the dashboard came up): its traffic
   * move waits for the resume, so a pause that says traffic stays at 0% green keeps it there (stage 1's weight used
   * to be applied all the same, under a paused clock).
   */
  private heldEntry: number | undefined;
  /** The stage whose traffic move (its hooks, the proxies) is under way: a pause then can no longer hold it back. */
  private entering: number | undefined;

  constructor(private readonly parts: StageStepsParts) {}

  async enter(index: number): Promise<void> {
    const { plan, state } = this.parts;
    const stage = plan.stages[index];
    if (!stage) return;
    if (state.phase === 'paused' && !state.stageStarted) {
      this.heldEntry = index;
      return;
    }
    this.entering = index;
    let results;
    try {
      results = await this.parts.actuators.applyStage({ stage: index, stages: plan.stages.length, greenWeight: stage.green_weight });
    } finally {
      this.entering = undefined;
    }
    if (state.ending) return;
    const failed = results.find((result) => !result.ok);
    if (failed) {
      this.parts.rollback({
        rule: failed.rule ?? 'hook',
        figure: null,
        limit: 0,
        unit: 'count',
        sample: 0,
        message: `${failed.label} for stage ${index + 1} failed: ${failed.message}`,
      });
      return;
    }
    state.stageIndex = index;
    state.greenWeight = stage.green_weight;
    this.extensions = 0;
    state.stageStarted = true;
    this.parts.metrics.startStage(index);
    // The last stage's verdict is not this one's: shown until the next look, it labelled the old stage's figures
    // (samples, bounds) with the new stage's number for up to analysis.interval.
    this.checks = [];
    this.parts.stageClock.begin(stage.duration, state.phase === 'progressing');
    this.parts.emit(
      'stage_started',
      `stage ${index + 1}/${plan.stages.length} started: ${formatWeight(stage.green_weight)} green for ${formatDuration(stage.duration)}`,
    );
  }

  async timeUp(): Promise<void> {
    const { state, stageClock } = this.parts;
    if (state.ending) return;
    stageClock.stop();
    // Not reached while a stage ends (resume() leaves the spent clock alone then): kept so a second end can never
    // pass a stage twice or judge the next one early.
    if (this.stageEnding) return;
    this.stageEnding = true;
    try {
      await this.endStage();
    } finally {
      this.stageEnding = false;
    }
  }

  /** The stage's time is up: wait for what the sources have not recorded yet, judge it, then pass, extend or pause it. */
  private async endStage(): Promise<void> {
    const { judging, state } = this.parts;
    const index = state.stageIndex;
    // Its end is judged on the requests sent until now; those sent while it waits are not part of that judgement.
    if (this.parts.cutAtTimeUp) judging.cut(index);
    try {
      await this.judgeEnd();
    } finally {
      if (this.parts.cutAtTimeUp) judging.uncut(index);
    }
  }

  private async judgeEnd(): Promise<void> {
    const { plan, state, stageClock } = this.parts;
    // The last stage's end is the last judgement before the promotion: it waits for every stage's requests.
    const final = state.stageIndex + 1 >= plan.stages.length;
    let running = 0;
    if (this.parts.catchUp) {
      // Up to one poll of the stage's live results is not recorded yet, and generated requests sent in it may
      // still be in flight: judged without them, a stage as short as the poll interval passes with nothing judged,
      // and a failure answered just after its time is up is never judged in it. The wait is bounded (the request
      // timeout); an operator's pause meanwhile holds the stage (a resume during it lets it judge the stage; one
      // after it ends the stage again); an ending cuts it short. What answers later still is judged with its
      // stage at the next judgement (judgeLate), and the last stage's end waits for all of it (`final`).
      try {
        running = await this.parts.catchUp(state.stageIndex, (wait) => this.waits.push({ since: this.parts.now(), wait }), final);
      } finally {
        this.waits = [];
      }
      if (state.ending || state.phase === 'paused') return;
    }
    // The stage is judged once more at its end, so a breach in its last moments still counts: on all its requests so
    // far, then on those sent before its time was up, which decide whether it passes. Those sent during the wait and
    // still running would count there as outcomes unknown, and leave rules undecided (extend, pause) that the
    // requests sent in its time decide. Both are prefixes of each arm's requests in send order, looked at under one
    // anytime-valid bounds, so the second look costs no extra false rollbacks.
    this.analyse();
    if (state.ending) return;
    this.analyse(true);
    if (state.ending) return;
    const index = state.stageIndex;
    const { metrics } = this.parts;
    const step = stageEndStep(plan, index, this.checks, this.extensions, state.greenWeight, metrics.stages());
    this.extensions = step.extensions;
    if (step.kind !== 'pass') {
      this.parts.emit(step.event, step.message);
      stageClock.extend(step.extendByMs);
      if (step.kind === 'extend') stageClock.run();
      else this.pause('analysis');
      return;
    }
    metrics.judged(index, this.checks);
    this.passed.set(index, step.unjudged);
    const last = index + 1 >= plan.stages.length;
    const unjudged = last ? this.unjudgedStages() : [];
    if (last && unjudged.length === plan.stages.length && plan.analysis.on_unjudged === 'rollback') {
      // Nothing of green was judged anywhere: the last stage fails on that, and traffic goes back to blue.
      const greenRequests = metrics.stages().reduce((sum, stage) => sum + stage.arms.green.requests, 0);
      this.parts.rollback(nothingJudged(plan, unjudged, greenRequests, this.parts.passedThrough?.() ?? 0));
      return;
    }
    if (last && running > 0) {
      // Nothing would judge them after the promotion: a green failure among them would go unjudged (fail toward blue).
      this.parts.rollback(stillRunning(index, running));
      return;
    }
    metrics.endStage(index, 'passed');
    this.parts.emit('stage_passed', step.message);
    if (!last) await this.enter(index + 1);
    else await this.parts.end(endings.allStagesPassed(plan.stages.length, plan.arms.green.model, unjudged));
  }

  /**
   * Every stage that passed with nothing of green judged, in order: those this run passed as it judged them, and
   * those a dead run passed (rollout --resume) from the checks and figures it saved. A stage saved without its
   * checks (an older state.json) counts as judged: the dead run passed it, and nothing here says otherwise.
   */
  private unjudgedStages(): Unjudged[] {
    const { metrics, plan } = this.parts;
    const stages = metrics.stages();
    return stages.flatMap((stage, index) => {
      if (this.passed.has(index)) return this.passed.get(index) ?? [];
      if (stage.verdict !== 'passed' || stage.checks === undefined) return [];
      return unjudgedStage(plan, index, stage.checks, stages) ?? [];
    });
  }

  /**
   * The stage's end waiting for its requests in flight, as at `now` (on the steady clock: a wall clock stepped forward
   * read no time left); undefined when it is not (or none is left).
   */
  waitAt(now: number): StageEndWait | undefined {
    if (this.waits.length === 0 || this.parts.state.ending) return undefined;
    const requests = this.waits.reduce((sum, { wait }) => sum + wait.requests(), 0);
    if (requests === 0) return undefined;
    const upToMs = Math.max(0, ...this.waits.map(({ since, wait }) => since + wait.timeoutMs - now));
    const atProxies = this.waits.every(({ wait }) => wait.at === 'proxies' || wait.requests() === 0);
    const beforePromotion = this.waits.some(({ wait }) => wait.beforePromotion === true);
    return { stage: this.parts.state.stageIndex, requests, upToMs, ...(atProxies && { atProxies }), ...(beforePromotion && { beforePromotion }) };
  }

  /** Traffic goes on at the stage's weight; the stage clock stops until resumed. */
  pause(actor: string): void {
    const { state } = this.parts;
    if (state.phase !== 'progressing' || state.ending) return;
    state.phase = 'paused';
    this.parts.stageClock.stop();
    const entering = this.entering;
    const move = entering === undefined ? undefined : this.parts.plan.stages[entering];
    const holds =
      entering !== undefined && move
        ? `stage ${entering + 1}'s move to ${formatWeight(move.green_weight)} green is under way and cannot be held back: traffic goes on there, the stage clock is stopped`
        : state.stageStarted
          ? `traffic goes on at ${formatWeight(state.greenWeight)} green, the stage clock is stopped`
          : `stage ${state.stageIndex + 1} does not begin until resumed: nothing moves to green`;
    this.parts.emit('paused', `paused by ${actor}: ${holds}`, { actor });
  }

  /** The first stage a pause held back (see heldEntry), once: the resume enters it. */
  takeHeldEntry(): number | undefined {
    const index = this.heldEntry;
    this.heldEntry = undefined;
    return index;
  }

  resume(actor: string): void {
    const { state } = this.parts;
    if (state.phase !== 'paused' || state.ending) return;
    state.phase = 'progressing';
    // While a stage ends, the end under way goes on (see stageEnding); the next stage's clock starts on entering it.
    if (state.stageStarted && !this.stageEnding) this.parts.stageClock.run();
    this.parts.emit('resumed', `resumed by ${actor}`, { actor });
  }

  interval(): void {
    if (this.parts.state.ending) return;
    this.analyse();
    this.trend.push(this.parts.metrics.window('green').errorRate);
    if (this.trend.length > TREND_POINTS) this.trend.shift();
  }

  /** `sentBeforeCut`: the stage's end, on the requests sent before its time was up (StageJudging.cut). */
  analyse(sentBeforeCut = false): void {
    const { state } = this.parts;
    if (state.ending || !state.stageStarted) return;
    const verdict = this.parts.judging.verdict(state.stageIndex, this.parts.health, sentBeforeCut);
    this.checks = verdict.checks;
    if (verdict.breach) {
      this.parts.metrics.judged(state.stageIndex, verdict.checks);
      this.parts.rollback(verdict.breach);
      return;
    }
    this.judgeLate();
  }

  /**
   * The earlier stages that passed and recorded results since (requests that outlived their end's wait: a green
   * stream that kept going, a proxy's handed-over results) are judged again on all their results, by the same
   * rules and budget: the rules' bounds are anytime-valid, so judging a stage once more later costs no extra
   * false rollbacks, and late successes count as much as late failures. A breach there rolls back.
   */
  private judgeLate(): void {
    const { metrics, judging, state } = this.parts;
    for (let index = 0; index < state.stageIndex; index++) {
      const late = metrics.late(index);
      if (late <= (this.lateJudged.get(index) ?? 0)) continue;
      this.lateJudged.set(index, late);
      const { breach, checks } = judging.verdict(index);
      if (!breach) {
        // A stage this run passed with nothing of green judged may be judged now, on its late results: the
        // rollout's end (nothing_judged) must not count it as unjudged any more.
        if (this.passed.get(index) !== undefined) this.passed.set(index, unjudgedStage(this.parts.plan, index, checks, metrics.stages()));
        continue;
      }
      this.parts.rollback({
        ...breach,
        message: `stage ${index + 1} judged again on its ${formatPlural(late, 'result')} answered after it passed: ${breach.message}`,
      });
      return;
    }
  }
}

/** The last stage's end waited as long as a request can live, and some still run: nobody would judge them after a promotion. */
function stillRunning(stage: number, running: number): Breach {
  return {
    rule: 'still_running',
    figure: running,
    limit: 0,
    unit: 'count',
    sample: running,
    message: `${formatPlural(running, 'request')} begun before the promotion ${running === 1 ? 'is' : 'are'} still running after the longest a request can live (stage ${stage + 1}'s end waited that long): the promotion is the last judgement, and their answers would be judged by nothing; rolling back`,
  };
}
