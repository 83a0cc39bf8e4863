// The proxy's figures per arm: the traffic path's MetricsRecorder (so requests, failures by class, latency,
// TTFT, tokens and cost are counted the same way and judged by the same analysis), plus what only a proxy
// has: fallbacks, mirrors, client aborts and requests it refused itself. Two sets are kept: since the proxy
// started (Prometheus counters must only grow) and since the current stage began (what a rollout judges).
import type { QualityChecker, QualityOutcome } from '../analysis/quality.js';
import { MetricsRecorder } from '../metrics/recorder.js';
import type { ArmStats } from '../metrics/types.js';
import type { Redactor } from '../core/redact.js';
import type { ArmName } from '../plan/plan.js';
import type { Price } from '../plan/schema.js';
import type { UpstreamResult } from '../upstream/types.js';
import { SendTimes } from '../engine/send-times.js';
import { ageStepAtOrAbove, ageStepMs, MAX_AGE_STEP } from '../metrics/send-ages.js';

/** Why the proxy answered a request itself instead of forwarding it. */
export type RejectReason = 'unauthorized' | 'bad_request' | 'too_large' | 'overloaded' | 'not_found' | 'model_not_allowed' | 'timeout';
export const REJECT_REASONS: readonly RejectReason[] = ['unauthorized', 'bad_request', 'too_large', 'overloaded', 'not_found', 'model_not_allowed', 'timeout'];

export interface ProxyArmFigures extends ArmStats {
  /** Requests whose client went away before the answer was whole; not counted as requests. */
  clientAborts: number;
}

export interface ProxyFigures {
  /** Epoch ms the figures start from. */
  since: number;
  /** The stage the figures belong to, as the controller numbered it; absent for the lifetime set. */
  stage?: number;
  arms: Record<ArmName, ProxyArmFigures>;
  /** Green attempts that failed before their first byte and were answered by blue. */
  fallbacks: number;
  /** Copies sent to green in the background (judged), and copies dropped at the mirror in-flight limit. */
  mirrors: { sent: number; dropped: number };
  rejected: Record<RejectReason, number>;
  /** Requests for other models, sent to blue's upstream untouched and kept out of the arms' figures. */
  passedThrough: number;
}

/** The quality outcome a result with no answer carries (only answers are checked). */
const NO_QUALITY_CHECK: QualityOutcome = Object.freeze({ ok: true });

/** Where one recorded result came from. */
export type ResultKind = 'routed' | 'fallback' | 'mirror';

/** The split path a result was answered on (Prometheus's `path` label): chat (or Anthropic's messages), or the Responses API. */
export type SplitPathName = 'chat' | 'responses';

/**
 * `stage` is the controller's stage number in force (undefined before any rollout set one); `path` the split path
 * an answered result came on (not given with a client abort); `sent` its attempt's number (Attempt.seq: send order).
 */
export type ResultListener = (
  result: UpstreamResult,
  kind: ResultKind,
  quality: QualityOutcome,
  stage: number | undefined,
  path?: SplitPathName,
  sent?: number,
) => void;

interface FigureOptions {
  prices: Record<ArmName, Price | undefined>;
  now: () => number;
  /** This process's steady clock (ms): the arms' send ages (SentReport) are measured on it alone. */
  steadyNow?: () => number;
}

/**
 * One attempt under way (ProxyMetrics.started): the figures it counts in besides the lifetime set, those of the stage
 * in force when its request started (so a request routed by one stage's weights never counts in the next stage's
 * figures), and its number among the attempts started, by which a stage's end waits for those begun before it.
 */
export interface Attempt {
  readonly at: FigureSet;
  readonly seq: number;
  readonly arm: ArmName;
  /** Its slot among `at`'s attempts under way (RunningAttempts). */
  readonly slot: number;
  /** Blue answering for green: not a request the split sent blue. */
  readonly fallback: boolean;
  /** Pinned to blue outside the split (chat.ts, stored state): neutral whatever its answer, none of blue's sends. */
  readonly unsplit: boolean;
  /** Its start on the steady clock, where its stage's sends record it (FigureSet.sends); 0 otherwise. */
  readonly start: number;
}

/**
 * The attempts under way in one figure set: their numbers and arms in slots (a freed slot is reused), not a Map. A
 * Map that entries come and go in rehashes into a new table every few dozen of them, each old table keeping a link
 * to the next: once one table is old (after a stall or a mark-compact), every later one is promoted through it
 * until the next mark-compact, ~57 B of old-generation garbage a request (docs/benchmarks-history.md, session 21; the
 * Set of answers in-flight.ts replaced was the same pattern holding whole requests).
 */
