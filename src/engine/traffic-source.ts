// The seam for where requests come from: generated arrivals today (synthetic and sampled), the live proxies'
// figures next. A source records into the engine's metrics; the engine only starts, stops, catches up (a stage's end) and drains it.
import type { SentBefore } from '../analysis/quantile.js';
import type { Breach } from '../analysis/types.js';
import type { MetricsRecorder } from '../metrics/index.js';
import type { ArmName } from '../plan/plan.js';
import type { UpstreamResult } from '../upstream/types.js';

export interface TrafficContext {
  metrics: MetricsRecorder;
  /** The stage and weight requests go out at now; undefined before the first stage and once the rollout ends. */
  current(): { stage: number; greenWeight: number } | undefined;
  /** Called after each green result is recorded, so fast rules (consecutive errors) act at once. */
  onGreenResult(result: UpstreamResult, quality: { ok: boolean }): void;
  /** Told of every failed result, after it is recorded. */
  onFailure?(arm: ArmName, result: UpstreamResult): void;
  /** Told of each green request's start and end, when the plan has latency rules (see OverdueWatch) or the p95 ratio. */
  greenWatch?: { started(stage: number): number; ended(id: number, cancelled?: boolean): void };
  /** Told of each blue request's start and end, when the plan has the p95 ratio to blue (see ArmSends). */
  blueWatch?: { started(stage: number): number; ended(id: number, cancelled: boolean): void };
  /** Rolls the rollout back for a reason only the source sees (a live proxy that stopped answering). */
  breach?(breach: Breach): void;
  /** Journals a warning only the source sees (a live proxy that stopped answering, answers again, restarted). */
  warn?(message: string): void;
  /** Ends the rollout on blue for an internal error only the source sees (recording a result threw): exit 1. */
  fail(error: unknown): void;
}

/** What a stage's end is waiting for while it waits (shown in the snapshot: see StageEndWait). */
export interface CatchUpWait {
  /** Requests sent in the stage and still running, now. */
  requests(): number;
  /** The longest the wait goes on, from its start. */
  timeoutMs: number;
  /** Where those requests are running: the proxies' (live traffic), or this rollout's own (generated). */
  at?: 'proxies';
  /** The last stage's end: every stage's requests still running, waited for before the promotion. */
  beforePromotion?: boolean;
}

/**
 * A stage's end waiting for the sources: `stage`'s requests begun before it, or, with `final` (the last stage's end,
 * before the promotion, the last judgement), every stage's, up to the longest a request can live. Resolves to how
 * many it waited for are still running.
 */
export type CatchUp = (stage: number, waiting?: (wait: CatchUpWait) => void, final?: boolean) => Promise<number>;

export interface TrafficSource {
  start(): void;
  /** No new requests from now on. */
  stop(): void;
  /** Waits for requests in flight; after timeoutMs the rest are cancelled. */
  drain(timeoutMs: number): Promise<void>;
  /** Cancels everything in flight at once (a second Ctrl-C). */
  cancelAll(): void;
  /**
   * Called when `stage`'s time is up, before it is judged: brings in what was served in it but not yet recorded
   * (a live proxy's results since the last poll; generated requests sent in it and still in flight, waited for up
   * to a request's longest life, retries included), so the stage's end judges all of it. `waiting` is told what it
   * waits for when that may take a while (requests in flight), so the dashboard can say so. `final`: the last
   * stage's end, which waits for every stage's requests (see CatchUp). Resolves to how many are still running.
   */
  catchUp?: CatchUp;
  /**
   * Records every result with the tag its dispatch got (MetricsRecorder.recordDispatch), so a stage's end is judged on
   * the requests sent before its time was up (generated traffic; live traffic tags those its proxies began after
   * the end's first read, from each result's attempt number).
   */
  tagsSends?: boolean;
  /**
   * Requests the source saw pass outside the split, neither arm's and never judged (a live proxy's passthrough: other
   * models than blue's): said when a rollout ends with nothing judged, as where its traffic went.
   */
  passedThrough?(): number;
  /**
   * The arm's send times in `stage` as of the source's last read, when they are the arm's whole sample there (live
   * traffic: src/live/live-sent.ts), for the p95 ratio's sent-before bound on that arm; undefined when not.
   */
  sent?(arm: ArmName, stage: number): SentBefore | undefined;
}

export type TrafficSourceFactory = (context: TrafficContext) => TrafficSource;

/** The requests every source passed outside the split (TrafficSource.passedThrough); undefined when none can say. */
export function passedThroughOf(sources: readonly TrafficSource[]): (() => number) | undefined {
  const counts = sources.flatMap((source) => (source.passedThrough ? [source.passedThrough.bind(source)] : []));
  return counts.length === 0 ? undefined : () => counts.reduce((sum, count) => sum + count(), 0);
}

/** One wait for the sources that may hold a stage's results not recorded yet; undefined when none do. */
export function catchUpOf(sources: readonly TrafficSource[]): CatchUp | undefined {
  const waits: CatchUp[] = [];
  for (const source of sources) {
    const wait = source.catchUp?.bind(source);
    if (wait) waits.push(wait);
  }
  if (waits.length === 0) return undefined;
  return async (stage, waiting, final) => {
    const running = await Promise.all(waits.map((wait) => wait(stage, waiting, final)));
    return running.reduce((sum, requests) => sum + requests, 0);
  };
}
