// What the engine publishes: events (also the journal's lines) and the snapshot (also state.json).
import type { Breach, CheckResult } from '../analysis/types.js';
import type { ArmName } from '../plan/plan.js';
import type { StageStats, WindowStats } from '../metrics/types.js';

export type Phase = 'starting' | 'progressing' | 'paused' | 'promoted' | 'rolled_back' | 'aborted' | 'interrupted' | 'failed';

/** Frozen: exported to library users, whose JavaScript has no readonly to stop a push. */
export const FINAL_PHASES: readonly Phase[] = Object.freeze(['promoted', 'rolled_back', 'aborted', 'interrupted', 'failed']);

export type EventType =
  | 'rollout_started'
  | 'stage_started'
  | 'stage_passed'
  | 'stage_extended'
  | 'stage_undecided'
  | 'paused'
  | 'resumed'
  | 'promote_requested'
  | 'abort_requested'
  | 'breach'
  | 'rolled_back'
  | 'promoted'
  | 'aborted'
  | 'interrupted'
  | 'failed'
  | 'hook_succeeded'
  | 'hook_failed'
  | 'health_check_failed'
  | 'health_check_recovered'
  | 'warning'
  | 'drained'
  | 'finished';

export interface RolloutEvent {
  /** Epoch ms. */
  at: number;
  type: EventType;
  /** Zero-based stage index, when the event belongs to a stage. */
  stage?: number;
  greenWeight?: number;
  /** One human sentence. */
  message: string;
  /** Who asked, for operator controls ("alice@host pid 1234"). */
  actor?: string;
  breach?: Breach;
  data?: Record<string, unknown>;
}

export interface RolloutSnapshot {
  version: 1;
  plan: {
    name: string;
    file: string;
    hash: string;
    blueModel: string;
    greenModel: string;
    /**
     * `blueSoFar`: the stage's comparisons with blue judge against blue's requests of every stage so far, pooled
     * (analysis/reference.ts: the stage sends blue too few), not its own; said beside them. Absent before session 36.
     */
    stages: { name?: string; durationMs: number; greenWeight: number; blueSoFar?: true }[];
    /** analysis.min_requests (at least 1, as judged): a waiting check's count towards it. Absent before session 27. */
    minRequests?: number;
  };
  pid: number;
  /** The rollout process's start time (processStartTime), stamped on state.json by the CLI: absent before session 21. */
  pidStart?: string;
  /** The boot it runs in (bootId()), stamped with pidStart: absent before session 23. */
  bootId?: string;
  phase: Phase;
  startedAt: number;
  updatedAt: number;
  endedAt?: number;
  /** Zero-based index of the current (or last) stage. */
  stageIndex: number;
  /** Time spent in the current stage, pauses excluded. */
  stageElapsedMs: number;
  greenWeight: number;
  stages: StageStats[];
  checks: CheckResult[];
  breach?: Breach;
  /** Why the rollout ended, in one sentence. */
  reason?: string;
  exitCode?: number;
  /**
   * The command that put a dead run back on blue and recorded its end (`bluegreen rollback`, or a new `bluegreen
   * rollout` before it starts; state/orphan.ts markRecovered): exitCode is then the dead run's (5), not that
   * command's. Absent otherwise, and in records from before session 29.
   */
  recoveredBy?: string;
  window: Record<ArmName, WindowStats>;
  /** Green error rate over time (one point per analysis), for the trend line. */
  greenErrorTrend: number[];
  recentEvents: RolloutEvent[];
  /** While a stage's time is up and its end waits for requests sent in it, before judging it (absent otherwise). */
  stageEndWait?: StageEndWait;
}

/**
 * A stage's end waiting for the requests sent in it (they count in its judgement): its time is up, yet it goes on
 * for up to a request's longest life, retries included, which can be minutes. Said so the wait is not a silent hang.
 */
export interface StageEndWait {
  /** Zero-based. */
  stage: number;
  /** Requests sent in the stage and still running, when the snapshot was taken. */
  requests: number;
  /** How much longer it waits at most, from the snapshot's updatedAt. */
  upToMs: number;
  /** Every one of them is running at the proxies (live traffic), none is this rollout's own. */
  atProxies?: boolean;
  /** The last stage's end: every stage's requests still running, waited for before the promotion. */
  beforePromotion?: boolean;
}

/** What a reporter (dashboard, lines) may see and do of a running rollout. */
export interface RolloutView {
  snapshot(): RolloutSnapshot;
  onEvent(listener: (event: RolloutEvent) => void): () => void;
  pause(actor?: string): void;
  resume(actor?: string): void;
  promote(actor?: string): void;
  abort(actor?: string): void;
}