class RunningAttempts {
  /** Each slot's attempt number; 0 for a free slot (numbers start at 1). */
  private readonly seqs: number[] = [];
  private readonly arms: ArmName[] = [];
  private readonly streams: boolean[] = [];
  /** Whether each slot's attempt is blue answering for green (a fallback). */
  private readonly fallbacks: boolean[] = [];
  /** Whether each slot's attempt is pinned outside the split (Attempt.unsplit): no running request any rule waits for. */
  private readonly unsplits: boolean[] = [];
  /** Each slot's start on the proxy's steady clock. */
  private readonly starts: number[] = [];
  private readonly free: number[] = [];
  size = 0;

  /** The slot the attempt takes. */
  add(seq: number, arm: ArmName, stream: boolean, fallback: boolean, start: number, unsplit: boolean): number {
    const slot = this.free.pop() ?? this.seqs.length;
    this.seqs[slot] = seq;
    this.starts[slot] = start;
    this.arms[slot] = arm;
    this.streams[slot] = stream;
    this.fallbacks[slot] = fallback;
    this.unsplits[slot] = unsplit;
    this.size++;
    return slot;
  }

  /** Frees the attempt's slot; false when it was freed already (the attempt ended before). */
  delete(slot: number, seq: number): boolean {
    if (this.seqs[slot] !== seq) return false;
    this.seqs[slot] = 0;
    this.free.push(slot);
    this.size--;
    return true;
  }

  /**
   * Adds to `count` the attempts numbered up to `upTo`, those of them on green and of those the streamed ones, and the
   * fallbacks; not those pinned outside the split: neutral, no outcome a rollout judges is unknown while they run.
   */
  countUpTo(upTo: number, count: { requests: number; green: number; greenStreamed: number; fallbacks: number }): void {
    const { seqs, arms, streams, fallbacks, unsplits } = this;
    for (let slot = 0; slot < seqs.length; slot++) {
      const seq = seqs[slot] as number;
      if (seq === 0 || seq > upTo || unsplits[slot] === true) continue;
      count.requests++;
      if (arms[slot] !== 'green') {
        if (fallbacks[slot] === true) count.fallbacks++;
        continue;
      }
      count.green++;
      if (streams[slot] === true) count.greenStreamed++;
    }
  }

  /** The arm's own attempts under way (not blue's fallbacks, nor those pinned outside the split) by age at `now`, each on the first grid age at or above its own. */
  ages(arm: ArmName, now: number): number[] {
    const running: number[] = [];
    for (let slot = 0; slot < this.seqs.length; slot++) {
      if (this.seqs[slot] === 0 || this.arms[slot] !== arm || this.fallbacks[slot] === true || this.unsplits[slot] === true) continue;
      const step = ageStepAtOrAbove(now - (this.starts[slot] as number));
      while (running.length <= step) running.push(0);
      running[step] = (running[step] as number) + 1;
    }
    return running;
  }
}

/**
 * A stage's sends of one arm as the proxy saw them (GET /admin/results, inFlight.blueSent and inFlight.greenSent), for
 * the rollout's p95 ratio judged sent-before (src/live/live-sent.ts): the arm's attempts begun in the stage's figures
 * whose results the rollout judges as the arm's, and at the read, on the proxy's steady clock alone (no other
 * machine's clock is mixed in): `sentAtLeast[k]` of them begun at least ageStepMs(k) before it (exact at a moment at or
 * before that: SendTimes), and `running[k]` of those still under way aged up to ageStepMs(k) (each counted at the grid
 * age above its own: older, so over more limits). Blue's: its own attempts, not its answers to green's fallbacks (a
 * rollout files those as fallbacks, in neither arm's sample). Green's: every attempt on green, the split's (one that
 * failed and fell back included: its failure is a green result) and mirror copies (judged as green's results too).
 * `exact` false once one of them ended without a result in the feed (a client gone after the first bytes, a mirror
 * copy cut by the proxy's shutdown, the proxy's own error): the counts are then not the sample's, and the rollout
 * judges the stage conservatively.
 */
export interface SentReport {
  stage: number;
  controller?: string;
  sends: number;
  exact: boolean;
  sentAtLeast: number[];
  running: number[];
}

/**
 * The attempts under way per stage tag (GET /admin/results `inFlight`): a rollout ending a stage waits until none
 * begun before its time was up is left, so a late answer (a hanging green's timeout) is judged in its stage.
 */
