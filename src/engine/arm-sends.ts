// An arm's requests by when they were sent, for the p95 ratio's sent-before bounds (src/analysis/quantile.ts): blue's
// upper bound (the breach side) and green's (the ok side). At a look, for each stage, how many of the arm's requests
// were sent before a moment, and the ages of those still running. The running ones are in an OverdueWatch (green's is
// the latency rules' watch too, with their limit), the sends counted in SendTimes' bins (bounded memory), each stage's
// sends numbered one after another (the watch's ids).
import { steadyNow, type Clock } from '../core/clock.js';
import type { SentBefore } from '../analysis/quantile.js';
import { OverdueWatch, type OverdueWatchOptions } from './overdue.js';
import { SendTimes } from './send-times.js';

export class ArmSends {
  /** The arm's running requests: green's tells the latency rules of those past their limit (StageJudging.overdue). */
  readonly running: OverdueWatch;
  private readonly times = new SendTimes();
  /** Per stage, the sends before its first (ids up to it) and its last send's id. */
  private readonly stages = new Map<number, { before: number; last: number }>();
  private lastStage = -Infinity;
  /**
   * False once a send went to an earlier stage than the last: the stages' id ranges would no longer be one after
   * another, and the judge is given no counts at all (it counts as before).
   */
  private exact = true;
  /**
   * Stages a send left without a result (cancelled by the ending): their counts are no longer their samples, and they
   * give none. Only theirs: another stage's counts are of its own id range, whose requests are all in its sample.
   */
  private readonly inexact = new Set<number>();

  /** `watch`: the running requests' watch's limit and its call (none: only ages are asked). */
  constructor(
    private readonly clock: Clock,
    watch: Omit<OverdueWatchOptions, 'clock'> = { onOverdue: () => {}, minGapMs: 0 },
  ) {
    this.running = new OverdueWatch({ ...watch, clock });
  }

  /** A request of the arm was sent in `stage`; returns its slot for ended(). */
  started(stage: number): number {
    if (stage < this.lastStage) this.exact = false;
    this.lastStage = stage;
    // One clock reading for both: a request just inside a bin's edge must not read an age just under it.
    const sentAt = steadyNow(this.clock);
    this.times.record(sentAt);
    const id = this.times.total;
    const counted = this.stages.get(stage);
    if (counted) counted.last = id;
    else this.stages.set(stage, { before: id - 1, last: id });
    return this.running.started(stage, sentAt);
  }

  /** Once for each started(), with its slot; `cancelled`: the request ends with no result (not in the sample). */
  ended(slot: number, cancelled = false): void {
    const stage = this.running.ended(slot);
    if (!cancelled) return;
    if (stage === undefined) this.exact = false;
    else this.inexact.add(stage);
  }

  /** The last request sent so far (a stage's cut: see view). */
  get lastStarted(): number {
    return this.times.total;
  }

  /**
   * The stage's requests of the arm at this moment, or undefined when the counts are not the sample's. `upTo`: only
   * those sent up to that id (a stage's end judged on what was sent before its time was up).
   */
  view(stage: number, upTo = Infinity): SentBefore | undefined {
    if (!this.exact || this.inexact.has(stage)) return undefined;
    const now = steadyNow(this.clock);
    const counted = this.stages.get(stage) ?? { before: 0, last: 0 };
    const last = Math.min(counted.last, upTo);
    const requests = Math.max(0, last - counted.before);
    const runningAgesMs = requests > 0 ? this.running.agesOver(-Infinity, stage, upTo) : [];
    return {
      requests,
      // Exact (each from its own send's reading at this look): lower bounds of their latencies for the lower edge too.
      runningAgesMs,
      runningAgesAtMostMs: runningAgesMs,
      // The same edge for every stage at one age (one SendTimes): their sums are a prefix of the arm's requests in the order sent.
      sentAtLeast: (ageMs) => Math.max(0, Math.min(this.times.sentBefore(now - ageMs), last) - counted.before),
    };
  }
}