export interface InFlightByStage {
  /** The number of the last attempt started: pass it back as `inFlightUpTo` to count only those begun up to it. */
  started: number;
  /**
   * Stage tags with attempts under way (numbered up to `inFlightUpTo` when asked), mirrors and fallbacks included;
   * `green`: those of them on green (its split requests and mirror copies), what a promotion waits for; absent from
   * proxies before session 18. `greenStreamed`: of green's, the streamed ones, which alone a rollout's ttft_p95 counts
   * as outcomes unknown (absent from proxies before session 29: it counts all of green's). `controller`: the rollout
   * run that set the route the stage tag is of (absent for one set by hand, and from proxies before session 28), so a
   * rollout counts its own stage 2, not another run's. `fallbacks`: those of them blue answering for green, absent when
   * none (and from proxies before session 29): what a rollout's ending waits for, so its report counts a fallback for
   * each of green's failures that fell back.
   */
  stages: { stage: number; controller?: string; requests: number; green?: number; greenStreamed?: number; fallbacks?: number }[];
  /**
   * With `inFlightUpTo`: every attempt under way per stage tag, as `stages` is without it, so a reader waiting for
   * some also knows all (a rollout's arms count them as requests in flight); absent from proxies before session 27.
   */
  all?: InFlightByStage['stages'];
  /** The stage's figures in force and those with attempts under way: blue's sends (SentReport); absent before session 33. */
  blueSent?: SentReport[];
  /** The same stages' green sends (SentReport); absent before session 35 (a rollout then judges green conservatively). */
  greenSent?: SentReport[];
}

/** One set of figures from a moment on. */
class FigureSet {
  private readonly recorder: MetricsRecorder;
  readonly since: number;
  readonly clientAborts: Record<ArmName, number> = { blue: 0, green: 0 };
  readonly rejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  fallbacks = 0;
  mirrorsSent = 0;
  mirrorsDropped = 0;
  passed = 0;
  /** The attempts counting here and under way, with their arm. */
  readonly running = new RunningAttempts();
  /** A stage's attempts per arm by start (SentReport: blue's own, every one of green's); none in the lifetime set. */
  readonly sends?: Record<ArmName, SendTimes>;
  /** Per arm, false once one of those ended with no result in the feed (SentReport.exact). */
  readonly exact: Record<ArmName, boolean> = { blue: true, green: true };

  constructor(
    options: FigureOptions,
    readonly stage?: number,
    /** The rollout run whose route set the stage (absent: set by hand, or the lifetime set). */
    readonly controller?: string,
  ) {
    this.since = options.now();
    // The recorder keeps figures per stage; each set is one stage of its own.
    // No live window: nothing reads it (a rollout judges the proxy's results, recorded into its own recorder).
    this.recorder = new MetricsRecorder({
      stages: [{ name: 'live', durationMs: 0, greenWeight: 0 }],
      prices: options.prices,
      now: options.now,
      liveWindow: false,
    });
    this.recorder.startStage(0);
    if (stage !== undefined) this.sends = { blue: new SendTimes(), green: new SendTimes() };
  }

  report(arm: ArmName, now: number): SentReport | undefined {
    const sends = this.sends?.[arm];
    if (this.stage === undefined || !sends) return undefined;
    const sentAtLeast: number[] = [];
    for (let step = 0; step <= MAX_AGE_STEP; step++) {
      const count = sends.sentBefore(now - ageStepMs(step));
      if (count === 0) break;
      sentAtLeast.push(count);
    }
    const { stage, controller } = this;
    return {
      stage,
      ...(controller !== undefined && { controller }),
      sends: sends.total,
      exact: this.exact[arm],
      sentAtLeast,
      running: this.running.ages(arm, now),
    };
  }

  record(result: UpstreamResult, quality: QualityOutcome): void {
    this.recorder.recordResult(0, result, quality);
  }

  snapshot(inFlight: Record<ArmName, number>): ProxyFigures {
    const stats = this.recorder.stage(0);
    const arm = (name: ArmName): ProxyArmFigures => ({ ...stats.arms[name], inFlight: inFlight[name], clientAborts: this.clientAborts[name] });
    return {
      since: this.since,
      ...(this.stage !== undefined && { stage: this.stage }),
      arms: { blue: arm('blue'), green: arm('green') },
      fallbacks: this.fallbacks,
      mirrors: { sent: this.mirrorsSent, dropped: this.mirrorsDropped },
      rejected: { ...this.rejected },
      passedThrough: this.passed,
    };
  }
}

export class ProxyMetrics {
  private readonly lifetime: FigureSet;
  private current: FigureSet;
  private readonly inFlight: Record<ArmName, number> = { blue: 0, green: 0 };
  /** Attempts started so far (each one's number). */
  private attempts = 0;
  /**
   * The figure sets with attempts under way: few (the current stage's, and a previous one's late answers). An array,
   * not a Set: a set goes in and out of it as its count passes 0, which can be every request (RunningAttempts).
   */
  private readonly busy: FigureSet[] = [];
  private readonly listeners: ResultListener[] = [];
  private readonly abortListeners: ResultListener[] = [];
  private readonly quality: QualityChecker;

  constructor(private readonly options: FigureOptions & { quality: QualityChecker; redactor?: Redactor }) {
    this.quality = options.quality;
    this.lifetime = new FigureSet(options);
    this.current = this.lifetime;
  }

  /**
   * Figures from here on belong to `stage` as `controller` numbered it (another run's stage 2 is not this one's);
   * the lifetime set goes on.
   */
  startStage(stage: number, controller?: string): void {
    if (this.current.stage === stage && this.current.controller === controller) return;
    this.current = new FigureSet(this.options, stage, controller);
  }

  /** Called with every recorded result (the Prometheus histograms listen here). */
  onResult(listener: ResultListener): void {
    this.listeners.push(listener);
  }

  /**
   * An attempt starts, streamed or not: it counts in the figures of the stage in force now, whenever it ends, or in those of
   * `first` (the request's first attempt: blue answering for green counts where green's attempt did). `unsplit`: pinned
   * to blue outside the split (Attempt.unsplit), known before it starts so it is never one of blue's sends.
   */
  started(arm: ArmName, stream: boolean, first?: Attempt, unsplit = false): Attempt {
    this.inFlight[arm]++;
    const at = first?.at ?? this.current;
    const seq = ++this.attempts;
    if (at.running.size === 0) this.busy.push(at);
    // Blue after the same request's attempt on green is blue answering for green (chat.ts).
    const fallback = arm === 'blue' && first?.arm === 'green';
    // Sends are timed for a stage's report alone (SentReport): no clock reading outside a stage's figures (a proxy no
    // rollout drives), nor for a fallback, whose start no report reads, nor for a neutral-to-be request (unsplit).
    const sends = fallback || unsplit ? undefined : at.sends?.[arm];
    const start = sends ? this.steadyNow() : 0;
    sends?.record(start);
    return { at, seq, arm, fallback, unsplit, start, slot: at.running.add(seq, arm, stream, fallback, start, unsplit) };
  }

  /** The attempts under way by stage tag; `upTo`: only those numbered up to it (begun before a stage's end). */
  inFlightByStage(upTo = Infinity): InFlightByStage {
    const stages = this.countByStage(upTo);
    // One reading of the clock: both arms' reports are of the same moment, the page's.
    const now = this.steadyNow();
    const all = upTo !== Infinity && { all: this.countByStage(Infinity) };
    return { started: this.attempts, stages, ...all, blueSent: this.reports('blue', now), greenSent: this.reports('green', now) };
  }

  /** The arm's sends in the stage in force and in each stage with attempts under way (SentReport). */
  private reports(arm: ArmName, now: number): SentReport[] {
    const reports: SentReport[] = [];
    const sets = this.busy.includes(this.current) ? this.busy : [this.current, ...this.busy];
    for (const set of sets) {
      const report = set.report(arm, now);
      if (report) reports.push(report);
    }
    return reports;
  }

  private steadyNow(): number {
    return this.options.steadyNow?.() ?? performance.now();
  }

  /** Per stage tag and whose it is: the busy sets are few, so a list searched beats a key built per set. */
  private countByStage(upTo: number): InFlightByStage['stages'] {
    const counts: { stage: number; controller?: string; requests: number; green: number; greenStreamed: number; fallbacks: number }[] = [];
    for (const set of this.busy) {
      const { stage, controller } = set;
      if (stage === undefined) continue;
      let count = counts.find((c) => c.stage === stage && c.controller === controller);
      if (!count) counts.push((count = { stage, ...(controller !== undefined && { controller }), requests: 0, green: 0, greenStreamed: 0, fallbacks: 0 }));
      set.running.countUpTo(upTo, count);
    }
    const running: InFlightByStage['stages'] = [];
    for (const { fallbacks, ...count } of counts) if (count.requests > 0) running.push(fallbacks > 0 ? { ...count, fallbacks } : count);
    return running;
  }

  /**
   * Before its result is told to the listeners (the results feed): a reader never sees it both running and done.
   * Once per attempt: a second end (an error of the proxy's own after the first, see abandon) changes nothing.
   */
  private ended(arm: ArmName, attempt: Attempt): void {
    const { at, seq, slot } = attempt;
    if (!at.running.delete(slot, seq)) return;
    this.inFlight[arm]--;
    if (at.running.size === 0) this.busy.splice(this.busy.indexOf(at), 1);
  }

  /**
   * The proxy's own code failed while the attempt ran (chat.ts's `bug` path): it is no longer under way, though
   * nothing of it is recorded. Without this a stage's end waited for it to its bound (GET /admin/results inFlight).
   */
  abandon(attempt: Attempt): void {
    this.ended(attempt.arm, attempt);
    // One pinned outside the split was none of the arm's sends: they are still the sample's.
    if (!attempt.unsplit) attempt.at.exact[attempt.arm] = false;
  }

  /** Called with each client abort before the first byte, as a client_abort result (the results feed listens). */
  onAbandoned(listener: ResultListener): void {
    this.abortListeners.push(listener);
  }

  /**
   * The client went away: the attempt is neither a success nor the arm's failure here. `abandoned`, when it went
   * before the first byte, goes to the abort listeners only (not the figures, not the latency histograms), as `kind`
   * (a mirror copy's: neutral.ts recordRefusal).
   */
  cancelled(arm: ArmName, attempt: Attempt, abandoned?: UpstreamResult, kind: ResultKind = 'routed'): void {
    this.ended(arm, attempt);
    const { at } = attempt;
    if (abandoned?.neutral) this.unsent(attempt);
    // No result in the feed (gone after its first bytes, a mirror copy cut by the shutdown), or one a rollout records
    // as blue's though blue answered for green: the arm's sends are no longer its sample.
    if ((!abandoned || attempt.fallback) && !attempt.unsplit) at.exact[arm] = false;
    this.both(at, (set) => set.clientAborts[arm]++);
    if (abandoned) for (const listener of this.abortListeners) listener(abandoned, kind, NO_QUALITY_CHECK, at.stage, undefined, attempt.seq);
  }

  finished(answered: UpstreamResult, kind: ResultKind, attempt: Attempt, path: SplitPathName = 'chat'): void {
    this.ended(answered.arm, attempt);
    const { at } = attempt;
    if (answered.neutral) this.unsent(attempt);
    const result = this.redacted(answered);
    const quality = this.quality(result);
    // Not through both(): a closure a request for two calls.
    this.lifetime.record(result, quality);
    if (at !== this.lifetime) at.record(result, quality);
    if (kind === 'mirror') this.both(at, (set) => set.mirrorsSent++);
    for (const listener of this.listeners) listener(result, kind, quality, at.stage, path, attempt.seq);
  }

  /**
   * A neutral result's attempt is none of its arm's sends (SentReport): a rollout leaves its result out of the arm's
   * sample (live-sent.ts), so the sends stay that sample's.
   */
  private unsent(attempt: Attempt): void {
    if (!attempt.fallback && !attempt.unsplit) attempt.at.sends?.[attempt.arm].remove(attempt.start);
  }

  /**
   * An upstream's own error message (a 200 carrying an error) may quote its key: the figures' failure samples and
   * the results feed go to a rollout, which may not know the key, and on into its state and reports. A copy when
   * there is something to cut: the caller's result stays as it was.
   */
  private redacted(result: UpstreamResult): UpstreamResult {
    const { redactor } = this.options;
    if (result.errorMessage === undefined || !redactor) return result;
    const errorMessage = redactor.text(result.errorMessage);
    return errorMessage === result.errorMessage ? result : { ...result, errorMessage };
  }

  fellBack(attempt: Attempt): void {
    this.both(attempt.at, (set) => set.fallbacks++);
  }

  passedThrough(): void {
    this.each((set) => set.passed++);
  }

  mirrorDropped(): void {
    this.each((set) => set.mirrorsDropped++);
  }

  reject(reason: RejectReason): void {
    this.each((set) => set.rejected[reason]++);
  }

  inFlightOf(arm: ArmName): number {
    return this.inFlight[arm];
  }

  /** Since the proxy started. */
  snapshot(): ProxyFigures {
    return this.lifetime.snapshot(this.inFlight);
  }

  /** Since the current stage began (the lifetime figures before any stage was set). */
  stageSnapshot(): ProxyFigures {
    return this.current.snapshot(this.inFlight);
  }

  private each(apply: (set: FigureSet) => void): void {
    this.both(this.current, apply);
  }

  /** The lifetime set and `at` (once, when they are the same). */
  private both(at: FigureSet, apply: (set: FigureSet) => void): void {
    apply(this.lifetime);
    if (at !== this.lifetime) apply(at);
  }
}
